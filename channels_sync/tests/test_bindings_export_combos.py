"""The bindings export answers "what stock is affected" for plain and combo listings alike."""

import csv
import io

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from channels_sync.tests.factories import BindingFactory, ListingFactory, ShopFactory
from inventory.tests.factories import ComboComponentFactory, GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory
from wms import roles

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

HEADERS = [
    "Listing SKU",
    "Goods SKU",
    "Warehouse",
    "Priority",
    "Rule",
    "On hand",
    "Frozen",
    "Reserved",
    "Counted",
    "Sellable",
    "Component SKU",
    "Units per combo",
    "Combos from this component",
]


@pytest.fixture
def operator(django_user_model):
    user = django_user_model.objects.create_user("export-op")
    user.groups.add(Group.objects.get(name=roles.CHANNEL_OPERATOR))
    return user


@pytest.fixture
def shop_with_combo():
    """A shop fed by two warehouses; a plain listing and a combo listing (2 x BOLT + 1 x NUT)."""
    shop = ShopFactory()
    bin_a = BinFactory(zone__warehouse__code="WH-A")
    bin_b = BinFactory(zone__warehouse__code="WH-B")
    BindingFactory(shop=shop, warehouse=bin_a.warehouse, priority=1)
    BindingFactory(shop=shop, warehouse=bin_b.warehouse, priority=2)
    combo = GoodsFactory(sku="KIT-1", is_combo=True)
    bolt = ComboComponentFactory(combo=combo, component=GoodsFactory(sku="BOLT"), quantity=2)
    nut = ComboComponentFactory(combo=combo, component=GoodsFactory(sku="NUT"), quantity=1)
    receive_stock(bolt.component, bin_a, 7)
    receive_stock(bolt.component, bin_b, 4)
    receive_stock(nut.component, bin_a, 9)
    plain = ListingFactory(shop=shop, sku="PLAIN-L", goods=GoodsFactory(sku="PLAIN-G"))
    receive_stock(plain.goods, bin_a, 3)
    ListingFactory(shop=shop, sku="KIT-L", goods=combo)
    return shop


def _xlsx_rows(response) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def test_export_has_a_row_per_component_and_warehouse_of_a_combo_listing(
    client, operator, shop_with_combo
):
    # given
    client.force_login(operator)
    url = reverse("channels_sync:bindings-export", args=[shop_with_combo.pk])
    # when
    response = client.get(url, {"format": "xlsx"})
    # then: a kit is made from one warehouse's stock: at A bolts make 7 // 2 = 3, nuts 9; at B
    # bolts make 2, nuts 0; the kit sells min(3, 9) + min(2, 0) = 3
    assert response.status_code == 200
    rows = _xlsx_rows(response)
    assert rows[0] == HEADERS
    kit = [row for row in rows if row[0] == "KIT-L"]
    assert kit == [
        ["KIT-L", "KIT-1", "WH-A", 1, "bound", 7, 0, 0, 7, 3, "BOLT", 2, 3],
        ["KIT-L", "KIT-1", "WH-B", 2, "bound", 4, 0, 0, 4, 3, "BOLT", 2, 2],
        ["KIT-L", "KIT-1", "WH-A", 1, "bound", 9, 0, 0, 9, 3, "NUT", 1, 9],
        ["KIT-L", "KIT-1", "WH-B", 2, "bound", 0, 0, 0, 0, 3, "NUT", 1, 0],
    ]


def test_export_keeps_the_columns_of_plain_goods_rows(client, operator, shop_with_combo):
    # given
    client.force_login(operator)
    url = reverse("channels_sync:bindings-export", args=[shop_with_combo.pk])
    # when
    rows = _xlsx_rows(client.get(url, {"format": "xlsx"}))
    # then: the first ten columns as before, the combo columns empty
    plain = [row for row in rows if row[0] == "PLAIN-L"]
    assert plain == [
        ["PLAIN-L", "PLAIN-G", "WH-A", 1, "bound", 3, 0, 0, 3, 3, None, None, None],
        ["PLAIN-L", "PLAIN-G", "WH-B", 2, "bound", 0, 0, 0, 0, 3, None, None, None],
    ]


def test_csv_export_lists_combo_listings_too(client, operator, shop_with_combo):
    # given
    client.force_login(operator)
    url = reverse("channels_sync:bindings-export", args=[shop_with_combo.pk])
    # when
    response = client.get(url)
    # then
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == HEADERS
    assert ["PLAIN-L", "PLAIN-G", "WH-A", "1", "bound", "3", "0", "0", "3", "3", "", "", ""] in rows
    assert [
        "KIT-L",
        "KIT-1",
        "WH-A",
        "1",
        "bound",
        "9",
        "0",
        "0",
        "9",
        "3",
        "NUT",
        "1",
        "9",
    ] in rows
