"""Bin lookup by bin code or by the goods a bin holds (SKU, barcode, name), with the warehouse,
zone type and status filters, keyset-paged ("search by bin or goods name" in the manual)."""

import pytest
from django.urls import reverse
from django.utils import translation

from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses import selectors
from warehouses.models import Zone
from warehouses.tests.factories import BinFactory, WarehouseFactory, ZoneFactory
from wms.pagination import keyset_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    sydney, melbourne = WarehouseFactory(code="SYD"), WarehouseFactory(code="MEL")
    pick = ZoneFactory(warehouse=sydney, code="P", type=Zone.Type.PICKING)
    bulk = ZoneFactory(warehouse=sydney, code="B", type=Zone.Type.STORAGE)
    mel = ZoneFactory(warehouse=melbourne, code="P", type=Zone.Type.PICKING)
    bins = {
        "pick": BinFactory(zone=pick, code="A-01"),
        "bulk": BinFactory(zone=bulk, code="R-01"),
        "mel": BinFactory(zone=mel, code="A-01"),
        "tea-code": BinFactory(zone=pick, code="TEA-9"),  # a bin code that looks like a SKU
        "empty": BinFactory(zone=pick, code="A-02"),
    }
    tea = GoodsFactory(sku="TEA-GREEN", name="Green tea 100g", barcode="6901234567892")
    cup = GoodsFactory(sku="CUP-1", name="Tea cup")
    receive_stock(tea, bins["pick"], 5)
    receive_stock(tea, bins["mel"], 2)
    receive_stock(cup, bins["bulk"], 1)
    return bins


def _codes(queryset):
    return [(b.warehouse.code, b.code) for b in queryset]


def test_search_finds_bins_by_code_and_by_the_goods_they_hold(store):
    # when
    by_sku = selectors.bin_lookup(user=None, search="tea-green")
    by_barcode = selectors.bin_lookup(user=None, search="6901234567892")
    by_name = selectors.bin_lookup(user=None, search="TEA")
    by_code = selectors.bin_lookup(user=None, search="a-0")

    # then
    assert _codes(by_sku) == [("MEL", "A-01"), ("SYD", "A-01")]
    assert _codes(by_barcode) == [("MEL", "A-01"), ("SYD", "A-01")]
    assert _codes(by_name) == [("MEL", "A-01"), ("SYD", "A-01"), ("SYD", "R-01"), ("SYD", "TEA-9")]
    assert _codes(by_code) == [("MEL", "A-01"), ("SYD", "A-01"), ("SYD", "A-02")]


def test_search_keeps_the_warehouse_zone_type_and_status_filters(store):
    # given
    sydney = store["pick"].warehouse
    store["pick"].is_active = False
    store["pick"].save()

    # when
    in_sydney = selectors.bin_lookup(user=None, search="tea", warehouse=sydney)
    storage = selectors.bin_lookup(user=None, search="tea", zone_type=Zone.Type.STORAGE)
    active = selectors.bin_lookup(user=None, search="tea-green", is_active=True)

    # then
    assert _codes(in_sydney) == [("SYD", "A-01"), ("SYD", "R-01"), ("SYD", "TEA-9")]
    assert _codes(storage) == [("SYD", "R-01")]
    assert _codes(active) == [("MEL", "A-01")]


def test_a_bin_whose_stock_left_is_not_found_by_its_old_goods(store):
    # given: everything shipped out of the Melbourne bin
    from inventory import ledger
    from inventory.models import StockBalance, StockMovement

    balance = StockBalance.objects.get(bin=store["mel"])
    ledger.issue(
        kind=StockMovement.Kind.OUTBOUND_OTHER,
        warehouse_id=balance.warehouse_id,
        lines=[ledger.Pick(goods_id=balance.goods_id, quantity=2, balance_id=balance.pk)],
        document=ledger.Document(type="other", ref="T"),
    )

    # when / then
    assert _codes(selectors.bin_lookup(user=None, search="TEA-GREEN")) == [("SYD", "A-01")]


def test_the_search_page_costs_a_constant_number_of_queries(store, django_assert_num_queries):
    # given: many more bins holding tea
    zone = store["pick"].zone
    for index in range(30):
        receive_stock(
            GoodsFactory(sku=f"TEA-{index:02d}"), BinFactory(zone=zone, code=f"T-{index}"), 1
        )

    # when / then: goods -> bins, the count, the page
    with django_assert_num_queries(3):
        page = keyset_page(
            selectors.bin_lookup(user=None, search="tea"), per_page=50, with_count=True
        )
        rows = [(b.code, b.zone.code, b.warehouse.code) for b in page.rows]
    assert page.count == len(rows) == 34


def test_the_bin_lookup_screen_searches_goods_in_both_languages(client, make_user, store):
    # given
    client.force_login(make_user("staff"))
    url = reverse("warehouses:bin-lookup")

    # when
    english = client.get(url, {"code": "green tea", "warehouse": store["pick"].warehouse_id})
    with translation.override("zh-hans"):
        chinese = client.get(url, {"code": "6901234567892"}, HTTP_ACCEPT_LANGUAGE="zh-hans")

    # then
    assert english.status_code == chinese.status_code == 200
    assert [b.pk for b, _contents in english.context["rows"]] == [store["pick"].pk]
    assert "TEA-GREEN" in english.content.decode()
    assert len(chinese.context["rows"]) == 2
    assert "货位" in chinese.content.decode()
