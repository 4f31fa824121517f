"""Shared set-up of the order tests: a shop on the orders fake, two bound warehouses (Sydney
and Melbourne), goods with listings and stock."""

from __future__ import annotations

from decimal import Decimal

from channels_sync.adapters.orders import order_source_for
from channels_sync.tests.conftest import no_sleep
from channels_sync.tests.factories import BindingFactory, ListingFactory, ShopFactory
from inventory.models import StockBalance
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory, WarehouseFactory

SYDNEY = (Decimal("-33.87"), Decimal("151.21"))
MELBOURNE = (Decimal("-37.81"), Decimal("144.96"))


def order_world(fake, *, skus=("A", "B"), sydney=10, melbourne=10, weight="0.5"):
    shop = ShopFactory(api_base_url=fake.url, is_order_pull_enabled=True)
    wh_syd = WarehouseFactory(latitude=SYDNEY[0], longitude=SYDNEY[1])
    wh_mel = WarehouseFactory(latitude=MELBOURNE[0], longitude=MELBOURNE[1])
    bin_syd = BinFactory(warehouse=wh_syd)
    bin_mel = BinFactory(warehouse=wh_mel)
    # Melbourne is priority 1, so "nearest" is what sends a Sydney order to Sydney.
    BindingFactory(shop=shop, warehouse=wh_mel, priority=1)
    BindingFactory(shop=shop, warehouse=wh_syd, priority=2)
    goods = {}
    for sku in skus:
        variant = fake.add_variant(sku)
        g = GoodsFactory(sku=sku, weight=Decimal(weight))
        ListingFactory(
            shop=shop, goods=g, sku=sku, variant_ref=variant.id, item_ref=variant.item_id
        )
        if sydney:
            receive_stock(g, bin_syd, sydney)
        if melbourne:
            receive_stock(g, bin_mel, melbourne)
        goods[sku] = g
    return shop, wh_syd, wh_mel, bin_syd, bin_mel, goods


def source(shop):
    return order_source_for(shop, sleep=no_sleep)


def reserved(goods, warehouse=None) -> int:
    rows = StockBalance.objects.filter(goods=goods)
    if warehouse is not None:
        rows = rows.filter(warehouse=warehouse)
    return sum(rows.values_list("reserved", flat=True))
