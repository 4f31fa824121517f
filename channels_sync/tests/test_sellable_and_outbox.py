import io

import pytest

from channels_sync.hooks import mark_goods_dirty
from channels_sync.models import BindingException, OutboxItem
from channels_sync.selectors import listing_sellable
from channels_sync.tests.factories import BindingFactory, ListingFactory, ShopFactory
from inventory import ledger
from inventory.exceptions import StockError
from inventory.models import StockMovement
from inventory.tests.factories import ComboComponentFactory, GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _freeze(balance, quantity):
    ledger.freeze(
        holds=[ledger.Hold(balance_id=balance.pk, quantity=quantity)],
        document=ledger.Document(type="other", ref="t"),
    )


def test_sellable_sums_bound_warehouses_applies_share_and_safety_stock():
    # given two bound warehouses and one not bound
    shop = ShopFactory(share_percent=50, safety_stock=2)
    bin_a, bin_b, bin_c = BinFactory(), BinFactory(), BinFactory()
    BindingFactory(shop=shop, warehouse=bin_a.warehouse, priority=1)
    BindingFactory(shop=shop, warehouse=bin_b.warehouse, priority=2)
    listing = ListingFactory(shop=shop)
    balance = receive_stock(listing.goods, bin_a, 10)
    receive_stock(listing.goods, bin_b, 7)
    receive_stock(listing.goods, bin_c, 100)
    _freeze(balance, 3)
    # when
    result = listing_sellable(shop, [listing])[listing.pk]
    # then (10 - 3 + 7) = 14 available, 50% = 7, minus 2 safety = 5
    assert result.quantity == 5
    assert result.inputs["available_total"] == 14
    assert [w["frozen"] for w in result.inputs["warehouses"]] == [3, 0]


def test_sellable_respects_unbound_and_allotment_and_floors_at_zero():
    shop = ShopFactory(safety_stock=0)
    bin_a, bin_b = BinFactory(), BinFactory()
    BindingFactory(shop=shop, warehouse=bin_a.warehouse, priority=1)
    BindingFactory(shop=shop, warehouse=bin_b.warehouse, priority=2)
    listing = ListingFactory(shop=shop)
    receive_stock(listing.goods, bin_a, 10)
    receive_stock(listing.goods, bin_b, 8)
    BindingException.objects.create(
        shop=shop, warehouse=bin_a.warehouse, goods=listing.goods, mode="unbound"
    )
    BindingException.objects.create(
        shop=shop, warehouse=bin_b.warehouse, goods=listing.goods, mode="allotment", allotment=3
    )
    assert listing_sellable(shop, [listing])[listing.pk].quantity == 3
    shop.safety_stock = 5
    assert listing_sellable(shop, [listing])[listing.pk].quantity == 0


def test_sellable_of_combo_comes_from_components():
    shop = ShopFactory()
    bin_a = BinFactory()
    BindingFactory(shop=shop, warehouse=bin_a.warehouse)
    part = ComboComponentFactory(quantity=4)
    ComboComponentFactory(combo=part.combo, quantity=1)
    other = part.combo.components.exclude(pk=part.pk).get().component
    receive_stock(part.component, bin_a, 9)
    receive_stock(other, bin_a, 1)
    listing = ListingFactory(shop=shop, goods=part.combo)
    # 9 // 4 = 2 cases, 1 // 1 = 1: the combo sells 1
    assert listing_sellable(shop, [listing])[listing.pk].quantity == 1


def test_posting_writes_one_pending_row_per_goods_and_shop_in_its_transaction():
    # given two pushing shops and one with push off
    shop_1, shop_2 = ShopFactory(), ShopFactory()
    ShopFactory(is_stock_push_enabled=False)
    goods = GoodsFactory()
    bin_a = BinFactory()
    # when many postings touch the same goods
    for _ in range(5):
        receive_stock(goods, bin_a, 1)
    # then one pending row per shop
    rows = OutboxItem.objects.filter(goods=goods, status="pending")
    assert sorted(rows.values_list("shop_id", flat=True)) == sorted([shop_1.pk, shop_2.pk])


def test_refused_posting_leaves_no_outbox_row():
    ShopFactory()
    goods = GoodsFactory()
    bin_a = BinFactory()
    with pytest.raises(StockError):
        ledger.issue(
            kind=StockMovement.Kind.OUTBOUND_OTHER,
            warehouse_id=bin_a.warehouse_id,
            lines=[ledger.Pick(goods_id=goods.pk, quantity=5)],
            document=ledger.Document(type="other", ref="t"),
        )
    assert not OutboxItem.objects.filter(goods=goods).exists()


def test_mark_goods_dirty_coalesces_with_pending_rows():
    shop = ShopFactory()
    goods = GoodsFactory()
    mark_goods_dirty([goods.pk, goods.pk])
    mark_goods_dirty([goods.pk], shop_ids=[shop.pk])
    assert OutboxItem.objects.filter(goods=goods, shop=shop).count() == 1


def test_credentials_are_encrypted_at_rest_and_rotate_to_a_new_key(settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command
    from django.db import connection

    from channels_sync.models import Shop

    shop = ShopFactory(credentials={"access_token": "shpat_very_secret"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM channels_sync_shop WHERE id = %s", [shop.pk])
        stored = cursor.fetchone()[0]
    assert "shpat_very_secret" not in stored
    assert "shpat_very_secret" not in repr(Shop.objects.get(pk=shop.pk).credentials)
    old = settings.WMS_FIELD_KEY
    new = Fernet.generate_key().decode()
    settings.WMS_FIELD_KEY = f"{new},{old}"
    call_command("shop_credentials_rotate", stdout=io.StringIO())
    settings.WMS_FIELD_KEY = new
    assert Shop.objects.get(pk=shop.pk).credentials["access_token"] == "shpat_very_secret"
