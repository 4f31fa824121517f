"""Services of the goods catalogue: goods, combos (no loops), batches."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from inventory.models import ComboComponent, Goods
from inventory.services import goods as services
from inventory.tests.factories import ComboComponentFactory, GoodsFactory

pytestmark = pytest.mark.django_db


def test_create_trims_codes_and_refuses_a_sku_that_differs_only_in_case():
    # given
    services.goods_create(sku="  ab-1 ", name="First", barcode=" 690 ")
    # when / then
    with pytest.raises(services.DuplicateSku, match="already used by goods ab-1"):
        services.goods_create(sku="AB-1", name="Second")
    goods = Goods.objects.get()
    assert (goods.sku, goods.barcode) == ("ab-1", "690")


def test_create_refuses_a_barcode_of_another_goods():
    services.goods_create(sku="A", name="A", barcode="6901")
    with pytest.raises(services.DuplicateBarcode, match="already belongs to goods A"):
        services.goods_create(sku="B", name="B", barcode="6901")


def test_two_goods_may_both_have_no_barcode():
    services.goods_create(sku="A", name="A")
    services.goods_create(sku="B", name="B")
    assert Goods.objects.filter(barcode="").count() == 2


def test_update_may_keep_its_own_sku_and_barcode_but_not_take_others():
    goods = services.goods_create(sku="A", name="A", barcode="1")
    services.goods_create(sku="B", name="B", barcode="2")
    services.goods_update(goods=goods, sku="a", name="A renamed", barcode="1")
    assert Goods.objects.get(pk=goods.pk).name == "A renamed"
    with pytest.raises(services.DuplicateSku):
        services.goods_update(goods=goods, sku="b", name="x")
    with pytest.raises(services.DuplicateBarcode):
        services.goods_update(goods=goods, sku="A", name="x", barcode="2")


def test_create_refuses_blank_names_and_negative_weights():
    with pytest.raises(services.InvalidGoods):
        services.goods_create(sku="A", name="  ")
    with pytest.raises(services.InvalidGoods):
        services.goods_create(sku="A", name="A", weight=Decimal("-1"))
    assert Goods.objects.count() == 0


def test_deactivate_and_activate():
    goods = GoodsFactory()
    services.goods_set_active(goods=goods, is_active=False)
    assert not Goods.objects.get(pk=goods.pk).is_active
    services.goods_set_active(goods=goods, is_active=True)
    assert Goods.objects.get(pk=goods.pk).is_active


# --- combos -----------------------------------------------------------------------------------


def test_a_case_of_beer_is_four_dozens_of_twelve_cans():
    can, dozen, case = GoodsFactory(sku="CAN"), GoodsFactory(sku="DOZEN"), GoodsFactory(sku="CASE")
    services.combo_component_set(combo=dozen, component=can, quantity=12)
    services.combo_component_set(combo=case, component=dozen, quantity=4)
    assert Goods.objects.get(pk=case.pk).is_combo
    assert ComboComponent.objects.get(combo=case).quantity == 4
    services.combo_component_set(combo=case, component=dozen, quantity=5)
    assert ComboComponent.objects.get(combo=case).quantity == 5


def test_a_combo_cannot_contain_itself_directly():
    box = GoodsFactory(sku="BOX")
    with pytest.raises(services.ComboLoop, match="cannot contain itself"):
        services.combo_component_set(combo=box, component=box, quantity=1)
    assert not ComboComponent.objects.exists()


def test_a_combo_cannot_contain_itself_through_another_combo():
    # given: CASE holds DOZEN, DOZEN holds PACK
    case, dozen, pack = (
        GoodsFactory(sku="CASE"),
        GoodsFactory(sku="DOZEN"),
        GoodsFactory(sku="PACK"),
    )
    services.combo_component_set(combo=case, component=dozen, quantity=4)
    services.combo_component_set(combo=dozen, component=pack, quantity=2)
    # when / then: PACK may not take CASE (PACK > CASE > DOZEN > PACK)
    with pytest.raises(services.ComboLoop) as refused:
        services.combo_component_set(combo=pack, component=case, quantity=1)
    assert str(refused.value) == (
        "CASE already contains PACK (through its own components), so it cannot go into PACK: "
        "the combo would contain itself."
    )
    assert not ComboComponent.objects.filter(combo=pack).exists()


def test_a_combo_must_take_at_least_one_of_a_component():
    combo, part = GoodsFactory(), GoodsFactory()
    with pytest.raises(services.InvalidGoods):
        services.combo_component_set(combo=combo, component=part, quantity=0)


def test_removing_the_last_component_makes_it_a_plain_goods_again():
    line = ComboComponentFactory(quantity=2)
    services.combo_flags_refresh(goods_ids=[line.combo_id])
    services.combo_component_remove(combo=line.combo, component=line.component)
    assert not Goods.objects.get(pk=line.combo_id).is_combo


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_cannot_build_a_loop_between_them():
    # given: A and B, plain goods; two editors at once: one puts B into A, the other A into B.
    a, b = GoodsFactory(sku="A"), GoodsFactory(sku="B")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def edit(combo, component):
        try:
            barrier.wait(timeout=10)
            services.combo_component_set(combo=combo, component=component, quantity=1)
            outcomes.append("ok")
        except services.ComboLoop:
            outcomes.append("loop")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=edit, args=pair) for pair in ((a, b), (b, a))]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then: the advisory lock serializes them; the second sees the first and refuses
    assert sorted(outcomes) == ["loop", "ok"]
    assert ComboComponent.objects.count() == 1


@pytest.mark.postgres
def test_combo_edits_take_the_combo_graph_lock():
    combo, part = GoodsFactory(), GoodsFactory()
    recorder = _Recorder()
    with connection.execute_wrapper(recorder):
        services.combo_component_set(combo=combo, component=part, quantity=1)
    statements = recorder.statements
    lock = next(i for i, sql in enumerate(statements) if "pg_advisory_xact_lock" in sql)
    write = next(i for i, sql in enumerate(statements) if "inventory_combocomponent" in sql)
    assert lock < write


class _Recorder:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.statements.append(sql)
        return execute(sql, params, many, context)


# --- batches ----------------------------------------------------------------------------------


def test_batch_expiry_defaults_to_production_date_plus_shelf_life():
    goods = GoodsFactory(shelf_life_days=30)
    batch = services.batch_create(goods=goods, batch_no=" L1 ", production_date=dt.date(2024, 1, 1))
    assert (batch.batch_no, batch.expiry_date) == ("L1", dt.date(2024, 1, 31))


def test_batch_keeps_a_given_expiry_and_refuses_one_before_production():
    goods = GoodsFactory(shelf_life_days=30)
    kept = services.batch_create(
        goods=goods,
        batch_no="L1",
        production_date=dt.date(2024, 1, 1),
        expiry_date=dt.date(2024, 6, 1),
    )
    assert kept.expiry_date == dt.date(2024, 6, 1)
    with pytest.raises(services.InvalidGoods, match="before the production date"):
        services.batch_create(
            goods=goods,
            batch_no="L2",
            production_date=dt.date(2024, 1, 1),
            expiry_date=dt.date(2023, 12, 1),
        )


def test_batch_numbers_are_unique_per_goods_only():
    first, second = GoodsFactory(), GoodsFactory()
    services.batch_create(goods=first, batch_no="L1")
    services.batch_create(goods=second, batch_no="L1")
    with pytest.raises(services.DuplicateBatch):
        services.batch_create(goods=first, batch_no="L1")


def test_batch_update_recomputes_a_cleared_expiry():
    goods = GoodsFactory(shelf_life_days=10)
    batch = services.batch_create(goods=goods, batch_no="L1", expiry_date=dt.date(2030, 1, 1))
    services.batch_update(
        batch=batch, batch_no="L1", production_date=dt.date(2024, 1, 1), expiry_date=None
    )
    assert batch.expiry_date == dt.date(2024, 1, 11)


def test_editing_a_stale_copy_of_goods_keeps_a_combo_made_meanwhile():
    # given: the edit form loaded the goods before someone made it a combo
    from inventory.services.goods import combo_component_set, goods_update
    from inventory.tests.factories import GoodsFactory as _Goods

    stale = _Goods(sku="BOX-1")
    combo_component_set(combo=Goods.objects.get(pk=stale.pk), component=_Goods(), quantity=2)

    # when
    goods_update(goods=stale, sku="BOX-1", name="Gift box")

    # then
    fresh = Goods.objects.get(pk=stale.pk)
    assert fresh.name == "Gift box"
    assert fresh.is_combo
