"""A combo's recipe changing moves no stock, yet changes what the combo can be sold as: the
change queues a push in its own transaction, and the next push sends the new quantity."""

import pytest

from channels_sync.adapters.shopify import ShopifyAdapter
from channels_sync.models import OutboxItem
from channels_sync.services.push import shop_push
from channels_sync.tests.conftest import no_sleep
from channels_sync.tests.factories import BindingFactory, ShopFactory, listed_on
from inventory.services.goods import combo_component_remove, combo_component_set
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _shop_selling(fake, goods):
    """A pushing shop bound to one warehouse, with a listing of ``goods`` on the fake."""
    shop = ShopFactory(api_base_url=fake.url)
    bin_a = BinFactory()
    BindingFactory(shop=shop, warehouse=bin_a.warehouse)
    listed_on(fake, shop, goods)
    return shop, bin_a


def _push(shop):
    return shop_push(shop.pk, adapter=ShopifyAdapter(shop, sleep=no_sleep))


def test_more_units_per_combo_pushes_the_lower_quantity(fake_shopify):
    # given: a case of 1 can, 12 cans in stock, the platform shows 12 cases
    can, case = GoodsFactory(sku="CAN"), GoodsFactory(sku="CASE")
    combo_component_set(combo=case, component=can, quantity=1)
    shop, bin_a = _shop_selling(fake_shopify, case)
    receive_stock(can, bin_a, 12)
    _push(shop)
    assert fake_shopify.quantity_of("CASE") == 12
    # when: the case becomes 4 cans
    combo_component_set(combo=case, component=can, quantity=4)
    # then: the change queued a push of the case, and the push sends 3
    assert OutboxItem.objects.filter(shop=shop, goods=case, status="pending").exists()
    _push(shop)
    assert fake_shopify.quantity_of("CASE") == 3


def test_adding_a_component_pushes_the_combo(fake_shopify):
    # given: a gift box of 1 mug (10 mugs) shown as 10; 2 spoons in stock
    mug, spoon, box = GoodsFactory(sku="MUG"), GoodsFactory(sku="SPOON"), GoodsFactory(sku="BOX")
    combo_component_set(combo=box, component=mug, quantity=1)
    shop, bin_a = _shop_selling(fake_shopify, box)
    receive_stock(mug, bin_a, 10)
    receive_stock(spoon, bin_a, 2)
    _push(shop)
    assert fake_shopify.quantity_of("BOX") == 10
    # when: each box also takes a spoon
    combo_component_set(combo=box, component=spoon, quantity=1)
    _push(shop)
    # then
    assert fake_shopify.quantity_of("BOX") == 2


def test_removing_the_last_component_pushes_zero(fake_shopify):
    # given: a case of 2 cans (10 cans: 5 cases shown)
    can, case = GoodsFactory(sku="CAN"), GoodsFactory(sku="CASE")
    combo_component_set(combo=case, component=can, quantity=2)
    shop, bin_a = _shop_selling(fake_shopify, case)
    receive_stock(can, bin_a, 10)
    _push(shop)
    assert fake_shopify.quantity_of("CASE") == 5
    # when: the can is taken out: CASE is a plain goods again, with no stock of its own (the
    # can no longer leads the push to the case, so the case itself must be dirty)
    combo_component_remove(combo=case, component=can)
    _push(shop)
    # then
    assert fake_shopify.quantity_of("CASE") == 0


def test_changing_an_inner_combo_queues_the_combos_containing_it():
    # given: a pallet of 2 cases, a case of 4 dozens, a dozen of 12 cans; a shop pushing
    can, dozen = GoodsFactory(sku="CAN"), GoodsFactory(sku="DOZEN")
    case, pallet = GoodsFactory(sku="CASE"), GoodsFactory(sku="PALLET")
    combo_component_set(combo=dozen, component=can, quantity=12)
    combo_component_set(combo=case, component=dozen, quantity=4)
    combo_component_set(combo=pallet, component=case, quantity=2)
    shop = ShopFactory()
    OutboxItem.objects.all().delete()
    # when: a dozen becomes 10 cans
    combo_component_set(combo=dozen, component=can, quantity=10)
    # then: the dozen and every combo containing it, at any depth, are dirty (not the can)
    dirty = set(OutboxItem.objects.filter(shop=shop).values_list("goods_id", flat=True))
    assert dirty == {dozen.pk, case.pk, pallet.pk}


def test_setting_the_same_quantity_again_queues_nothing():
    can, case = GoodsFactory(), GoodsFactory()
    combo_component_set(combo=case, component=can, quantity=4)
    ShopFactory()
    OutboxItem.objects.all().delete()
    combo_component_set(combo=case, component=can, quantity=4)
    combo_component_remove(combo=case, component=GoodsFactory())  # not one of its components
    assert not OutboxItem.objects.exists()


def test_a_combo_import_queues_the_combos_it_changed(tmp_path):
    from inventory.tests.test_import_support import csv_bytes, import_file, write

    # given: a case of 1 can, a shop pushing
    can, case, box = GoodsFactory(sku="CAN"), GoodsFactory(sku="CASE"), GoodsFactory(sku="BOX")
    combo_component_set(combo=case, component=can, quantity=1)
    shop = ShopFactory()
    OutboxItem.objects.all().delete()
    # when: a sheet makes the case 4 cans
    rows = [["combo_sku", "component_sku", "quantity"], ["CASE", "CAN", 4]]
    report = import_file(write(tmp_path, "combos.csv", csv_bytes(rows)), "combo_components")
    # then: the case is dirty for the shop, committed with the import
    assert report.ok
    dirty = set(OutboxItem.objects.filter(shop=shop).values_list("goods_id", flat=True))
    assert case.pk in dirty and box.pk not in dirty


def test_stock_moving_under_a_nested_combo_pushes_the_outer_listing(fake_shopify):
    # given: a case of 4 dozens of 12 cans, sold as a case; no cans yet, the platform shows 0
    can, dozen, case = GoodsFactory(sku="CAN"), GoodsFactory(sku="DOZEN"), GoodsFactory(sku="CASE")
    combo_component_set(combo=dozen, component=can, quantity=12)
    combo_component_set(combo=case, component=dozen, quantity=4)
    shop, bin_a = _shop_selling(fake_shopify, case)
    _push(shop)
    assert fake_shopify.quantity_of("CASE") == 0
    # when: 100 cans are received (the outbox row is the can's) and the push runs
    receive_stock(can, bin_a, 100)
    summary = _push(shop)
    # then: the case listing went out with 100 // 48 = 2, and the can's row is settled
    assert summary.succeeded == 1
    assert fake_shopify.quantity_of("CASE") == 2
    assert not OutboxItem.objects.filter(shop=shop).exists()
