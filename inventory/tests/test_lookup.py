"""Picker lookups: prefix matches per kind, keyset pages that cover every row once, permissions,
constant queries, and the indexes PostgreSQL uses for them."""

import pytest
from django.db import connection
from django.urls import reverse

from inventory.models import Goods, InboundSheet
from inventory.selectors import lookup
from inventory.tests.factories import BatchFactory, GoodsFactory, receive_stock
from warehouses.models import Bin
from warehouses.tests.factories import BinFactory, WarehouseFactory, ZoneFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, make_user):
    user = make_user("staff")
    client.force_login(user)
    return user


def lookup_json(client, kind, **params):
    response = client.get(reverse("inventory:lookup", args=[kind]), params)
    assert response.status_code == 200
    return response.json()


def test_goods_by_sku_prefix_name_prefix_and_barcode(client, staff):
    # given
    mask = GoodsFactory(sku="MASK-50", name="Face mask box", barcode="4006381333931")
    GoodsFactory(sku="MUG-1", name="Mug")
    glove = GoodsFactory(sku="GLV-1", name="Mask gloves")
    GoodsFactory(sku="MASK-OLD", is_active=False)
    # when / then: SKU prefix any case, then names starting with it
    values = [row["value"] for row in lookup_json(client, "goods", q="mas")["results"]]
    assert values == ["MASK-50", "GLV-1"]
    # and a barcode in its UPC/EAN/GTIN-14 spellings
    assert [r["id"] for r in lookup_json(client, "goods", q="04006381333931")["results"]] == [
        mask.pk
    ]
    row = lookup_json(client, "goods", q="GLV")["results"][0]
    assert row == {
        "id": glove.pk,
        "value": "GLV-1",
        "label": "GLV-1",
        "detail": "Mask gloves",
        "url": reverse("inventory:goods-detail", args=[glove.pk]),
    }


def test_goods_keyset_pages_cover_every_match_once(client, staff):
    # given 23 goods with one prefix and noise around them
    expected = sorted(GoodsFactory(sku=f"PAGE-{n:02d}").sku for n in range(23))
    GoodsFactory(sku="PAGF-1")
    GoodsFactory(sku="PAGD-1")
    # when
    seen, after = [], None
    while True:
        params = {"q": "page-", "limit": 10}
        if after:
            params["after"] = after
        data = lookup_json(client, "goods", **params)
        seen += [row["value"] for row in data["results"]]
        after = data["after"]
        if not after:
            break
    # then
    assert seen == expected


def test_bins_are_limited_to_the_chosen_warehouse_and_show_what_they_hold(client, staff):
    # given the same codes in two warehouses, stock in one bin
    zone = ZoneFactory()
    other = ZoneFactory()
    a1 = BinFactory(zone=zone, code="A-01")
    BinFactory(zone=zone, code="A-02")
    BinFactory(zone=zone, code="A-03", is_active=False)
    BinFactory(zone=other, code="A-01")
    for n in range(4):
        receive_stock(GoodsFactory(sku=f"G-{n}"), a1, 5 + n)
    # when
    data = lookup_json(client, "bin", q="a-0", warehouse=zone.warehouse_id)
    # then
    assert [row["value"] for row in data["results"]] == ["A-01", "A-02"]
    assert data["results"][0]["id"] == a1.pk
    assert "G-0 × 5" in data["results"][0]["detail"] and "+1" in data["results"][0]["detail"]
    # and without a warehouse there is nothing to choose from
    assert lookup_json(client, "bin", q="A")["results"] == []


def test_batches_of_one_goods_with_expiry_and_on_hand(client, staff):
    import datetime

    goods = GoodsFactory()
    batch = BatchFactory(goods=goods, batch_no="L-1", expiry_date=datetime.date(2027, 1, 31))
    BatchFactory(goods=goods, batch_no="K-1")
    BatchFactory(batch_no="L-2")  # another goods' batch
    receive_stock(goods, BinFactory(), 7, batch=batch)
    data = lookup_json(client, "batch", goods=goods.pk, q="l")
    assert data["results"] == [
        {"id": batch.pk, "value": "L-1", "label": "L-1", "detail": "2027-01-31 · 7", "url": ""}
    ]


def test_warehouses_and_documents(client, staff):
    warehouse = WarehouseFactory(code="SYD-1", name="Sydney")
    WarehouseFactory(code="MEL-1", name="Melbourne", is_active=False)
    assert [r["value"] for r in lookup_json(client, "warehouse", q="s")["results"]] == ["SYD-1"]
    sheet = InboundSheet.objects.create(warehouse=warehouse, created_by=staff, reference="PO-77")
    older = InboundSheet.objects.create(warehouse=warehouse, created_by=staff)
    by_number = lookup_json(client, "document", type="inbound", q=f"in-{sheet.pk}")["results"]
    assert [r["value"] for r in by_number] == [sheet.number]
    by_reference = lookup_json(client, "document", type="inbound", q="po-7")["results"]
    assert [r["id"] for r in by_reference] == [sheet.pk]
    newest_first = lookup_json(client, "document", type="inbound")["results"]
    assert [r["id"] for r in newest_first] == [older.pk, sheet.pk]
    assert lookup_json(client, "document", type="nonsense")["results"] == []


def test_html_fragment_for_htmx(client, staff):
    GoodsFactory(sku="FRAG-1", name="<b>bold</b>")
    response = client.get(
        reverse("inventory:lookup", args=["goods"]), {"q": "frag"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert 'role="option"' in body and 'data-value="FRAG-1"' in body
    assert "<b>bold</b>" not in body and "&lt;b&gt;" in body
    assert "HX-Request" in response["Vary"]


def test_permissions_and_unknown_kinds(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert client.get(reverse("inventory:lookup", args=["goods"])).status_code == 403
    assert client.get(reverse("inventory:lookup", args=["bin"])).status_code == 403
    assert lookup_json(client, "document", type="inbound")["results"] == []
    assert client.get(reverse("inventory:lookup", args=["nope"])).status_code == 404
    client.logout()
    assert client.get(reverse("inventory:lookup", args=["goods"])).status_code == 302


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 5000},
        {"after": "\x00" * 10},
        {"limit": "99999999999999999999"},
        {"warehouse": "abc"},
        {"goods": "-1"},
        {"q": "%_\\"},
    ],
)
def test_absurd_parameters_give_options_or_none_never_an_error(client, staff, params):
    for kind in ("goods", "bin", "batch", "warehouse", "document"):
        response = client.get(reverse("inventory:lookup", args=[kind]), params)
        assert response.status_code == 200, (kind, params)


def test_lookups_cost_constant_queries(staff, django_assert_max_num_queries):
    zone = ZoneFactory()
    for n in range(30):
        goods = GoodsFactory(sku=f"QC-{n:02d}", name=f"QC goods {n}")
        receive_stock(goods, BinFactory(zone=zone, code=f"QC-{n:02d}"), 1)
    with django_assert_max_num_queries(3):
        page = lookup.goods_lookup(user=staff, q="Q", limit=5)
    assert len(page.options) == 5 and page.after
    with django_assert_max_num_queries(2):
        bins = lookup.bin_lookup(user=staff, warehouse=zone.warehouse_id, q="QC", limit=20)
    assert len(bins.options) == 20 and all("× 1" in option.detail for option in bins.options)


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_prefix_lookups_use_the_byte_order_indexes(staff):
    # given enough rows for the planner to care
    zone = ZoneFactory()
    Goods.objects.bulk_create(Goods(sku=f"IDX-{n:05d}", name=f"N{n}") for n in range(3000))
    Bin.objects.bulk_create(
        Bin(zone=zone, warehouse=zone.warehouse, code=f"I-{n:05d}") for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_goods; ANALYZE warehouses_bin")
    # when / then: the ordered prefix scans read the indexes, not the table
    goods = Goods.objects.filter(is_active=True).annotate(lookup_key=lookup._key("sku"))
    goods = goods.filter(lookup_key__startswith="IDX-0", lookup_key__gt="IDX-00100")
    assert "goods_sku_prefix_idx" in _plan(goods.order_by("lookup_key", "pk")[:21])
    bins = Bin.objects.filter(warehouse=zone.warehouse, is_active=True)
    bins = bins.annotate(lookup_key=lookup._key("code")).filter(lookup_key__startswith="I-01")
    assert "bin_wh_code_prefix_idx" in _plan(bins.order_by("lookup_key", "pk")[:21])


def test_batches_by_the_sku_typed_in_the_form(client, staff):
    goods = GoodsFactory(sku="SKU-TYPED", barcode="4006381333931")
    BatchFactory(goods=goods, batch_no="T-1")
    for typed in ("sku-typed", "4006381333931"):
        data = lookup_json(client, "batch", sku=typed, q="t")
        assert [row["value"] for row in data["results"]] == ["T-1"], typed
    assert lookup_json(client, "batch", sku="NOPE")["results"] == []


def test_line_and_transfer_forms_use_pickers_bound_to_their_warehouse():
    from inventory.forms_stock import BinTransferForm, InboundLineForm, OutboundLineForm

    inbound = InboundLineForm(warehouse_id=7).as_p()
    assert 'data-picker="/inventory/lookup/goods/"' in inbound
    assert (
        'data-picker="/inventory/lookup/bin/"' in inbound
        and 'data-picker-fixed="warehouse:7"' in inbound
    )
    assert 'data-picker="/inventory/lookup/batch/"' in inbound
    assert 'data-picker-fields="sku:id_goods"' in inbound
    assert "js/picker.js" in inbound
    assert 'data-picker-fixed="warehouse:3"' in OutboundLineForm(warehouse_id=3).as_p()
    transfer = BinTransferForm().as_p()
    assert transfer.count('data-picker-fields="warehouse:id_warehouse"') == 2
