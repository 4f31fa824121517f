"""Stock screens: permissions, happy paths, refusals (422, nothing written), exports, and a
constant number of queries per list page."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory import hooks, ledger
from inventory.models import (
    DocumentStatus,
    InboundSheet,
    OutboundSheet,
    StockBalance,
    StockCount,
    StockMovement,
    StockTransfer,
)
from inventory.services import stock as services
from inventory.tests.factories import BatchFactory, GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, make_user):
    user = make_user("staff")
    client.force_login(user)
    return user


@pytest.fixture
def bins():
    first = BinFactory(code="A-01")
    return first, BinFactory(code="A-02", zone=first.zone)


def on_hand(goods, bin):
    row = StockBalance.objects.filter(goods=goods, bin=bin).first()
    return row.on_hand if row else 0


# --- permissions ----------------------------------------------------------------------------

LIST_PAGES = [
    "inventory:stock-query",
    "inventory:ledger",
    "inventory:inbound-list",
    "inventory:outbound-list",
    "inventory:transfer-list",
    "inventory:count-list",
    "inventory:transfer-bin",
    "inventory:inbound-create",
    "inventory:count-create",
]


@pytest.mark.parametrize("name", LIST_PAGES)
def test_anonymous_visitors_are_sent_to_login(client, name):
    # when
    response = client.get(reverse(name))

    # then
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("name", LIST_PAGES)
def test_a_store_manager_gets_403_on_stock_screens(client, make_user, name):
    # given
    client.force_login(make_user("store"))

    # when
    response = client.get(reverse(name))

    # then
    assert response.status_code == 403


@pytest.mark.parametrize("name", LIST_PAGES)
def test_staff_open_every_stock_screen(client, staff, name):
    # when
    response = client.get(reverse(name))

    # then
    assert response.status_code == 200


def test_staff_cannot_post_a_count_but_a_manager_can(client, make_user, bins):
    # given
    a, _ = bins
    goods = GoodsFactory()
    staff = make_user("staff")
    count = services.count_create(warehouse=a.warehouse, reason="check", user=staff)
    services.count_line_set(count=count, goods=goods, bin=a, counted=4)
    url = reverse("inventory:count-post", args=[count.pk])

    # when
    client.force_login(staff)
    refused = client.post(url)
    client.force_login(make_user("manager"))
    posted = client.post(url)

    # then
    assert refused.status_code == 403
    assert posted.status_code == 302
    assert on_hand(goods, a) == 4


def test_qc_inspector_sees_stock_but_cannot_post_sheets(client, make_user, bins):
    # given
    a, _ = bins
    clerk = make_user("staff")
    sheet = services.inbound_sheet_create(warehouse=a.warehouse, type="purchase", user=clerk)
    services.inbound_line_add(sheet=sheet, goods=GoodsFactory(), bin=a, quantity=1)
    client.force_login(make_user("qc"))

    # when
    query = client.get(reverse("inventory:stock-query"))
    post = client.post(reverse("inventory:inbound-post", args=[sheet.pk]))

    # then
    assert query.status_code == 200
    assert post.status_code == 403
    assert not StockMovement.objects.exists()


def test_unknown_documents_are_404(client, staff):
    # when / then
    for name in (
        "inventory:inbound-detail",
        "inventory:outbound-detail",
        "inventory:transfer-detail",
        "inventory:count-detail",
        "inventory:stock-card",
    ):
        assert client.get(reverse(name, args=[999999])).status_code == 404


# --- inbound and outbound screens -----------------------------------------------------------


def test_receive_on_an_inbound_sheet_through_the_screens(client, staff, bins):
    # given
    a, _ = bins
    goods = GoodsFactory(sku="TEA-1")

    # when
    created = client.post(
        reverse("inventory:inbound-create"),
        {"warehouse": a.warehouse_id, "type": "purchase", "reference": "PO-7"},
    )
    sheet = InboundSheet.objects.get()
    line = client.post(
        reverse("inventory:inbound-line-add", args=[sheet.pk]),
        {
            "goods": "tea-1",
            "bin": "a-01",
            "quantity": "12",
            "batch_no": "L1",
            "expiry_date": "2031-01-01",
        },
        headers={"HX-Request": "true"},
    )
    posted = client.post(reverse("inventory:inbound-post", args=[sheet.pk]))

    # then
    assert created.status_code == 302
    assert line.status_code == 200 and "TEA-1" in line.content.decode()
    assert posted.status_code == 302
    sheet.refresh_from_db()
    assert sheet.status == DocumentStatus.POSTED
    balance = StockBalance.objects.get(goods=goods)
    assert (balance.on_hand, balance.batch.batch_no, str(balance.batch.expiry_date)) == (
        12,
        "L1",
        "2031-01-01",
    )
    detail = client.get(reverse("inventory:inbound-detail", args=[sheet.pk])).content.decode()
    assert "Movements posted" in detail and "PO-7" in detail


def test_bad_line_input_is_a_422_and_writes_nothing(client, staff, bins):
    # given
    a, _ = bins
    sheet = services.inbound_sheet_create(warehouse=a.warehouse, type="purchase", user=staff)
    url = reverse("inventory:inbound-line-add", args=[sheet.pk])
    GoodsFactory(sku="OK-1")
    BinFactory(code="FAR-1")

    # when
    responses = [
        client.post(url, {"goods": "NOPE", "bin": "A-01", "quantity": "1"}),
        client.post(url, {"goods": "OK-1", "bin": "A-01", "quantity": "0"}),
        client.post(url, {"goods": "OK-1", "bin": "A-01", "quantity": "-4"}),
        client.post(url, {"goods": "OK-1", "bin": "FAR-1", "quantity": "1"}),
        client.post(url, {"goods": "OK-1", "bin": "A-01", "quantity": "abc"}),
    ]

    # then
    assert [r.status_code for r in responses] == [422] * 5
    assert "No goods with SKU" in responses[0].content.decode()
    assert "No bin FAR-1" in responses[3].content.decode()
    assert not sheet.lines.exists()


def test_posting_twice_from_two_tabs_shows_a_message_and_posts_once(client, staff, bins):
    # given
    a, _ = bins
    goods = GoodsFactory()
    sheet = services.inbound_sheet_create(warehouse=a.warehouse, type="purchase", user=staff)
    services.inbound_line_add(sheet=sheet, goods=goods, bin=a, quantity=3)
    url = reverse("inventory:inbound-post", args=[sheet.pk])

    # when
    client.post(url)
    second = client.post(url, follow=True)

    # then
    assert "already posted" in second.content.decode()
    assert on_hand(goods, a) == 3


def test_shipping_more_than_available_shows_the_shortfall(client, staff, bins):
    # given
    a, _ = bins
    goods = GoodsFactory(sku="PEN-1")
    receive_stock(goods, a, 2)
    sheet = services.outbound_sheet_create(
        warehouse=a.warehouse, type=OutboundSheet.Type.ORDER_SHIPMENT, user=staff
    )
    services.outbound_line_add(sheet=sheet, goods=goods, quantity=5)

    # when
    response = client.post(reverse("inventory:outbound-post", args=[sheet.pk]), follow=True)

    # then
    page = response.content.decode()
    assert "Not enough PEN-1: 5 requested, 2 available: 2 on hand." in page
    sheet.refresh_from_db()
    assert sheet.status == DocumentStatus.DRAFT and on_hand(goods, a) == 2


def test_reversing_a_sheet_through_the_screen(client, staff, bins):
    # given
    a, _ = bins
    goods = GoodsFactory()
    sheet = services.inbound_sheet_create(warehouse=a.warehouse, type="purchase", user=staff)
    services.inbound_line_add(sheet=sheet, goods=goods, bin=a, quantity=3)
    services.inbound_sheet_post(sheet_id=sheet.pk, user=staff)
    url = reverse("inventory:inbound-reverse", args=[sheet.pk])

    # when
    without_reason = client.post(url, {"reason": ""})
    reversed_ = client.post(url, {"reason": "wrong supplier"})

    # then
    assert without_reason.status_code == 422
    assert reversed_.status_code == 302
    assert on_hand(goods, a) == 0


def test_expired_override_is_offered_only_to_holders_of_the_permission(client, make_user, bins):
    # given
    client.force_login(make_user("staff"))

    # when
    staff_form = client.get(reverse("inventory:outbound-create")).content.decode()
    client.force_login(make_user("manager"))
    manager_form = client.get(reverse("inventory:outbound-create")).content.decode()

    # then
    assert "allow_expired" not in staff_form
    assert "allow_expired" in manager_form


# --- transfers and counts -------------------------------------------------------------------


def test_bin_transfer_screen_moves_stock_once_per_form(client, staff, bins):
    # given
    a, b = bins
    goods = GoodsFactory(sku="CUP-1")
    receive_stock(goods, a, 5)
    token = client.get(reverse("inventory:transfer-bin")).context["form"].initial["token"]
    data = {
        "warehouse": a.warehouse_id,
        "goods": "CUP-1",
        "from_bin": "A-01",
        "to_bin": "A-02",
        "quantity": "2",
        "token": token,
    }

    # when
    first = client.post(reverse("inventory:transfer-bin"), data)
    double_click = client.post(reverse("inventory:transfer-bin"), data)

    # then
    assert first.status_code == 302
    assert double_click.status_code == 422
    assert "already" in double_click.content.decode()
    assert (on_hand(goods, a), on_hand(goods, b)) == (3, 2)


def test_bin_transfer_refusals_are_422(client, staff, bins):
    # given
    a, _ = bins
    goods = GoodsFactory(sku="CUP-2")
    receive_stock(goods, a, 1)
    base = {"warehouse": a.warehouse_id, "goods": "CUP-2", "from_bin": "A-01", "to_bin": "A-02"}

    # when
    too_many = client.post(
        reverse("inventory:transfer-bin"), {**base, "quantity": 5, "token": "t1"}
    )
    same_bin = client.post(
        reverse("inventory:transfer-bin"), {**base, "to_bin": "A-01", "quantity": 1, "token": "t2"}
    )

    # then
    assert too_many.status_code == 422 and "Not enough " in too_many.content.decode()
    assert same_bin.status_code == 422
    assert on_hand(goods, a) == 1


def test_warehouse_transfer_through_the_screens(client, staff, bins):
    # given
    a, _ = bins
    goods = GoodsFactory(sku="BOX-1")
    receive_stock(goods, a, 10)
    far = BinFactory(code="B-09")

    # when
    client.post(
        reverse("inventory:transfer-create"),
        {"from_warehouse": a.warehouse_id, "to_warehouse": far.warehouse_id},
    )
    transfer = StockTransfer.objects.get()
    client.post(
        reverse("inventory:transfer-line-add", args=[transfer.pk]),
        {"goods": "BOX-1", "from_bin": "A-01", "quantity": "4"},
    )
    client.post(reverse("inventory:transfer-ship", args=[transfer.pk]))
    in_transit = client.get(reverse("inventory:stock-query"), {"group": "goods"}).content.decode()
    line = transfer.lines.get()
    missing_reason = client.post(
        reverse("inventory:transfer-receive", args=[transfer.pk]),
        {f"bin_{line.pk}": "B-09", f"received_{line.pk}": "3"},
    )
    received = client.post(
        reverse("inventory:transfer-receive", args=[transfer.pk]),
        {f"bin_{line.pk}": "B-09", f"received_{line.pk}": "3", f"reason_{line.pk}": "lost"},
    )

    # then
    assert 'class="num in-transit">4<' in in_transit
    assert missing_reason.status_code == 422
    assert received.status_code == 302
    assert (on_hand(goods, a), on_hand(goods, far)) == (6, 3)


def test_count_screens_record_and_post(client, make_user, bins):
    # given
    a, _ = bins
    goods = GoodsFactory(sku="NUT-1")
    receive_stock(goods, a, 9)
    client.force_login(make_user("manager"))

    # when
    client.post(
        reverse("inventory:count-create"), {"warehouse": a.warehouse_id, "reason": "monthly"}
    )
    count = StockCount.objects.get()
    client.post(
        reverse("inventory:count-line-set", args=[count.pk]),
        {"goods": "NUT-1", "bin": "A-01", "counted": "7"},
    )
    client.post(reverse("inventory:count-post", args=[count.pk]))

    # then
    assert on_hand(goods, a) == 7
    page = client.get(reverse("inventory:count-detail", args=[count.pk])).content.decode()
    assert "-2" in page


# --- stock query, ledger, stock card --------------------------------------------------------


def test_stock_query_shows_frozen_in_blue_and_available(client, staff, bins, monkeypatch):
    # given
    a, _ = bins
    goods = GoodsFactory(sku="MILK-1")
    balance = receive_stock(goods, a, 10)
    ledger.freeze(holds=[ledger.Hold(balance.pk, 4)], document=ledger.Document("other"))
    monkeypatch.setattr(hooks, "_frozen_link", [])

    # when
    page = client.get(reverse("inventory:stock-query"), {"q": "milk"}).content.decode()

    # then
    assert 'class="num card-frozen frozen">4<' in page
    assert '<td class="num available"><strong>6</strong></td>' in page


def test_frozen_quantities_link_to_the_freezes_holding_them(client, staff, bins, monkeypatch):
    # given: the provider the freezes app registers
    a, _ = bins
    balance = receive_stock(GoodsFactory(sku="MILK-2"), a, 10)
    ledger.freeze(holds=[ledger.Hold(balance.pk, 4)], document=ledger.Document("other"))
    asked = []

    def links(ids, *, user):
        asked.append(ids)
        return {pk: f"/freezes/holds/?balance={pk}" for pk in ids}

    monkeypatch.setattr(hooks, "_frozen_link", [links])

    # when
    page = client.get(reverse("inventory:stock-query"), {"q": "milk-2"}).content.decode()

    # then
    assert f'<a class="frozen" href="/freezes/holds/?balance={balance.pk}"' in page
    assert asked == [[balance.pk]]


@pytest.mark.parametrize("group", ["bin", "goods", "warehouse", "batch"])
def test_stock_query_pages_cost_the_same_queries_whatever_their_size(
    client, staff, bins, django_assert_max_num_queries, group
):
    # given
    a, b = bins
    for i in range(3):
        receive_stock(GoodsFactory(sku=f"S-{i}"), a, 1)
    url = reverse("inventory:stock-query")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(url, {"group": group})
    for i in range(3, 60):
        goods = GoodsFactory(sku=f"S-{i}")
        receive_stock(goods, a, 1, batch=BatchFactory(goods=goods))
        receive_stock(goods, b, 1)

    # when / then: a full page (50 rows, with more after) costs no more than 3 rows did
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url, {"group": group})
    assert response.context["page"].has_next


def test_stock_query_keyset_pages_cover_every_row_once(client, staff, bins):
    # given
    a, b = bins
    for i in range(70):
        goods = GoodsFactory(sku=f"K-{i:03d}")
        receive_stock(goods, a, 1)
        receive_stock(goods, b, 2)
    url = reverse("inventory:stock-query")

    # when
    seen, cursor = [], None
    while True:
        page = client.get(url, {"cursor": cursor} if cursor else {}).context["page"]
        seen += [(row.sku, row.balance_id) for row in page.rows]
        cursor = page.next_cursor
        if not cursor:
            break

    # then
    assert len(seen) == 140 == len(set(seen))
    assert seen == sorted(seen)


def test_stock_query_filters(client, staff, bins):
    # given
    a, _ = bins
    soon = GoodsFactory(sku="F-SOON")
    later = GoodsFactory(sku="F-LATER")
    today = timezone.localdate()
    receive_stock(soon, a, 1, batch=BatchFactory(goods=soon, expiry_date=today))
    receive_stock(
        later, a, 1, batch=BatchFactory(goods=later, expiry_date=today.replace(year=today.year + 2))
    )
    url = reverse("inventory:stock-query")

    # when
    expiring = client.get(url, {"expiry_before": str(today.replace(year=today.year + 1))}).context[
        "page"
    ]
    by_brand = client.get(url, {"brand": soon.brand_id}).context["page"]
    by_category = client.get(url, {"category": later.category_id}).context["page"]
    bad = client.get(url, {"warehouse": "not-a-number"})

    # then
    assert [r.sku for r in expiring.rows] == ["F-SOON"]
    assert [r.sku for r in by_brand.rows] == ["F-SOON"]
    assert [r.sku for r in by_category.rows] == ["F-LATER"]
    assert bad.status_code == 422


def test_ledger_lists_and_filters_movements_with_constant_queries(
    client, staff, bins, django_assert_max_num_queries
):
    # given
    a, b = bins
    goods = GoodsFactory(sku="LED-1")
    receive_stock(goods, a, 70, operator=staff)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(reverse("inventory:ledger"))
    for _ in range(60):
        ledger.transfer(
            moves=[ledger.Move(goods.pk, a.pk, b.pk, 1)],
            document=ledger.Document("transfer", ref="TR-1"),
            operator=staff,
        )

    # when
    with django_assert_max_num_queries(len(small.captured_queries)):
        full = client.get(reverse("inventory:ledger"))
    by_kind = client.get(reverse("inventory:ledger"), {"kind": "in_purchase"}).context["page"]
    by_doc = client.get(reverse("inventory:ledger"), {"document": "tr-1"}).context["page"]
    by_operator = client.get(reverse("inventory:ledger"), {"operator": staff.username}).context[
        "page"
    ]

    # then
    assert full.context["page"].has_next
    assert [m.kind for m in by_kind.rows] == ["in_purchase"]
    assert len(by_doc.rows) == 50 and by_doc.has_next
    assert len(by_operator.rows) == 50


def test_stock_card_shows_the_balance_over_time(client, staff, bins):
    # given
    a, _ = bins
    goods = GoodsFactory()
    balance = receive_stock(goods, a, 10)
    ledger.issue(
        kind="out_order_shipment",
        warehouse_id=a.warehouse_id,
        lines=[ledger.Pick(goods.pk, 3, balance_id=balance.pk)],
        document=ledger.Document("other"),
    )
    receive_stock(goods, a, 5)

    # when
    response = client.get(reverse("inventory:stock-card", args=[goods.pk]))

    # then
    lines = response.context["history"].rows
    assert [line.on_hand_after for line in lines] == [12, 7, 10]


def test_stock_card_running_balance_is_right_on_later_pages(client, staff, bins):
    # given
    a, _ = bins
    goods = GoodsFactory()
    for _ in range(55):
        receive_stock(goods, a, 1)
    first = client.get(reverse("inventory:stock-card", args=[goods.pk])).context["history"]

    # when
    second = client.get(
        reverse("inventory:stock-card", args=[goods.pk]), {"cursor": first.next_cursor}
    ).context["history"]

    # then
    assert [line.on_hand_after for line in first.rows][:2] == [55, 54]
    assert [line.on_hand_after for line in second.rows] == [5, 4, 3, 2, 1]


def test_goods_stock_section_loads_for_the_goods_page(client, staff, bins):
    # given
    a, _ = bins
    goods = GoodsFactory()
    receive_stock(goods, a, 4)

    # when
    response = client.get(
        reverse("inventory:stock-goods-section", args=[goods.pk]), headers={"HX-Request": "true"}
    )

    # then
    assert response.status_code == 200
    assert "<strong>4</strong>" in response.content.decode()


# --- exports --------------------------------------------------------------------------------


def test_stock_export_csv_escapes_formulas(client, staff, bins):
    # given
    a, _ = bins
    receive_stock(GoodsFactory(sku="EXP-1", name='=HYPERLINK("http://x")'), a, 3)

    # when
    response = client.get(reverse("inventory:stock-export"), {"format": "csv"})

    # then
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[1][:2] == ["EXP-1", '\'=HYPERLINK("http://x")']
    assert rows[1][-4:] == ["3", "0", "0", "3"]


def test_ledger_export_xlsx_and_permission(client, make_user, bins):
    # given
    a, _ = bins
    receive_stock(GoodsFactory(sku="+EXP-2"), a, 3)
    client.force_login(make_user("qc"))
    refused = client.get(reverse("inventory:ledger-export"), {"format": "xlsx"})
    client.force_login(make_user("manager"))

    # when
    response = client.get(reverse("inventory:ledger-export"), {"format": "xlsx"})

    # then
    assert refused.status_code == 403
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[1][3] == "'+EXP-2"
    assert rows[1][10] == 3


def test_inbound_list_offers_the_excel_import_and_its_template(client, staff):
    # when
    page = client.get(reverse("inventory:inbound-list")).content.decode()

    # then
    assert "?resource=inbound_sheet" in page
    assert reverse("inventory:import-template", args=["inbound_sheet"]) in page


def test_goods_detail_page_carries_the_stock_section(client, staff, bins):
    # given
    goods = GoodsFactory()
    receive_stock(goods, bins[0], 3)

    # when
    page = client.get(reverse("inventory:goods-detail", args=[goods.pk])).content.decode()

    # then: the section loads its figures by htmx, and links to the stock card without it
    assert reverse("inventory:stock-goods-section", args=[goods.pk]) in page
    assert reverse("inventory:stock-card", args=[goods.pk]) in page


@pytest.mark.parametrize(
    "key",
    [
        ["2024-13-45T00:00:00", 1],  # a date that cannot exist
        ["2024-01-01T00:00:00", 10**30],  # beyond a database integer
        [1e999],  # infinity
        ["K-1", 10**30],
    ],
)
def test_a_tampered_cursor_shows_the_first_page_not_an_error(client, staff, bins, key):
    # given
    import base64
    import json

    goods = GoodsFactory(sku="K-1")
    receive_stock(goods, bins[0], 1)
    cursor = base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")

    # when / then
    for url in [
        reverse("inventory:stock-query"),
        reverse("inventory:ledger"),
        reverse("inventory:stock-card", args=[goods.pk]),
    ]:
        response = client.get(url, {"cursor": cursor})
        assert response.status_code == 200, url
