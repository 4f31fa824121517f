"""The ledger's postings and refusals (any database; locking itself is in test_ledger_locking)."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory import hooks, ledger, writer_guard
from inventory.exceptions import (
    AlreadyPosted,
    ExpiredBatch,
    InsufficientStock,
    InvalidInput,
    InvalidQuantity,
    NotAllowed,
)
from inventory.models import StockBalance, StockMovement
from inventory.selectors.stock import goods_available
from inventory.tests.factories import (
    BatchFactory,
    ComboComponentFactory,
    GoodsFactory,
    receive_stock,
)
from warehouses.tests.factories import BinFactory, ZoneFactory

pytestmark = pytest.mark.django_db

Kind = StockMovement.Kind
DOC = ledger.Document(type="other", ref="T-1")


@pytest.fixture
def bin_a():
    return BinFactory(code="A-01")


@pytest.fixture
def bin_b(bin_a):
    return BinFactory(code="A-02", zone=bin_a.zone)


def ship(goods, warehouse, quantity, **kwargs):
    pick_fields = {
        k: kwargs.pop(k) for k in ("bin_id", "batch_id", "balance_id", "from_frozen") if k in kwargs
    }
    return ledger.issue(
        kind=kwargs.pop("kind", Kind.OUTBOUND_ORDER_SHIPMENT),
        warehouse_id=warehouse.pk,
        lines=[ledger.Pick(goods_id=goods.pk, quantity=quantity, **pick_fields)],
        document=DOC,
        **kwargs,
    )


def quantities(balance):
    balance.refresh_from_db()
    return balance.on_hand, balance.frozen, balance.reserved


# --- receive --------------------------------------------------------------------------------


def test_receive_creates_the_balance_and_one_movement(bin_a):
    # given
    goods = GoodsFactory()

    # when
    posting = ledger.receive(
        kind=Kind.INBOUND_PURCHASE,
        lines=[ledger.Receipt(goods_id=goods.pk, bin_id=bin_a.pk, quantity=7)],
        document=ledger.Document(type="inbound", id=3, ref="IN-000003"),
    )

    # then
    balance = StockBalance.objects.get(goods=goods, bin=bin_a, batch=None)
    assert quantities(balance) == (7, 0, 0)
    assert balance.warehouse_id == bin_a.warehouse_id
    [movement] = posting.movements
    assert movement.pk is not None
    assert (movement.kind, movement.quantity, movement.on_hand_delta) == (
        Kind.INBOUND_PURCHASE,
        7,
        7,
    )
    assert movement.to_bin_id == bin_a.pk
    assert movement.document_ref == "IN-000003"


def test_receive_twice_adds_to_the_same_balance_row(bin_a):
    # given
    goods = GoodsFactory()
    receive_stock(goods, bin_a, 5)

    # when
    balance = receive_stock(goods, bin_a, 3)

    # then
    assert StockBalance.objects.filter(goods=goods).count() == 1
    assert balance.on_hand == 8


def test_batches_get_their_own_balance_rows(bin_a):
    # given
    goods = GoodsFactory()
    batch = BatchFactory(goods=goods)

    # when
    receive_stock(goods, bin_a, 5)
    receive_stock(goods, bin_a, 4, batch=batch)

    # then
    assert sorted(StockBalance.objects.filter(goods=goods).values_list("on_hand", flat=True)) == [
        4,
        5,
    ]


def test_database_refuses_a_second_no_batch_row_for_the_same_goods_and_bin(bin_a):
    # given
    goods = GoodsFactory()
    receive_stock(goods, bin_a, 1)

    # when / then
    with (
        writer_guard.allowed("proving the database itself refuses it"),
        pytest.raises(IntegrityError),
        transaction.atomic(),
    ):
        StockBalance.objects.create(goods=goods, bin=bin_a, warehouse=bin_a.warehouse)


@pytest.mark.parametrize("bad", [0, -3, 1.5, "2", True, None])
def test_receive_refuses_quantities_that_are_not_positive_integers(bin_a, bad):
    # given
    goods = GoodsFactory()

    # when / then
    with pytest.raises(InvalidQuantity):
        ledger.receive(
            kind=Kind.INBOUND_PURCHASE,
            lines=[ledger.Receipt(goods_id=goods.pk, bin_id=bin_a.pk, quantity=bad)],
            document=DOC,
        )
    assert not StockMovement.objects.exists()


def test_receive_refuses_an_inactive_bin(bin_a):
    # given
    goods = GoodsFactory()
    bin_a.is_active = False
    bin_a.save()

    # when / then
    with pytest.raises(NotAllowed, match="inactive"):
        receive_stock(goods, bin_a, 1)
    assert not StockBalance.objects.exists()


def test_receive_refuses_inactive_goods(bin_a):
    # given
    goods = GoodsFactory(is_active=False)

    # when / then
    with pytest.raises(NotAllowed, match="inactive"):
        receive_stock(goods, bin_a, 1)
    assert not StockMovement.objects.exists()


def test_receive_refuses_a_bin_of_another_warehouse(bin_a):
    # given
    goods = GoodsFactory()
    elsewhere = BinFactory()

    # when / then
    with pytest.raises(NotAllowed, match="another warehouse"):
        ledger.receive(
            kind=Kind.INBOUND_PURCHASE,
            lines=[ledger.Receipt(goods_id=goods.pk, bin_id=elsewhere.pk, quantity=1)],
            document=DOC,
            warehouse_id=bin_a.warehouse_id,
        )
    assert not StockMovement.objects.exists()


def test_receive_refuses_a_batch_of_another_goods(bin_a):
    # given
    goods = GoodsFactory()
    other_batch = BatchFactory()

    # when / then
    with pytest.raises(InvalidInput, match="another goods"):
        receive_stock(goods, bin_a, 1, batch=other_batch)


def test_receive_refuses_an_outbound_kind(bin_a):
    # given
    goods = GoodsFactory()

    # when / then
    with pytest.raises(InvalidInput):
        ledger.receive(
            kind=Kind.OUTBOUND_OTHER,
            lines=[ledger.Receipt(goods_id=goods.pk, bin_id=bin_a.pk, quantity=1)],
            document=DOC,
        )


def test_a_bad_line_refuses_the_whole_posting(bin_a):
    # given
    good = GoodsFactory()
    inactive = GoodsFactory(is_active=False)

    # when / then
    with pytest.raises(NotAllowed):
        ledger.receive(
            kind=Kind.INBOUND_PURCHASE,
            lines=[
                ledger.Receipt(goods_id=good.pk, bin_id=bin_a.pk, quantity=1),
                ledger.Receipt(goods_id=inactive.pk, bin_id=bin_a.pk, quantity=1),
            ],
            document=DOC,
        )
    assert not StockBalance.objects.exists()


# --- issue ----------------------------------------------------------------------------------


def test_issue_takes_first_expiry_first_out(bin_a, bin_b):
    # given
    goods = GoodsFactory()
    today = timezone.localdate()
    late = BatchFactory(goods=goods, expiry_date=today + datetime.timedelta(days=90))
    early = BatchFactory(goods=goods, expiry_date=today + datetime.timedelta(days=10))
    late_balance = receive_stock(goods, bin_a, 5, batch=late)
    early_balance = receive_stock(goods, bin_b, 5, batch=early)
    no_batch = receive_stock(goods, bin_a, 5)

    # when
    posting = ship(goods, bin_a.warehouse, 7)

    # then
    assert quantities(early_balance)[0] == 0
    assert quantities(late_balance)[0] == 3
    assert quantities(no_batch)[0] == 5
    assert [(m.batch_id, m.quantity) for m in posting.movements] == [(early.pk, 5), (late.pk, 2)]


def test_issue_takes_the_named_batch(bin_a):
    # given
    goods = GoodsFactory()
    today = timezone.localdate()
    early = BatchFactory(goods=goods, expiry_date=today + datetime.timedelta(days=1))
    late = BatchFactory(goods=goods, expiry_date=today + datetime.timedelta(days=30))
    early_balance = receive_stock(goods, bin_a, 5, batch=early)
    late_balance = receive_stock(goods, bin_a, 5, batch=late)

    # when
    ship(goods, bin_a.warehouse, 2, batch_id=late.pk)

    # then
    assert quantities(early_balance)[0] == 5
    assert quantities(late_balance)[0] == 3


def test_issue_refuses_more_than_available_and_reports_the_shortfall(bin_a):
    # given
    goods = GoodsFactory(sku="PHONE-1")
    balance = receive_stock(goods, bin_a, 5)

    # when
    with pytest.raises(InsufficientStock) as refused:
        ship(goods, bin_a.warehouse, 6)

    # then
    assert refused.value.shortfall == 1
    assert "PHONE-1" in str(refused.value)
    assert quantities(balance) == (5, 0, 0)
    assert StockMovement.objects.count() == 1


def test_issue_of_a_named_balance_refuses_more_than_available(bin_a):
    # given
    goods = GoodsFactory()
    balance = receive_stock(goods, bin_a, 5)

    # when / then
    with pytest.raises(InsufficientStock) as refused:
        ship(goods, bin_a.warehouse, 9, balance_id=balance.pk)
    assert refused.value.available == 5
    assert quantities(balance) == (5, 0, 0)


def test_issue_of_a_named_balance_writes_the_movement(bin_a):
    # given
    goods = GoodsFactory()
    balance = receive_stock(goods, bin_a, 5)

    # when
    posting = ship(goods, bin_a.warehouse, 2, balance_id=balance.pk, idempotency_key="k1")

    # then
    assert quantities(balance) == (3, 0, 0)
    [movement] = posting.movements
    assert (movement.on_hand_delta, movement.from_bin_id) == (-2, bin_a.pk)
    assert StockMovement.objects.get(idempotency_key="k1").pk == movement.pk


def test_issue_refuses_a_balance_of_another_warehouse(bin_a):
    # given
    goods = GoodsFactory()
    balance = receive_stock(goods, bin_a, 5)
    other = BinFactory()

    # when / then
    with pytest.raises(NotAllowed, match="another warehouse"):
        ship(goods, other.warehouse, 1, balance_id=balance.pk)
    assert quantities(balance) == (5, 0, 0)


def test_frozen_and_reserved_units_are_not_shipped(bin_a):
    # given
    goods = GoodsFactory()
    balance = receive_stock(goods, bin_a, 10)
    ledger.freeze(holds=[ledger.Hold(balance.pk, 4)], document=DOC)
    ledger.reserve(holds=[ledger.Hold(balance.pk, 3)], document=DOC)

    # when / then
    with pytest.raises(InsufficientStock) as refused:
        ship(goods, bin_a.warehouse, 4)
    assert refused.value.available == 3
    ship(goods, bin_a.warehouse, 3)
    assert quantities(balance) == (7, 4, 3)


def test_expired_batch_is_refused_without_override(bin_a):
    # given
    goods = GoodsFactory()
    expired = BatchFactory(
        goods=goods, expiry_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    balance = receive_stock(goods, bin_a, 5, batch=expired)

    # when / then: named batch, named balance, and first-expiry-first-out all refuse
    with pytest.raises(ExpiredBatch):
        ship(goods, bin_a.warehouse, 1, batch_id=expired.pk)
    with pytest.raises(ExpiredBatch):
        ship(goods, bin_a.warehouse, 1, balance_id=balance.pk)
    with pytest.raises(InsufficientStock, match="expired"):
        ship(goods, bin_a.warehouse, 1)
    assert quantities(balance) == (5, 0, 0)


def test_expired_batch_ships_with_override_and_reason(bin_a):
    # given
    goods = GoodsFactory()
    expired = BatchFactory(
        goods=goods, expiry_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    balance = receive_stock(goods, bin_a, 5, batch=expired)

    # when
    posting = ship(
        goods, bin_a.warehouse, 2, allow_expired=True, override_reason="customer accepts"
    )

    # then
    assert quantities(balance) == (3, 0, 0)
    assert "customer accepts" in posting.movements[0].reason


def test_expired_override_needs_a_reason(bin_a):
    # given
    goods = GoodsFactory()

    # when / then
    with pytest.raises(InvalidInput, match="reason"):
        ship(goods, bin_a.warehouse, 1, allow_expired=True, override_reason="  ")


def test_frozen_stock_leaves_only_as_scrap_or_purchase_return(bin_a):
    # given
    goods = GoodsFactory()
    balance = receive_stock(goods, bin_a, 5)
    ledger.freeze(holds=[ledger.Hold(balance.pk, 3)], document=DOC)

    # when / then
    with pytest.raises(NotAllowed, match="scrap"):
        ship(goods, bin_a.warehouse, 1, from_frozen=True)
    ship(goods, bin_a.warehouse, 2, from_frozen=True, kind=Kind.OUTBOUND_OTHER)
    ship(
        goods,
        bin_a.warehouse,
        1,
        from_frozen=True,
        kind=Kind.OUTBOUND_PURCHASE_RETURN,
        balance_id=balance.pk,
    )
    assert quantities(balance) == (2, 0, 0)
    with pytest.raises(InsufficientStock, match="frozen"):
        ship(goods, bin_a.warehouse, 1, from_frozen=True, kind=Kind.OUTBOUND_OTHER)


def test_shipping_reserved_stock_consumes_the_reservation(bin_a):
    # given
    goods = GoodsFactory()
    balance = receive_stock(goods, bin_a, 5)
    ledger.reserve(holds=[ledger.Hold(balance.pk, 2)], document=DOC)

    # when
    ship(goods, bin_a.warehouse, 2, from_reserved=True)

    # then
    assert quantities(balance) == (3, 0, 0)
    with pytest.raises(InsufficientStock):
        ship(goods, bin_a.warehouse, 1, from_reserved=True)


def test_issue_several_lines_of_the_same_goods_share_the_stock(bin_a):
    # given
    goods = GoodsFactory()
    receive_stock(goods, bin_a, 5)

    # when / then
    with pytest.raises(InsufficientStock):
        ledger.issue(
            kind=Kind.OUTBOUND_ORDER_SHIPMENT,
            warehouse_id=bin_a.warehouse_id,
            lines=[ledger.Pick(goods_id=goods.pk, quantity=3)] * 2,
            document=DOC,
        )
    assert StockMovement.objects.count() == 1


# --- idempotency ------------------------------------------------------------------------------


def test_same_idempotency_key_posts_once(bin_a):
    # given
    goods = GoodsFactory()
    balance = receive_stock(goods, bin_a, 5)
    ship(goods, bin_a.warehouse, 1, idempotency_key="order-7")

    # when / then
    with pytest.raises(AlreadyPosted):
        ship(goods, bin_a.warehouse, 1, idempotency_key="order-7")
    with pytest.raises(AlreadyPosted):
        ship(goods, bin_a.warehouse, 1, idempotency_key="order-7", balance_id=balance.pk)
    assert quantities(balance) == (4, 0, 0)


# --- transfer -------------------------------------------------------------------------------


def test_transfer_moves_available_stock_between_bins(bin_a, bin_b):
    # given
    goods = GoodsFactory()
    source = receive_stock(goods, bin_a, 5)

    # when
    posting = ledger.transfer(
        moves=[
            ledger.Move(goods_id=goods.pk, from_bin_id=bin_a.pk, to_bin_id=bin_b.pk, quantity=2)
        ],
        document=DOC,
    )

    # then
    destination = StockBalance.objects.get(goods=goods, bin=bin_b)
    assert quantities(source)[0] == 3
    assert destination.on_hand == 2
    assert [(m.kind, m.on_hand_delta, m.from_bin_id, m.to_bin_id) for m in posting.movements] == [
        (Kind.TRANSFER_OUT, -2, bin_a.pk, bin_b.pk),
        (Kind.TRANSFER_IN, 2, bin_a.pk, bin_b.pk),
    ]


def test_transfer_refuses_bins_of_two_warehouses(bin_a):
    # given
    goods = GoodsFactory()
    receive_stock(goods, bin_a, 5)
    far = BinFactory()

    # when / then
    with pytest.raises(NotAllowed, match="different warehouses"):
        ledger.transfer(
            moves=[
                ledger.Move(goods_id=goods.pk, from_bin_id=bin_a.pk, to_bin_id=far.pk, quantity=1)
            ],
            document=DOC,
        )


def test_transfer_refuses_more_than_available_and_the_same_bin(bin_a, bin_b):
    # given
    goods = GoodsFactory()
    receive_stock(goods, bin_a, 5)

    # when / then
    with pytest.raises(InsufficientStock):
        ledger.transfer(
            moves=[
                ledger.Move(goods_id=goods.pk, from_bin_id=bin_a.pk, to_bin_id=bin_b.pk, quantity=6)
            ],
            document=DOC,
        )
    with pytest.raises(InvalidInput):
        ledger.transfer(
            moves=[
                ledger.Move(goods_id=goods.pk, from_bin_id=bin_a.pk, to_bin_id=bin_a.pk, quantity=1)
            ],
            document=DOC,
        )
    assert not StockBalance.objects.filter(bin=bin_b, on_hand__gt=0).exists()


def test_transfer_refuses_an_inactive_destination(bin_a, bin_b):
    # given
    goods = GoodsFactory()
    receive_stock(goods, bin_a, 5)
    bin_b.is_active = False
    bin_b.save()

    # when / then
    with pytest.raises(NotAllowed, match="inactive"):
        ledger.transfer(
            moves=[
                ledger.Move(goods_id=goods.pk, from_bin_id=bin_a.pk, to_bin_id=bin_b.pk, quantity=1)
            ],
            document=DOC,
        )


# --- adjust ---------------------------------------------------------------------------------


def test_count_posts_gains_and_losses_and_reports_on_hand_before(bin_a, bin_b):
    # given
    goods = GoodsFactory()
    balance = receive_stock(goods, bin_a, 5)

    # when
    posting = ledger.adjust(
        warehouse_id=bin_a.warehouse_id,
        lines=[
            ledger.Count(goods_id=goods.pk, bin_id=bin_a.pk, counted=3),
            ledger.Count(goods_id=goods.pk, bin_id=bin_b.pk, counted=2),
        ],
        document=DOC,
        reason="cycle count",
    )

    # then
    found = StockBalance.objects.get(goods=goods, bin=bin_b)
    assert quantities(balance)[0] == 3
    assert found.on_hand == 2
    assert posting.on_hand_before == {balance.pk: 5, found.pk: 0}
    assert sorted((m.kind, m.on_hand_delta) for m in posting.movements) == [
        (Kind.COUNT_GAIN, 2),
        (Kind.COUNT_LOSS, -2),
    ]


def test_count_needs_a_reason_and_cannot_go_below_frozen(bin_a):
    # given
    goods = GoodsFactory()
    balance = receive_stock(goods, bin_a, 5)
    ledger.freeze(holds=[ledger.Hold(balance.pk, 4)], document=DOC)
    line = ledger.Count(goods_id=goods.pk, bin_id=bin_a.pk, counted=3)

    # when / then
    with pytest.raises(InvalidInput, match="reason"):
        ledger.adjust(warehouse_id=bin_a.warehouse_id, lines=[line], document=DOC, reason="")
    with pytest.raises(NotAllowed, match="frozen or reserved"):
        ledger.adjust(warehouse_id=bin_a.warehouse_id, lines=[line], document=DOC, reason="x")
    with pytest.raises(InvalidQuantity):
        ledger.adjust(
            warehouse_id=bin_a.warehouse_id,
            lines=[ledger.Count(goods_id=goods.pk, bin_id=bin_a.pk, counted=-1)],
            document=DOC,
            reason="x",
        )
    assert quantities(balance) == (5, 4, 0)


# --- holds ----------------------------------------------------------------------------------


def test_freeze_and_unfreeze_move_units_between_available_and_frozen(bin_a):
    # given
    goods = GoodsFactory()
    balance = receive_stock(goods, bin_a, 10)

    # when
    frozen = ledger.freeze(holds=[ledger.Hold(balance.pk, 6)], document=DOC)
    ledger.unfreeze(holds=[ledger.Hold(balance.pk, 2)], document=DOC)

    # then
    assert frozen.quantities() == {balance.pk: 6}
    assert quantities(balance) == (10, 4, 0)
    assert list(
        StockMovement.objects.filter(balance=balance)
        .order_by("pk")
        .values_list("kind", "frozen_delta")
    ) == [(Kind.INBOUND_PURCHASE, 0), (Kind.FREEZE, 6), (Kind.UNFREEZE, -2)]


def test_freeze_refuses_more_than_available_and_unfreeze_more_than_frozen(bin_a):
    # given
    goods = GoodsFactory()
    balance = receive_stock(goods, bin_a, 10)
    ledger.reserve(holds=[ledger.Hold(balance.pk, 8)], document=DOC)

    # when / then
    with pytest.raises(InsufficientStock) as refused:
        ledger.freeze(holds=[ledger.Hold(balance.pk, 5)], document=DOC)
    assert refused.value.shortfall == 3
    with pytest.raises(InvalidQuantity, match="frozen"):
        ledger.unfreeze(holds=[ledger.Hold(balance.pk, 1)], document=DOC)
    with pytest.raises(InvalidQuantity, match="reserved"):
        ledger.unreserve(holds=[ledger.Hold(balance.pk, 9)], document=DOC)
    assert quantities(balance) == (10, 0, 8)


def test_freeze_everything_available_skips_empty_balances(bin_a, bin_b):
    # given
    goods = GoodsFactory()
    full = receive_stock(goods, bin_a, 4)
    empty = receive_stock(goods, bin_b, 2)
    ledger.reserve(holds=[ledger.Hold(empty.pk, 2)], document=DOC)

    # when
    posting = ledger.freeze(holds=[ledger.Hold(full.pk), ledger.Hold(empty.pk)], document=DOC)

    # then
    assert posting.quantities() == {full.pk: 4}
    with pytest.raises(InsufficientStock):
        ledger.freeze(holds=[ledger.Hold(full.pk)], document=DOC)


def test_freeze_fefo_takes_the_earliest_expiry_first(bin_a, bin_b):
    # given
    goods = GoodsFactory()
    today = timezone.localdate()
    soon = BatchFactory(goods=goods, expiry_date=today + datetime.timedelta(days=5))
    later = BatchFactory(goods=goods, expiry_date=today + datetime.timedelta(days=50))
    b_later = receive_stock(goods, bin_a, 5, batch=later)
    b_soon = receive_stock(goods, bin_b, 5, batch=soon)

    # when
    posting = ledger.freeze_fefo(balance_ids=[b_later.pk, b_soon.pk], quantity=7, document=DOC)

    # then
    assert posting.quantities() == {b_soon.pk: 5, b_later.pk: 2}
    with pytest.raises(InsufficientStock) as refused:
        ledger.freeze_fefo(balance_ids=[b_later.pk, b_soon.pk], quantity=4, document=DOC)
    assert refused.value.shortfall == 1


# --- combos ---------------------------------------------------------------------------------


def test_receiving_and_shipping_a_combo_moves_its_components(bin_a):
    # given
    part_a = ComboComponentFactory(quantity=4)
    combo = part_a.combo
    part_b = ComboComponentFactory(combo=combo, quantity=1)

    # when
    ledger.receive(
        kind=Kind.INBOUND_PURCHASE,
        lines=[ledger.Receipt(goods_id=combo.pk, bin_id=bin_a.pk, quantity=3)],
        document=DOC,
    )
    receive_stock(part_b.component, bin_a, 10)
    ship(combo, bin_a.warehouse, 2)

    # then
    on_hand = dict(StockBalance.objects.values_list("goods_id", "on_hand"))
    assert on_hand == {part_a.component_id: 4, part_b.component_id: 11}
    assert not StockBalance.objects.filter(goods=combo).exists()
    available = goods_available([combo.pk, part_a.component_id], warehouse_id=bin_a.warehouse_id)
    assert available == {combo.pk: 1, part_a.component_id: 4}


def test_combo_cannot_be_moved_or_counted_as_such(bin_a, bin_b):
    # given
    combo = ComboComponentFactory().combo

    # when / then
    with pytest.raises(NotAllowed, match="combo"):
        ledger.transfer(
            moves=[
                ledger.Move(goods_id=combo.pk, from_bin_id=bin_a.pk, to_bin_id=bin_b.pk, quantity=1)
            ],
            document=DOC,
        )
    with pytest.raises(NotAllowed, match="combo"):
        ledger.adjust(
            warehouse_id=bin_a.warehouse_id,
            lines=[ledger.Count(goods_id=combo.pk, bin_id=bin_a.pk, counted=1)],
            document=DOC,
            reason="x",
        )


# --- hooks ----------------------------------------------------------------------------------


def test_in_transaction_hook_can_freeze_received_stock_before_anyone_sees_it(bin_a):
    # given
    goods = GoodsFactory()

    def freeze_returns(event):
        ledger.freeze(
            holds=[ledger.Hold(m.balance_id, m.quantity) for m in event.movements],
            document=ledger.Document(type="freeze", ref="AUTO"),
        )

    # when
    with hooks.registered(in_transaction=freeze_returns, kinds={Kind.INBOUND_SALES_RETURN}):
        ledger.receive(
            kind=Kind.INBOUND_SALES_RETURN,
            lines=[ledger.Receipt(goods_id=goods.pk, bin_id=bin_a.pk, quantity=2)],
            document=DOC,
        )
        receive_stock(goods, bin_a, 5)  # a purchase: not frozen

    # then
    balance = StockBalance.objects.get(goods=goods)
    assert quantities(balance) == (7, 2, 0)


def test_a_hook_that_refuses_rolls_the_posting_back(bin_a):
    # given
    goods = GoodsFactory()

    def refuse(event):
        raise NotAllowed("no")

    # when / then
    with hooks.registered(in_transaction=refuse), pytest.raises(NotAllowed):
        receive_stock(goods, bin_a, 5)
    assert not StockMovement.objects.exists()


def test_after_commit_hooks_run_only_after_commit(bin_a, django_capture_on_commit_callbacks):
    # given
    goods = GoodsFactory()
    seen = []

    # when
    with hooks.registered(after_commit=seen.append):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            receive_stock(goods, bin_a, 5)
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(InsufficientStock):
            ship(goods, bin_a.warehouse, 50)

    # then
    assert len(callbacks) == 1
    assert [event.goods_ids for event in seen] == [(goods.pk,)]


def test_movements_record_the_operator(bin_a, django_user_model):
    # given
    user = django_user_model.objects.create_user("clerk")
    goods = GoodsFactory()

    # when
    receive_stock(goods, bin_a, 1, operator=user)

    # then
    assert StockMovement.objects.get().operator_id == user.pk


def test_zone_of_bins_is_irrelevant_to_postings():
    # given: two bins in two zones of one warehouse
    first = BinFactory()
    second = BinFactory(zone=ZoneFactory(warehouse=first.warehouse), warehouse=first.warehouse)
    goods = GoodsFactory()
    receive_stock(goods, first, 2)

    # when
    ledger.transfer(
        moves=[
            ledger.Move(goods_id=goods.pk, from_bin_id=first.pk, to_bin_id=second.pk, quantity=2)
        ],
        document=DOC,
    )

    # then
    assert StockBalance.objects.get(goods=goods, bin=second).on_hand == 2


def test_fast_path_writes_every_column_of_the_movement_table():
    # given
    columns = {f.column for f in StockMovement._meta.concrete_fields} - {"id"}

    # then: a column added to StockMovement must be added to the fast path's insert too
    assert set(ledger.FAST_PATH_COLUMNS) == columns
    assert len(ledger.FAST_PATH_COLUMNS) == len(columns)


def test_fast_path_movement_is_saved_with_its_id(bin_a):
    # given
    goods = GoodsFactory()
    balance = receive_stock(goods, bin_a, 5)

    # when
    posting = ship(goods, bin_a.warehouse, 2, balance_id=balance.pk, reason="order 9")

    # then
    [movement] = posting.movements
    stored = StockMovement.objects.get(pk=movement.pk)
    assert (stored.kind, stored.quantity, stored.on_hand_delta, stored.reason) == (
        Kind.OUTBOUND_ORDER_SHIPMENT,
        2,
        -2,
        "order 9",
    )
    assert (stored.bin_id, stored.from_bin_id, stored.warehouse_id) == (
        bin_a.pk,
        bin_a.pk,
        bin_a.warehouse_id,
    )
