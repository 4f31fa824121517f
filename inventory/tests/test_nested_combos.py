"""Combos inside combos (a case of 4 dozens, a dozen of 12 cans): receipts and issues move the
cans, never the inner combo, and a case's available quantity counts the cans."""

import threading

import psycopg2
import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from inventory import hooks, ledger
from inventory.exceptions import InsufficientStock, NotAllowed
from inventory.models import StockBalance, StockMovement
from inventory.selectors.stock import goods_available
from inventory.tests.factories import ComboComponentFactory, GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

Kind = StockMovement.Kind
DOC = ledger.Document(type="other", ref="NEST")
GOODS_TABLE = '"inventory_goods"'


def case_of_dozens(prefix: str = ""):
    """CASE = 4 x DOZEN, DOZEN = 12 x CAN: 48 cans a case."""
    case = GoodsFactory(sku=f"{prefix}CASE", is_combo=True)
    dozen = GoodsFactory(sku=f"{prefix}DOZEN", is_combo=True)
    can = GoodsFactory(sku=f"{prefix}CAN")
    ComboComponentFactory(combo=case, component=dozen, quantity=4)
    ComboComponentFactory(combo=dozen, component=can, quantity=12)
    return case, dozen, can


def receive(lines):
    return ledger.receive(kind=Kind.INBOUND_PURCHASE, lines=lines, document=DOC)


def ship(goods, bin_, quantity):
    return ledger.issue(
        kind=Kind.OUTBOUND_ORDER_SHIPMENT,
        warehouse_id=bin_.warehouse_id,
        lines=[ledger.Pick(goods_id=goods.pk, quantity=quantity)],
        document=DOC,
    )


@pytest.mark.django_db
def test_receiving_cases_of_dozens_puts_the_cans_on_hand():
    # given
    bin_ = BinFactory()
    case, dozen, can = case_of_dozens()

    # when
    receive([ledger.Receipt(goods_id=case.pk, bin_id=bin_.pk, quantity=2)])

    # then
    assert dict(StockBalance.objects.values_list("goods_id", "on_hand")) == {can.pk: 96}
    assert not StockBalance.objects.filter(goods__in=[case, dozen]).exists()
    assert list(StockMovement.objects.values_list("balance__goods_id", "on_hand_delta")) == [
        (can.pk, 96)
    ]


@pytest.mark.django_db
def test_a_goods_met_by_two_paths_is_received_on_both():
    # given: a case of 4 dozens and 2 loose cans
    bin_ = BinFactory()
    case, _dozen, can = case_of_dozens()
    ComboComponentFactory(combo=case, component=can, quantity=2)

    # when
    receive([ledger.Receipt(goods_id=case.pk, bin_id=bin_.pk, quantity=1)])

    # then
    assert StockBalance.objects.get(goods=can).on_hand == 50
    assert goods_available([case.pk])[case.pk] == 1


@pytest.mark.django_db
def test_issuing_a_case_takes_48_cans():
    # given
    bin_ = BinFactory()
    case, dozen, can = case_of_dozens()
    balance = receive_stock(can, bin_, 100)

    # when
    ship(case, bin_, 1)

    # then
    balance.refresh_from_db()
    assert balance.on_hand == 52
    assert not StockBalance.objects.filter(goods__in=[case, dozen]).exists()


@pytest.mark.django_db
def test_issuing_more_cases_than_the_cans_make_is_refused_and_writes_nothing():
    # given
    bin_ = BinFactory()
    case, _dozen, can = case_of_dozens()
    balance = receive_stock(can, bin_, 50)
    movements = StockMovement.objects.count()

    # when
    with pytest.raises(InsufficientStock, match="Not enough CAN: 96 requested, 50 available"):
        ship(case, bin_, 2)

    # then
    balance.refresh_from_db()
    assert (balance.on_hand, balance.reserved, balance.frozen) == (50, 0, 0)
    assert StockMovement.objects.count() == movements
    assert StockBalance.objects.count() == 1


@pytest.mark.django_db
def test_available_cases_and_dozens_count_the_cans_per_warehouse():
    # given: 100 cans in one warehouse, 30 in another
    first, second = BinFactory(), BinFactory()
    case, dozen, can = case_of_dozens()
    receive_stock(can, first, 100)
    receive_stock(can, second, 30)

    # when
    here = goods_available([case.pk, dozen.pk, can.pk], warehouse_id=first.warehouse_id)
    there = goods_available([case.pk, dozen.pk], warehouse_id=second.warehouse_id)
    everywhere = goods_available([case.pk, dozen.pk])

    # then
    assert here == {case.pk: 2, dozen.pk: 8, can.pk: 100}
    assert there == {case.pk: 0, dozen.pk: 2}
    assert everywhere == {case.pk: 2, dozen.pk: 10}


@pytest.mark.django_db
def test_a_case_holding_a_combo_without_components_is_not_available():
    # given: 100 cans; CASE also holds a combo without components, PAIR is 2 dozens
    bin_ = BinFactory()
    case, dozen, can = case_of_dozens()
    receive_stock(can, bin_, 100)
    empty = GoodsFactory(sku="EMPTY", is_combo=True)
    ComboComponentFactory(combo=case, component=empty, quantity=1)
    pair = ComboComponentFactory(component=dozen, quantity=2).combo

    # when
    available = goods_available([case.pk, pair.pk, dozen.pk])

    # then
    assert available == {case.pk: 0, pair.pk: 4, dozen.pk: 8}


@pytest.mark.django_db
def test_nested_expansion_reads_a_fixed_number_of_queries_whatever_the_lines(
    django_assert_max_num_queries,
):
    # given: ten cases of dozens of cans, each its own goods, received once (balances exist)
    bin_ = BinFactory()
    cases = [case_of_dozens(f"P{n}-")[0] for n in range(10)]

    def receipt(goods):
        return [ledger.Receipt(goods_id=g.pk, bin_id=bin_.pk, quantity=1) for g in goods]

    receive(receipt(cases))
    with CaptureQueriesContext(connection) as one:
        receive(receipt(cases[:1]))

    # when / then
    with django_assert_max_num_queries(len(one)):
        receive(receipt(cases))
    on_hand = StockBalance.objects.filter(goods__sku__endswith="-CAN").values_list(
        "on_hand", flat=True
    )
    assert sorted(on_hand) == [96] * 9 + [144]
    assert not StockBalance.objects.filter(goods__is_combo=True).exists()


@pytest.mark.django_db
def test_a_combo_that_contains_itself_is_refused_not_expanded_forever():
    # given: a loop the editor and the import refuse, written straight to the table
    bin_ = BinFactory()
    case, dozen, can = case_of_dozens()
    ComboComponentFactory(combo=dozen, component=case, quantity=1)
    receive_stock(can, bin_, 100)

    # when / then
    with pytest.raises(NotAllowed, match="contains itself"):
        receive([ledger.Receipt(goods_id=case.pk, bin_id=bin_.pk, quantity=1)])
    with pytest.raises(NotAllowed, match="contains itself"):
        ship(case, bin_, 1)
    assert goods_available([case.pk, dozen.pk]) == {case.pk: 0, dozen.pk: 0}
    assert StockBalance.objects.get().on_hand == 100


def change_before_the_lock(monkeypatch, change):
    """Run ``change`` after the receipt read the combos, just before it locks the goods."""
    from inventory.ledger import combos

    real = combos.load_goods_locked

    def changed_then_locked(ids):
        change()
        return real(ids)

    monkeypatch.setattr(combos, "load_goods_locked", changed_then_locked)


@pytest.mark.django_db
def test_a_receipt_refuses_a_case_whose_dozen_changed_before_the_lock(monkeypatch):
    # given
    bin_ = BinFactory()
    case, dozen, _can = case_of_dozens()
    bottle = GoodsFactory(sku="BOTTLE")
    change_before_the_lock(
        monkeypatch, lambda: ComboComponentFactory(combo=dozen, component=bottle, quantity=1)
    )

    # when / then
    with pytest.raises(NotAllowed, match="The components of combo DOZEN changed"):
        receive([ledger.Receipt(goods_id=case.pk, bin_id=bin_.pk, quantity=1)])
    assert not StockBalance.objects.exists()


@pytest.mark.django_db
def test_a_receipt_refuses_a_case_whose_can_became_a_combo_before_the_lock(monkeypatch):
    # given
    bin_ = BinFactory()
    case, _dozen, can = case_of_dozens()
    bottle = GoodsFactory(sku="BOTTLE")

    def can_of_bottles():
        ComboComponentFactory(combo=can, component=bottle, quantity=1)
        type(can).objects.filter(pk=can.pk).update(is_combo=True)

    change_before_the_lock(monkeypatch, can_of_bottles)

    # when / then
    with pytest.raises(NotAllowed, match="CAN became a combo"):
        receive([ledger.Receipt(goods_id=case.pk, bin_id=bin_.pk, quantity=1)])
    assert not StockBalance.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_receipt_holds_the_combos_inside_a_combo_until_it_commits():
    # given: a receipt of a case paused inside its transaction
    bin_ = BinFactory()
    case, dozen, can = case_of_dozens()
    inside, release = threading.Event(), threading.Event()

    def pause(event):
        inside.set()
        release.wait(10)

    def post():
        try:
            receive([ledger.Receipt(goods_id=case.pk, bin_id=bin_.pk, quantity=1)])
        finally:
            connections.close_all()

    # when: the combo editor's lock (FOR UPDATE) is tried on each goods
    with hooks.registered(in_transaction=pause, kinds={Kind.INBOUND_PURCHASE}):
        worker = threading.Thread(target=post)
        worker.start()
        assert inside.wait(10)
        other = psycopg2.connect(**connection.get_connection_params())
        try:
            cursor = other.cursor()
            locked = []
            for goods in (case, dozen, can):
                try:
                    cursor.execute(
                        f"SELECT 1 FROM {GOODS_TABLE} WHERE id = %s FOR UPDATE NOWAIT", [goods.pk]
                    )
                except psycopg2.errors.LockNotAvailable:
                    locked.append(goods.sku)
                other.rollback()
        finally:
            other.close()
            release.set()
            worker.join(10)

    # then: a recipe change of the dozen waits for the receipt
    assert locked == ["CASE", "DOZEN", "CAN"]
    assert StockBalance.objects.get(goods=can).on_hand == 48
