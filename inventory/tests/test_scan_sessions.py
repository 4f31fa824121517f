"""Scanning on the floor: receive, pick, move and count by scan, through the screens' own URLs
(what scan.js posts), with refusals at once, the bounce question, the services' rules, the
permissions, and the queries one scan costs."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory import ledger
from inventory.codes import gs1_human_readable, gtin_check_digit
from inventory.exceptions import StockError
from inventory.models import (
    InboundLine,
    OutboundLine,
    OutboundSheet,
    ScanSession,
    StockBalance,
    StockCount,
    StockMovement,
    StockTransfer,
)
from inventory.services import scanning
from inventory.services import stock as services
from inventory.tests.factories import BatchFactory, GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory, ZoneFactory

pytestmark = pytest.mark.django_db

EAN = "4006381333931"


@pytest.fixture
def staff(client, make_user):
    user = make_user("staff")
    client.force_login(user)
    return user


@pytest.fixture
def zone():
    return ZoneFactory(warehouse__code="SYD")


def scan(client, url, code, **extra):
    response = client.post(url, {"code": code, "quantity": 1, **extra}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200, response.content[:500]
    return response


def outcome(response) -> str:
    html = response.content.decode()
    marker = 'data-outcome="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def _pick_sheet(user, zone, goods, quantity, **line):
    """An order shipment sheet of the zone's warehouse with one line, and its pick screen."""
    sheet = services.outbound_sheet_create(
        warehouse=zone.warehouse, type="order_shipment", user=user
    )
    services.outbound_line_add(sheet=sheet, goods=goods, quantity=quantity, **line)
    return sheet, reverse("inventory:scan-pick", args=[sheet.pk])


# --- receiving ----------------------------------------------------------------------------------


def test_receive_bin_then_goods_adds_one_and_a_repeat_adds_another(client, staff, zone):
    # given a draft inbound sheet and a bin
    bin_ = BinFactory(zone=zone, code="A-01")
    goods = GoodsFactory(sku="MASK-BOX-50", barcode=EAN)
    sheet = services.inbound_sheet_create(warehouse=zone.warehouse, type="purchase", user=staff)
    url = reverse("inventory:scan-receive", args=[sheet.pk])
    # when the clerk scans the bin label, then the goods twice (a second apart)
    assert outcome(scan(client, url, "SYD/A-01")) == "ok"
    assert outcome(scan(client, url, EAN)) == "ok"
    response = scan(client, url, EAN, gap_ms=1200)
    # then one line of two units in that bin
    assert outcome(response) == "ok"
    line = InboundLine.objects.get(sheet=sheet)
    assert (line.goods, line.bin, line.quantity, line.batch) == (goods, bin_, 2, None)
    assert "MASK-BOX-50" in response.content.decode()


def test_receive_goods_before_a_bin_is_refused(client, staff, zone):
    GoodsFactory(sku="MASK")
    sheet = services.inbound_sheet_create(warehouse=zone.warehouse, type="purchase", user=staff)
    response = scan(client, reverse("inventory:scan-receive", args=[sheet.pk]), "MASK")
    assert outcome(response) == "refused"
    assert "Scan the bin first" in response.content.decode()
    assert not InboundLine.objects.exists()


def test_receive_gs1_fills_batch_and_expiry(client, staff, zone):
    # given goods with a GTIN
    BinFactory(zone=zone, code="A-01")
    body = "0950110153000"
    gtin = body + str(gtin_check_digit(body))
    goods = GoodsFactory(barcode=gtin[1:])
    sheet = services.inbound_sheet_create(warehouse=zone.warehouse, type="purchase", user=staff)
    url = reverse("inventory:scan-receive", args=[sheet.pk])
    expiry = datetime.date.today() + datetime.timedelta(days=400)
    code = gs1_human_readable([("01", gtin), ("10", "LOT7"), ("17", expiry.strftime("%y%m%d"))])
    # when
    scan(client, url, "A-01")
    response = scan(client, url, code)
    # then the line names the batch, created with the label's expiry
    assert outcome(response) == "ok"
    line = InboundLine.objects.select_related("batch").get(sheet=sheet)
    assert line.goods == goods
    assert (line.batch.batch_no, line.batch.expiry_date) == ("LOT7", expiry)


def test_scanner_bounce_is_asked_about_not_doubled(client, staff, zone):
    # given
    BinFactory(zone=zone, code="A-01")
    GoodsFactory(sku="MASK")
    sheet = services.inbound_sheet_create(warehouse=zone.warehouse, type="purchase", user=staff)
    url = reverse("inventory:scan-receive", args=[sheet.pk])
    scan(client, url, "A-01")
    scan(client, url, "MASK")
    # when the scanner sends the code again 40 ms later
    response = scan(client, url, "MASK", gap_ms=40)
    # then it asks, and adds nothing until confirmed
    assert outcome(response) == "bounce"
    assert "scanned twice" in response.content.decode()
    assert InboundLine.objects.get(sheet=sheet).quantity == 1
    response = scan(client, url, "MASK", confirm="true")
    assert outcome(response) == "ok"
    assert InboundLine.objects.get(sheet=sheet).quantity == 2


def test_add_another_after_a_bounce_adds_the_quantity_typed_for_it(client, staff, zone):
    # given a receipt of MASK, and a bounced scan for which the clerk typed 5
    BinFactory(zone=zone, code="A-01")
    GoodsFactory(sku="MASK")
    sheet = services.inbound_sheet_create(warehouse=zone.warehouse, type="purchase", user=staff)
    url = reverse("inventory:scan-receive", args=[sheet.pk])
    scan(client, url, "A-01")
    scan(client, url, "MASK")
    response = scan(client, url, "MASK", quantity=5, gap_ms=40)
    assert outcome(response) == "bounce"
    # then the question names the 5, and its "add another" button carries them
    html = response.content.decode()
    assert "add another 5?" in html
    assert 'data-confirm="MASK" data-quantity="5"' in html
    assert InboundLine.objects.get(sheet=sheet).quantity == 1
    # when the clerk confirms (what scan.js sends: the button's quantity)
    response = scan(client, url, "MASK", quantity=5, confirm="true")
    # then 5 are added, not 1
    assert outcome(response) == "ok"
    assert InboundLine.objects.get(sheet=sheet).quantity == 6


def test_add_another_with_a_bad_quantity_is_refused_and_writes_nothing(client, staff, pick_setup):
    # given a pick list wanting 2 MASK from A-01, one picked, the second scan bounced
    sheet, *_rest = pick_setup
    url = reverse("inventory:scan-pick", args=[sheet.pk])
    scan(client, url, "A-01")
    scan(client, url, "MASK")
    assert outcome(scan(client, url, "MASK", gap_ms=40)) == "bounce"
    picked = dict(ScanSession.objects.get(mode="pick").state["picked"])
    # when "add another" comes with 0, a fraction, or more than is left to pick
    for quantity, words in (("0", "Quantity"), ("1.5", "Quantity"), ("2", "Only 1 of MASK")):
        response = scan(client, url, "MASK", quantity=quantity, confirm="true")
        # then it is refused in words, and nothing more is picked
        assert outcome(response) == "refused"
        assert words in response.content.decode()
        assert ScanSession.objects.get(mode="pick").state["picked"] == picked
    response = scan(client, url, "MASK", quantity="1", confirm="true")
    assert outcome(response) == "ok"
    assert "0 left here" in response.content.decode()


def test_bounce_measured_by_the_server_without_the_screens_gap(staff, zone):
    BinFactory(zone=zone, code="A-01")
    GoodsFactory(sku="MASK")
    sheet = services.inbound_sheet_create(warehouse=zone.warehouse, type="purchase", user=staff)
    session = scanning.scan_session_open(user=staff, mode="receive", document_id=sheet.pk)
    scanning.scan_apply(session=session, user=staff, code="A-01")
    assert scanning.scan_apply(session=session, user=staff, code="MASK").status == "ok"
    assert scanning.scan_apply(session=session, user=staff, code="MASK").status == "bounce"


def test_receive_into_inactive_bin_and_inactive_goods_refused(client, staff, zone):
    BinFactory(zone=zone, code="OLD", is_active=False)
    BinFactory(zone=zone, code="A-01")
    GoodsFactory(sku="GONE", is_active=False)
    sheet = services.inbound_sheet_create(warehouse=zone.warehouse, type="purchase", user=staff)
    url = reverse("inventory:scan-receive", args=[sheet.pk])
    assert "inactive" in scan(client, url, "OLD").content.decode()
    scan(client, url, "A-01")
    response = scan(client, url, "GONE")
    assert outcome(response) == "refused"
    assert not InboundLine.objects.exists()


def test_receive_post_from_the_scan_screen(client, staff, zone):
    bin_ = BinFactory(zone=zone, code="A-01")
    goods = GoodsFactory(sku="MASK")
    sheet = services.inbound_sheet_create(warehouse=zone.warehouse, type="purchase", user=staff)
    url = reverse("inventory:scan-receive", args=[sheet.pk])
    scan(client, url, "A-01")
    scan(client, url, "MASK")
    response = client.post(reverse("inventory:scan-receive-finish", args=[sheet.pk]))
    assert response.status_code == 302
    assert StockBalance.objects.get(goods=goods, bin=bin_).on_hand == 1
    assert not ScanSession.objects.exists()
    # a second submit posts nothing more
    response = client.post(reverse("inventory:scan-receive-finish", args=[sheet.pk]))
    assert response.status_code == 302
    assert StockBalance.objects.get(goods=goods, bin=bin_).on_hand == 1


def test_scan_screens_need_permissions(client, make_user, zone):
    qc = make_user("qc")
    client.force_login(qc)
    sheet = services.inbound_sheet_create(warehouse=zone.warehouse, type="purchase", user=qc)
    assert client.get(reverse("inventory:scan-receive", args=[sheet.pk])).status_code == 403
    assert (
        client.post(reverse("inventory:scan-receive", args=[sheet.pk]), {"code": "X"}).status_code
        == 403
    )
    assert client.get(reverse("inventory:scan-move")).status_code == 403


def test_receive_scan_costs_a_fixed_number_of_queries(
    client, staff, zone, django_assert_num_queries
):
    # given a sheet with a line already (the scan adds to it) and many other goods
    BinFactory(zone=zone, code="A-01")
    GoodsFactory.create_batch(20)
    GoodsFactory(sku="MASK")
    sheet = services.inbound_sheet_create(warehouse=zone.warehouse, type="purchase", user=staff)
    url = reverse("inventory:scan-receive", args=[sheet.pk])
    scan(client, url, "A-01")
    scan(client, url, "MASK")
    # then: session and user (2), permissions (2), the sheet (1), the scan session locked (1),
    # the resolver (goods, bins: 2), the line service (lock, find, update: 3), savepoints (6:
    # the test's transaction makes the outer atomic one too), the session saved (1), the panel
    # (lines, totals: 2)
    with django_assert_num_queries(20):
        response = scan(client, url, "MASK", gap_ms=5000)
    assert outcome(response) == "ok"


def test_an_absurd_quantity_is_refused_in_words(client, staff, zone):
    BinFactory(zone=zone, code="A-01")
    GoodsFactory(sku="MASK")
    sheet = services.inbound_sheet_create(warehouse=zone.warehouse, type="purchase", user=staff)
    url = reverse("inventory:scan-receive", args=[sheet.pk])
    scan(client, url, "A-01")
    response = client.post(url, {"code": "MASK", "quantity": "99999999999"}, HTTP_HX_REQUEST="true")
    assert outcome(response) == "refused"
    assert "Quantity" in response.content.decode()
    assert not InboundLine.objects.exists()


# --- picking ------------------------------------------------------------------------------------


@pytest.fixture
def pick_setup(staff, zone):
    a = BinFactory(zone=zone, code="A-01")
    b = BinFactory(zone=zone, code="B-01")
    mask = GoodsFactory(sku="MASK")
    glove = GoodsFactory(sku="GLOVE")
    receive_stock(mask, a, 5)
    receive_stock(glove, b, 5)
    sheet = services.outbound_sheet_create(
        warehouse=zone.warehouse, type="order_shipment", user=staff
    )
    services.outbound_line_add(sheet=sheet, goods=mask, quantity=2)
    services.outbound_line_add(sheet=sheet, goods=glove, quantity=1)
    return sheet, a, b, mask, glove


def test_pick_refuses_wrong_bin_and_wrong_goods_at_once(client, staff, pick_setup, zone):
    sheet, a, b, mask, glove = pick_setup
    BinFactory(zone=zone, code="C-01")
    GoodsFactory(sku="OTHER")
    url = reverse("inventory:scan-pick", args=[sheet.pk])
    # a bin with nothing to pick
    response = scan(client, url, "C-01")
    assert outcome(response) == "refused"
    assert "Wrong bin" in response.content.decode()
    # at A-01: glove belongs to B-01, OTHER is not on the list
    assert outcome(scan(client, url, "A-01")) == "ok"
    response = scan(client, url, "GLOVE")
    assert outcome(response) == "refused"
    assert "pick GLOVE from B-01" in response.content.decode()
    response = scan(client, url, "OTHER")
    assert "Wrong goods" in response.content.decode()
    # then right scans, and one too many
    assert outcome(scan(client, url, "MASK")) == "ok"
    assert outcome(scan(client, url, "MASK", gap_ms=2000)) == "ok"
    response = scan(client, url, "MASK", gap_ms=2000)
    assert outcome(response) == "refused"


def test_pick_scan_costs_the_same_queries_for_a_longer_pick_list(
    client, staff, pick_setup, zone, django_assert_num_queries
):
    sheet, a, *_rest = pick_setup
    for _n in range(10):
        goods = GoodsFactory()
        receive_stock(goods, BinFactory(zone=zone), 3)
        services.outbound_line_add(sheet=sheet, goods=goods, quantity=1)
    url = reverse("inventory:scan-pick", args=[sheet.pk])
    scan(client, url, "A-01")
    # then: session, user, permissions (4), the sheet (1), the scan session (1), the resolver
    # (2), the pick plan (lines, balances: 2, reused by the panel), savepoints (4), the session
    # saved (1)
    with django_assert_num_queries(15):
        response = scan(client, url, "MASK")
    assert outcome(response) == "ok"


def test_pick_all_then_ship_posts_from_the_picked_bins(client, staff, pick_setup):
    sheet, a, b, mask, glove = pick_setup
    url = reverse("inventory:scan-pick", args=[sheet.pk])
    scan(client, url, "A-01")
    scan(client, url, "MASK")
    scan(client, url, "MASK", gap_ms=1000)
    scan(client, url, "B-01")
    response = scan(client, url, "GLOVE")
    assert outcome(response) == "done"
    response = client.post(reverse("inventory:scan-pick-finish", args=[sheet.pk]))
    assert response.status_code == 302
    sheet.refresh_from_db()
    assert sheet.status == "posted"
    assert StockBalance.objects.get(goods=mask, bin=a).on_hand == 3
    assert StockBalance.objects.get(goods=glove, bin=b).on_hand == 4
    assert sorted(sheet.lines.values_list("bin__code", "quantity")) == [("A-01", 2), ("B-01", 1)]


def test_ship_before_everything_is_picked_is_refused(client, staff, pick_setup):
    sheet, *_rest = pick_setup
    url = reverse("inventory:scan-pick", args=[sheet.pk])
    scan(client, url, "A-01")
    scan(client, url, "MASK")
    response = client.post(reverse("inventory:scan-pick-finish", args=[sheet.pk]))
    assert response.status_code == 422
    assert "Not everything is picked" in response.content.decode()
    sheet.refresh_from_db()
    assert sheet.status == "draft"
    assert sheet.lines.count() == 2


def test_frozen_stock_is_not_on_the_pick_list(client, staff, zone):
    # given all MASK in A-01 frozen, and some available in B-01
    a = BinFactory(zone=zone, code="A-01")
    BinFactory(zone=zone, code="B-01")
    mask = GoodsFactory(sku="MASK")
    balance = receive_stock(mask, a, 5)
    receive_stock(mask, BinFactory(zone=zone, code="B-02"), 1)
    ledger.freeze(
        holds=[ledger.Hold(balance.pk, 5)], document=ledger.Document(type="other", ref="t")
    )
    _sheet, url = _pick_sheet(staff, zone, mask, 1)
    # when the clerk goes to the frozen bin
    response = scan(client, url, "A-01")
    # then refused at once
    assert outcome(response) == "refused"
    assert outcome(scan(client, url, "B-02")) == "ok"


def test_scrap_from_frozen_stock_is_picked_from_the_frozen_units(client, make_user, zone):
    # given frozen MASK in A-01 and a scrap sheet taking it from frozen stock (a manager's)
    manager = make_user("manager")
    client.force_login(manager)
    a = BinFactory(zone=zone, code="A-01")
    mask = GoodsFactory(sku="MASK")
    balance = receive_stock(mask, a, 3)
    ledger.freeze(
        holds=[ledger.Hold(balance.pk, 3)], document=ledger.Document(type="other", ref="t")
    )
    sheet = services.outbound_sheet_create(warehouse=zone.warehouse, type="other", user=manager)
    services.outbound_line_add(sheet=sheet, goods=mask, quantity=2, from_frozen=True)
    url = reverse("inventory:scan-pick", args=[sheet.pk])
    # when picked by scan and shipped
    scan(client, url, "A-01")
    scan(client, url, "MASK")
    assert outcome(scan(client, url, "MASK", gap_ms=900)) == "done"
    response = client.post(reverse("inventory:scan-pick-finish", args=[sheet.pk]))
    # then the frozen units left
    assert response.status_code == 302
    balance.refresh_from_db()
    assert (balance.on_hand, balance.frozen) == (1, 1)


def test_expired_batch_is_not_on_the_pick_list(client, staff, zone):
    # given the only MASK in A-01 expired yesterday, a good batch in B-01
    a, b = BinFactory(zone=zone, code="A-01"), BinFactory(zone=zone, code="B-01")
    mask = GoodsFactory(sku="MASK")
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    receive_stock(mask, a, 5, batch=BatchFactory(goods=mask, expiry_date=yesterday))
    receive_stock(mask, b, 5, batch=BatchFactory(goods=mask))
    _sheet, url = _pick_sheet(staff, zone, mask, 1)
    # then the expired bin is refused at once, the good one accepted
    assert outcome(scan(client, url, "A-01")) == "refused"
    assert outcome(scan(client, url, "B-01")) == "ok"


def gs1_label(goods, batch_no: str, expiry: datetime.date | None = None) -> str:
    elements = [("01", goods.barcode.zfill(14)), ("10", batch_no)]
    if expiry is not None:
        elements.append(("17", expiry.strftime("%y%m%d")))
    return gs1_human_readable(elements)


@pytest.fixture
def gtin_goods():
    body = "0950110153000"
    return GoodsFactory(sku="MASK", barcode=body + str(gtin_check_digit(body)))


def test_pick_gs1_label_with_a_batch_counts_for_goods_kept_without_batches(
    client, staff, zone, gtin_goods
):
    # given MASK kept without batches in A-01, and a sheet for 2 of it
    receive_stock(gtin_goods, BinFactory(zone=zone, code="A-01"), 5)
    sheet, url = _pick_sheet(staff, zone, gtin_goods, 2)
    later = datetime.date.today() + datetime.timedelta(days=200)
    scan(client, url, "A-01")
    # when the clerk scans the carton's GS1 label, which carries the maker's lot
    response = scan(client, url, gs1_label(gtin_goods, "LOT7", later))
    # then the lot is ignored and the GTIN counts for the line
    assert outcome(response) == "ok", response.content.decode()
    assert "+1 MASK" in response.content.decode()
    assert outcome(scan(client, url, gs1_label(gtin_goods, "LOT8"), gap_ms=900)) == "done"
    assert client.post(reverse("inventory:scan-pick-finish", args=[sheet.pk])).status_code == 302
    assert StockBalance.objects.get(goods=gtin_goods, batch=None).on_hand == 3
    assert not gtin_goods.batches.exists()


@pytest.mark.parametrize("may_view_batches", [True, False])
def test_pick_gs1_label_of_another_batch_is_refused_on_a_batch_line(
    client, staff, zone, gtin_goods, may_view_batches
):
    # given A-01 holding batch L1 and unbatched MASK, and a line that asks for batch L1; a clerk
    # whose role shows batches or not (the label decides what is picked, not what they may see)
    if not may_view_batches:
        from django.contrib.auth.models import Permission

        hidden = Permission.objects.filter(codename="view_batch")
        staff.user_permissions.remove(*hidden)
        for group in staff.groups.all():
            group.permissions.remove(*hidden)
        staff = type(staff).objects.get(pk=staff.pk)  # no cached permissions
        assert not staff.has_perm("inventory.view_batch")
        client.force_login(staff)
    a = BinFactory(zone=zone, code="A-01")
    l1 = BatchFactory(goods=gtin_goods, batch_no="L1")
    receive_stock(gtin_goods, a, 5, batch=l1)
    receive_stock(gtin_goods, a, 5)
    _sheet, url = _pick_sheet(staff, zone, gtin_goods, 1, batch=l1)
    scan(client, url, "A-01")
    # when a label of batch L2 is scanned, then it is refused with the reason
    response = scan(client, url, gs1_label(gtin_goods, "L2"))
    assert outcome(response) == "refused"
    assert "Wrong batch: L2 of MASK" in response.content.decode()
    assert "picked" not in ScanSession.objects.get(mode="pick").state
    # and the label of L1 is picked
    assert outcome(scan(client, url, gs1_label(gtin_goods, "L1"))) == "done"


def test_pick_gs1_label_of_a_known_batch_is_not_picked_for_unbatched_stock(
    client, staff, zone, gtin_goods
):
    # given A-01 holding 1 of batch L1 and 5 kept without a batch, and a sheet for 2 (FEFO:
    # the L1 unit, then one unbatched)
    a = BinFactory(zone=zone, code="A-01")
    later = datetime.date.today() + datetime.timedelta(days=90)
    l1 = BatchFactory(goods=gtin_goods, batch_no="L1", expiry_date=later)
    receive_stock(gtin_goods, a, 1, batch=l1)
    receive_stock(gtin_goods, a, 5)
    _sheet, url = _pick_sheet(staff, zone, gtin_goods, 2)
    scan(client, url, "A-01")
    assert outcome(scan(client, url, gs1_label(gtin_goods, "L1"))) == "ok"
    # when a second L1 unit is scanned: it is not one of the unbatched units the ledger has
    response = scan(client, url, gs1_label(gtin_goods, "L1"), gap_ms=900)
    # then it is refused as the wrong batch
    assert outcome(response) == "refused"
    assert "Wrong batch: L1 of MASK" in response.content.decode()
    # and a label of a lot the ledger never kept counts for the unbatched stop
    assert outcome(scan(client, url, gs1_label(gtin_goods, "MAKER-9"))) == "done"


def test_pick_gs1_label_past_its_expiry_is_refused_for_goods_kept_without_batches(
    client, staff, zone, gtin_goods
):
    receive_stock(gtin_goods, BinFactory(zone=zone, code="A-01"), 5)
    _sheet, url = _pick_sheet(staff, zone, gtin_goods, 1)
    scan(client, url, "A-01")
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    response = scan(client, url, gs1_label(gtin_goods, "LOT7", yesterday))
    assert outcome(response) == "refused"
    assert "Expired" in response.content.decode()
    assert "picked" not in ScanSession.objects.get(mode="pick").state


def test_move_gs1_label_with_a_batch_moves_goods_kept_without_batches(
    client, staff, zone, gtin_goods
):
    a = BinFactory(zone=zone, code="A-01")
    b = BinFactory(zone=zone, code="B-01")
    receive_stock(gtin_goods, a, 3)
    url = reverse("inventory:scan-move")
    scan(client, url, "A-01")
    assert outcome(scan(client, url, gs1_label(gtin_goods, "LOT7"))) == "ok"
    assert outcome(scan(client, url, "B-01")) == "ok"
    assert StockBalance.objects.get(goods=gtin_goods, bin=b, batch=None).on_hand == 1
    assert StockBalance.objects.get(goods=gtin_goods, bin=a, batch=None).on_hand == 2


# --- moves --------------------------------------------------------------------------------------


def test_move_by_scan(client, staff, zone):
    a = BinFactory(zone=zone, code="A-01")
    b = BinFactory(zone=zone, code="B-01")
    mask = GoodsFactory(sku="MASK")
    receive_stock(mask, a, 3)
    url = reverse("inventory:scan-move")
    assert outcome(scan(client, url, "SYD/A-01")) == "ok"
    scan(client, url, "MASK")
    scan(client, url, "MASK", gap_ms=900)
    response = scan(client, url, "MASK", gap_ms=900)
    assert outcome(response) == "ok"
    response = scan(client, url, "MASK", gap_ms=900)
    assert outcome(response) == "refused"
    assert "3 on hand" in response.content.decode()
    response = scan(client, url, "B-01")
    assert outcome(response) == "ok"
    assert StockBalance.objects.get(goods=mask, bin=a).on_hand == 0
    assert StockBalance.objects.get(goods=mask, bin=b).on_hand == 3
    assert StockTransfer.objects.filter(kind="bin", status="done").count() == 1


def test_move_refuses_frozen_units(client, staff, zone):
    a = BinFactory(zone=zone, code="A-01")
    mask = GoodsFactory(sku="MASK")
    balance = receive_stock(mask, a, 2)
    ledger.freeze(
        holds=[ledger.Hold(balance.pk, 2)], document=ledger.Document(type="other", ref="t")
    )
    url = reverse("inventory:scan-move")
    scan(client, url, "A-01")
    response = scan(client, url, "MASK")
    assert outcome(response) == "refused"
    assert "2 frozen" in response.content.decode()


# --- counts -------------------------------------------------------------------------------------


def test_count_by_scan_blind_hides_expected(client, staff, make_user, zone):
    a = BinFactory(zone=zone, code="A-01")
    mask = GoodsFactory(sku="MASK")
    batch = BatchFactory(goods=mask, batch_no="L1")
    receive_stock(mask, a, 4, batch=batch)
    count = services.count_create(warehouse=zone.warehouse, reason="cycle", user=staff)
    url = reverse("inventory:scan-count", args=[count.pk])
    scan(client, url, "A-01")
    response = scan(client, url, "MASK")
    assert outcome(response) == "ok"
    assert "Expected in this bin" in response.content.decode()
    manager = make_user("manager")
    scanning.count_set_blind(count=count, blind=True, user=manager)
    response = scan(client, url, "MASK", gap_ms=800)
    assert "Expected in this bin" not in response.content.decode()
    line = count.lines.get()
    assert (line.goods, line.bin, line.batch, line.counted_quantity) == (mask, a, batch, 2)
    # staff cannot post a count; a manager can
    assert client.post(reverse("inventory:scan-count-finish", args=[count.pk])).status_code == 403
    client.force_login(manager)
    assert client.post(reverse("inventory:scan-count-finish", args=[count.pk])).status_code == 302
    assert StockCount.objects.get(pk=count.pk).status == "posted"
    assert StockBalance.objects.get(goods=mask, bin=a).on_hand == 2
    assert StockMovement.objects.filter(kind="count_loss").count() == 1


@pytest.fixture
def blind_setup(staff, zone):
    a = BinFactory(zone=zone, code="A-01")
    receive_stock(GoodsFactory(sku="MASK"), a, 4)
    count = services.count_create(warehouse=zone.warehouse, reason="cycle", user=staff)
    return count


def test_a_clerk_may_not_switch_blind_counting(client, staff, make_user, blind_setup):
    # given a count, and a clerk counting it (staff: change_stockcount, no change_blind_mode)
    count = blind_setup
    url = reverse("inventory:scan-count", args=[count.pk])
    blind_url = reverse("inventory:scan-count-blind", args=[count.pk])
    # then the switch is not offered to him
    assert blind_url not in client.get(url).content.decode()
    # when he posts it anyway, then it is refused in words and nothing is written
    response = client.post(blind_url, {"blind": "1"})
    assert response.status_code == 403
    assert "Only a supervisor may switch blind counting" in response.content.decode()
    assert StockCount.objects.get(pk=count.pk).is_blind is False
    # and a count his supervisor made blind stays blind
    scanning.count_set_blind(count=count, blind=True, user=make_user("manager"))
    assert client.post(blind_url, {"blind": "0"}).status_code == 403
    assert StockCount.objects.get(pk=count.pk).is_blind is True
    with pytest.raises(StockError):
        scanning.count_set_blind(count=count, blind=False, user=staff)
    assert StockCount.objects.get(pk=count.pk).is_blind is True


def test_a_supervisor_switches_blind_counting_for_the_clerks(client, staff, make_user, blind_setup):
    # given a count a clerk is counting, and his supervisor (a warehouse manager)
    count = blind_setup
    url = reverse("inventory:scan-count", args=[count.pk])
    blind_url = reverse("inventory:scan-count-blind", args=[count.pk])
    detail_url = reverse("inventory:count-detail", args=[count.pk])
    scan(client, url, "A-01")
    scan(client, url, "MASK")
    assert "On hand now" in client.get(detail_url).content.decode()
    manager = make_user("manager")
    client.force_login(manager)
    # when the supervisor switches it blind (the switch is offered to him)
    assert blind_url in client.get(url).content.decode()
    assert client.post(blind_url, {"blind": "1"}).status_code == 302
    # then the count is blind for the clerk: no expected quantities, no switch
    assert StockCount.objects.get(pk=count.pk).is_blind is True
    client.force_login(staff)
    html = scan(client, url, "A-01").content.decode()
    assert "Expected in this bin" not in html
    assert "what the ledger expects is hidden" in html
    assert blind_url not in html
    html = client.get(detail_url).content.decode()
    assert "On hand now" not in html
    assert "differs" not in html
    # when the supervisor switches it back, the clerk sees what is expected again
    client.force_login(manager)
    assert client.post(blind_url, {"blind": "0"}).status_code == 302
    assert StockCount.objects.get(pk=count.pk).is_blind is False
    client.force_login(staff)
    assert "Expected in this bin" in scan(client, url, "A-01").content.decode()


# --- wave pick list -----------------------------------------------------------------------------


def test_wave_pick_list_merges_sheets_in_bin_order(client, staff, zone):
    import pypdfium2

    a = BinFactory(zone=zone, code="A-01")
    b = BinFactory(zone=zone, code="B-01")
    mask = GoodsFactory(sku="MASK")
    glove = GoodsFactory(sku="GLOVE")
    receive_stock(mask, b, 10)
    receive_stock(glove, a, 10)
    sheets = []
    for quantity in (1, 2):
        sheet = services.outbound_sheet_create(
            warehouse=zone.warehouse, type="order_shipment", user=staff
        )
        services.outbound_line_add(sheet=sheet, goods=mask, quantity=quantity)
        services.outbound_line_add(sheet=sheet, goods=glove, quantity=quantity)
        sheets.append(sheet)
    response = client.get(reverse("inventory:wave-pick-list"), {"sheet": [s.pk for s in sheets]})
    assert response["Content-Type"] == "application/pdf"
    text = pypdfium2.PdfDocument(response.content)[0].get_textpage().get_text_range()
    assert text.index("GLOVE") < text.index("MASK")  # A-01 walked before B-01
    assert f"{sheets[0].number}×1, {sheets[1].number}×2" in text
    # posted sheets and mixed warehouses are refused
    services.outbound_sheet_post(sheet_id=sheets[0].pk, user=staff)
    response = client.get(reverse("inventory:wave-pick-list"), {"sheet": [sheets[0].pk]})
    assert response.status_code == 400
    assert client.get(reverse("inventory:wave-pick-list")).status_code == 400
    assert OutboundSheet.objects.get(pk=sheets[1].pk).is_draft
    # the outbound list offers the drafts for a wave, not the posted sheet
    html = client.get(reverse("inventory:outbound-list")).content.decode()
    assert f'name="sheet" value="{sheets[1].pk}" form="wave-form"' in html
    assert f'name="sheet" value="{sheets[0].pk}"' not in html


def test_abandoned_scan_sessions_are_forgotten_by_the_daily_task(staff, zone):
    from inventory.models import ScanSession
    from inventory.tasks import expired_files_remove_task

    fresh = scanning.scan_session_open(user=staff, mode="move")
    old = scanning.scan_session_open(user=staff, mode="count", document_id=7)
    ScanSession.objects.filter(pk=old.pk).update(
        updated_at=timezone.now() - scanning.STALE_AFTER - datetime.timedelta(minutes=1)
    )
    assert expired_files_remove_task()["scan_sessions"] == 1
    assert list(ScanSession.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_a_sheet_scanning_cannot_tell_apart_is_sent_back_to_its_page(client, make_user, zone):
    # given a sheet taking MASK both from frozen and from available stock, and one with a combo
    manager = make_user("manager")
    client.force_login(manager)
    a = BinFactory(zone=zone, code="A-01")
    mask = GoodsFactory(sku="MASK")
    balance = receive_stock(mask, a, 10)
    ledger.freeze(
        holds=[ledger.Hold(balance.pk, 5)], document=ledger.Document(type="other", ref="t")
    )
    sheet = services.outbound_sheet_create(warehouse=zone.warehouse, type="other", user=manager)
    services.outbound_line_add(sheet=sheet, goods=mask, quantity=5, from_frozen=True)
    services.outbound_line_add(sheet=sheet, goods=mask, quantity=3)
    # when the clerk opens its pick screen, then he is sent back with the reason
    response = client.get(reverse("inventory:scan-pick", args=[sheet.pk]), follow=True)
    assert "both from frozen and from available stock" in response.content.decode()
    # and shipping what was picked is refused: nothing moves
    picks = [scanning.Picked(goods_id=mask.pk, bin_id=a.pk, batch_id=None, quantity=8)]
    with pytest.raises(StockError, match="both from frozen"):
        scanning.outbound_sheet_ship_picked(sheet_id=sheet.pk, user=manager, picks=picks)
    balance.refresh_from_db()
    assert (balance.on_hand, balance.frozen) == (10, 5)
    kit = GoodsFactory(sku="KIT", is_combo=True)
    combo_sheet = services.outbound_sheet_create(
        warehouse=zone.warehouse, type="order_shipment", user=manager
    )
    OutboundLine.objects.create(sheet=combo_sheet, goods=kit, quantity=1)
    response = client.get(reverse("inventory:scan-pick", args=[combo_sheet.pk]), follow=True)
    assert "combo goods cannot be picked by scan" in response.content.decode()
