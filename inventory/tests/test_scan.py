"""The code resolver and /scan/: what each kind of code opens, refusals in words, permissions,
and the queries a scan costs."""

import datetime

import pytest
from django.urls import reverse
from django.utils import translation

from inventory.codes import gs1_element_string, gtin_check_digit
from inventory.models import InboundSheet, OutboundSheet
from inventory.selectors.scan import BatchHit, BinHit, DocumentHit, GoodsHit, code_resolve
from inventory.tests.factories import BatchFactory, GoodsFactory
from warehouses.tests.factories import BinFactory, WarehouseFactory, ZoneFactory

pytestmark = pytest.mark.django_db

EAN = "4006381333931"
UPC = "036000291452"


@pytest.fixture
def staff(client, make_user):
    user = make_user("staff")
    client.force_login(user)
    return user


def gtin14(body13: str) -> str:
    return body13 + str(gtin_check_digit(body13))


def test_sku_resolves_to_goods_in_any_case(staff):
    goods = GoodsFactory(sku="MASK-BOX-50")
    result = code_resolve(user=staff, code="  mask-box-50\r\n")
    assert result.hits == [GoodsHit(goods=goods, via="sku")]


def test_ean13_barcode_resolves_and_upc_matches_its_ean13_spelling(staff):
    # given goods with an EAN-13 and goods whose barcode was stored as the UPC-A's EAN-13 form
    ean_goods = GoodsFactory(barcode=EAN)
    upc_goods = GoodsFactory(barcode="0" + UPC)
    # when / then
    assert code_resolve(user=staff, code=EAN).hit.goods == ean_goods
    assert code_resolve(user=staff, code=UPC).hit.goods == upc_goods
    assert code_resolve(user=staff, code="00" + UPC).hit.goods == upc_goods  # GTIN-14


def test_code128_text_barcode_resolves(staff):
    goods = GoodsFactory(barcode="LBL-ABC-0099")
    hit = code_resolve(user=staff, code="LBL-ABC-0099").hit
    assert hit.goods == goods and hit.via == "barcode"


def test_gs1_scan_gives_goods_batch_and_expiry(staff):
    # given goods with an EAN-13 and a batch
    goods = GoodsFactory(barcode=EAN)
    batch = BatchFactory(goods=goods, batch_no="L2607")
    data = gs1_element_string([("01", "0" + EAN), ("10", "L2607"), ("17", "270630")])
    # when the scanner sends it with GS separators and the AIM prefix
    result = code_resolve(user=staff, code="]C1" + data.replace("\xf1", "\x1d")[1:])
    # then
    assert result.hit == BatchHit(
        goods=goods, batch_no="L2607", batch=batch, expiry=datetime.date(2027, 6, 30)
    )
    assert result.hit.url == reverse("inventory:goods-batches", args=[goods.pk])


def test_gs1_scan_of_a_new_batch_names_it_for_receiving(staff):
    goods = GoodsFactory(barcode=EAN)
    result = code_resolve(user=staff, code=f"(01)0{EAN}(17)270101(10)NEW-1")
    hit = result.hit
    assert isinstance(hit, BatchHit)
    assert hit.batch is None and hit.batch_no == "NEW-1"
    assert hit.expiry == datetime.date(2027, 1, 1) and hit.goods == goods


def test_gs1_without_batch_gives_the_goods(staff):
    goods = GoodsFactory(barcode=EAN)
    assert code_resolve(user=staff, code=f"(01)0{EAN}").hit == GoodsHit(goods=goods, via="gtin")


def test_unreadable_or_unknown_gs1_says_why(staff):
    wrong_digit = code_resolve(user=staff, code="(01)04006381333932(10)A")
    assert not wrong_digit.hits and "cannot be read" in wrong_digit.problem
    unknown = code_resolve(user=staff, code=f"(01){gtin14('0950110153000')}(10)A")
    assert not unknown.hits and "No goods has the barcode" in unknown.problem


def test_bin_code_resolves_and_warehouse_limits_it(staff):
    # given the same bin code in two warehouses
    first = BinFactory(code="A-01-01")
    second = BinFactory(code="A-01-01")
    # when / then: ambiguous without a warehouse, one bin within one
    assert {hit.bin for hit in code_resolve(user=staff, code="a-01-01").hits} == {first, second}
    assert code_resolve(user=staff, code="A-01-01", warehouse=second.warehouse_id).hit == BinHit(
        bin=second
    )
    qualified = f"{first.warehouse.code.lower()}/A-01-01"
    assert code_resolve(user=staff, code=qualified).hit == BinHit(bin=first)


def test_a_sku_that_is_also_a_bin_code_is_ambiguous(staff):
    goods = GoodsFactory(sku="A-01")
    bin_ = BinFactory(code="A-01")
    result = code_resolve(user=staff, code="A-01")
    assert result.hit is None
    assert {type(hit) for hit in result.hits} == {GoodsHit, BinHit}
    assert result.of_kind("goods")[0].goods == goods and result.of_kind("bin")[0].bin == bin_


def test_document_numbers_resolve_in_their_spellings(staff):
    bin_ = BinFactory()
    sheet = InboundSheet.objects.create(warehouse=bin_.warehouse, created_by=staff)
    for spelling in (sheet.number, sheet.number.lower(), f"IN{sheet.pk}", f"in-{sheet.pk}"):
        hit = code_resolve(user=staff, code=spelling).hit
        assert isinstance(hit, DocumentHit), spelling
        assert hit.url == reverse("inventory:inbound-detail", args=[sheet.pk])
    missing = code_resolve(user=staff, code=f"OUT-{sheet.pk + 999:06d}")
    assert not missing.hits and "no document" in missing.problem


def test_freeze_numbers_resolve_through_the_registered_finder(staff):
    from freezes.models import Freeze, Reason

    freeze = Freeze.objects.create(reason=Reason.DAMAGED, created_by=staff)
    hit = code_resolve(user=staff, code=freeze.number).hit
    assert hit.url == reverse("freezes:freeze-detail", args=[freeze.pk])


def test_a_document_like_sku_still_finds_the_goods(staff):
    goods = GoodsFactory(sku="IN-7")
    assert code_resolve(user=staff, code="IN-7").hit.goods == goods


@pytest.mark.parametrize(
    "code", ["", "   ", "x" * 500, "A\x00B", "IN-99999999999999999999", "💥", "WH/", "/A", "%"]
)
def test_absurd_input_is_a_problem_never_an_error(staff, code):
    result = code_resolve(user=staff, code=code)
    assert not result.hits and result.problem


def test_users_see_only_kinds_they_may_view(django_user_model):
    # given a user without any role
    store = django_user_model.objects.create_user("nobody")
    goods = GoodsFactory(sku="S-1")
    BinFactory(code="S-1")
    sheet = InboundSheet.objects.create(warehouse=WarehouseFactory(), created_by=store)
    # then nothing is revealed
    assert not code_resolve(user=store, code=goods.sku).hits
    assert not code_resolve(user=store, code=sheet.number).hits


def test_a_scan_costs_at_most_two_queries(staff, django_assert_max_num_queries):
    GoodsFactory(sku="Q-1", barcode=EAN)
    BinFactory(code="Q-1")
    user = type(staff).objects.get(pk=staff.pk)
    user.has_perm("inventory.view_goods")  # permissions load once per request
    with django_assert_max_num_queries(2):
        code_resolve(user=user, code="Q-1")
    with django_assert_max_num_queries(2):
        code_resolve(user=user, code=f"(01)0{EAN}(10)X")
    sheet = OutboundSheet.objects.create(warehouse=WarehouseFactory(), created_by=staff)
    with django_assert_max_num_queries(1):
        code_resolve(user=user, code=sheet.number)
    with django_assert_max_num_queries(3):  # no such document: maybe a SKU or a bin code
        code_resolve(user=user, code="OUT-999999")


# --- /scan/ -------------------------------------------------------------------------------------


def test_scan_redirects_to_what_was_scanned(client, staff):
    goods = GoodsFactory(sku="RED-1", barcode=EAN)
    bin_ = BinFactory(code="B-09")
    sheet = OutboundSheet.objects.create(warehouse=bin_.warehouse, created_by=staff)
    url = reverse("scan")
    assert client.get(url, {"code": "red-1"}).url == reverse(
        "inventory:goods-detail", args=[goods.pk]
    )
    assert client.get(url, {"code": EAN}).url == reverse("inventory:goods-detail", args=[goods.pk])
    bin_url = client.get(url, {"code": "B-09"}).url
    assert bin_url.startswith(reverse("warehouses:bin-lookup")) and "code=B-09" in bin_url
    assert client.get(url, {"code": sheet.number}).url == reverse(
        "inventory:outbound-detail", args=[sheet.pk]
    )
    # and the bin lookup it opens shows that bin
    assert "B-09" in client.get(bin_url).content.decode()


def test_scan_of_nothing_known_says_so_with_404(client, staff):
    response = client.get(reverse("scan"), {"code": "NOPE-42"})
    assert response.status_code == 404
    assert "Nothing found for NOPE-42" in response.content.decode()


def test_scan_lists_the_choices_when_ambiguous(client, staff):
    zone = ZoneFactory()
    GoodsFactory(sku="C-1")
    BinFactory(code="C-1", zone=zone)
    response = client.get(reverse("scan"), {"code": "C-1"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "matches more than one thing" in body and "Goods" in body and "Bin" in body


def test_scan_page_without_code_shows_the_box_and_needs_login(client, staff):
    assert 'name="code"' in client.get(reverse("scan")).content.decode()
    client.logout()
    assert reverse("login") in client.get(reverse("scan"), {"code": "X"}).url


def test_scan_in_chinese(client, staff):
    # (override: the middleware's language must not leak into the next test of this thread)
    with translation.override("zh-hans"):
        response = client.get(reverse("scan"), {"code": "NOPE"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "扫码" in response.content.decode()


# --- a GS1 label scanned into a line form --------------------------------------------------------


def test_a_gs1_scan_into_the_goods_field_fills_batch_and_expiry(client, staff):
    # given goods with an EAN-13 and a draft inbound sheet
    goods = GoodsFactory(sku="GS1-GOODS", barcode=EAN)
    bin_ = BinFactory(code="R-01")
    sheet = InboundSheet.objects.create(warehouse=bin_.warehouse, created_by=staff)
    # when the clerk scans the carton's GS1-128 label into the goods field (GS sent as <GS>)
    scanned = f"]C101{'0' + EAN}10NEW-LOT<GS>17270531"
    response = client.post(
        reverse("inventory:inbound-line-add", args=[sheet.pk]),
        {"goods": scanned, "bin": "R-01", "quantity": 6},
    )
    # then the line names the goods and a new batch with the label's expiry
    assert response.status_code in (200, 302)
    line = sheet.lines.select_related("batch").get()
    assert line.goods == goods
    assert (line.batch.batch_no, line.batch.expiry_date) == ("NEW-LOT", datetime.date(2027, 5, 31))


def test_a_gs1_scan_of_unknown_goods_is_refused_on_the_field(client, staff):
    bin_ = BinFactory(code="R-02")
    sheet = InboundSheet.objects.create(warehouse=bin_.warehouse, created_by=staff)
    response = client.post(
        reverse("inventory:inbound-line-add", args=[sheet.pk]),
        {"goods": f"(01)0{EAN}(10)X", "bin": "R-02", "quantity": 1},
    )
    assert response.status_code == 422
    assert "GTIN of the scanned label" in response.content.decode()
    assert not sheet.lines.exists()
