"""Printable PDFs: each renders, its barcodes decode back (rasterised with pypdfium2, read with
zxing-cpp) to the codes the floor scans, and the resolver reads them back."""

import datetime

import pypdfium2
import pytest
import zxingcpp
from django.urls import reverse

from inventory.codes import parse_gs1
from inventory.models import OutboundSheet
from inventory.printing import GoodsLabel, bin_labels_pdf, goods_labels_pdf
from inventory.selectors.scan import BatchHit, BinHit, code_resolve
from inventory.services import stock as services
from inventory.tests.factories import BatchFactory, GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory, ZoneFactory

pytestmark = pytest.mark.django_db


def decode(pdf: bytes) -> list[list[tuple[str, str]]]:
    """Per page, the (format, text) of every barcode found at 300 dpi."""
    assert pdf.startswith(b"%PDF")
    pages = []
    for page in pypdfium2.PdfDocument(pdf):
        image = page.render(scale=300 / 72).to_pil()
        pages.append(sorted((r.format.name, r.text) for r in zxingcpp.read_barcodes(image)))
    return pages


def page_sizes_mm(pdf: bytes) -> list[tuple[int, int]]:
    return [
        (round(page.get_width() / 72 * 25.4), round(page.get_height() / 72 * 25.4))
        for page in pypdfium2.PdfDocument(pdf)
    ]


@pytest.fixture
def staff(client, make_user):
    user = make_user("manager")
    client.force_login(user)
    return user


@pytest.mark.parametrize(("size", "mm"), [("50x30", (50, 30)), ("100x150", (100, 150))])
def test_bin_labels_one_per_label_decode_to_warehouse_and_bin(client, staff, size, mm):
    # given
    zone = ZoneFactory(warehouse__code="SYD")
    first = BinFactory(zone=zone, code="A-01-01")
    BinFactory(zone=zone, code="A-01-02")
    BinFactory(zone=zone, code="B-01")
    # when
    response = client.get(
        reverse("inventory:bin-labels"),
        {"warehouse": zone.warehouse_id, "code": "a-01", "size": size},
    )
    # then
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert page_sizes_mm(pdf) == [mm, mm]
    assert decode(pdf) == [[("Code128", "SYD/A-01-01")], [("Code128", "SYD/A-01-02")]]
    # and the scan of a label opens that bin
    assert code_resolve(user=staff, code="SYD/A-01-01").hit == BinHit(bin=first)


def test_a4_sheets_hold_24_bin_labels_each():
    from inventory.printing import BinLabel

    labels = [BinLabel(code=f"R-{n:02d}", warehouse_code="MEL") for n in range(30)]
    pages = decode(bin_labels_pdf(labels, size="a4"))
    assert [len(page) for page in pages] == [24, 6]
    assert sorted(text for page in pages for _f, text in page) == [
        f"MEL/R-{n:02d}" for n in range(30)
    ]


def test_goods_label_with_batch_is_gs1_128_and_fills_batch_and_expiry(client, staff):
    # given goods with an EAN-13 and a batch
    goods = GoodsFactory(sku="MASK-50", name="一次性口罩 50 只", barcode="4006381333931")
    batch = BatchFactory(goods=goods, batch_no="L2607", expiry_date=datetime.date(2027, 6, 30))
    # when
    response = client.get(
        reverse("inventory:goods-labels", args=[goods.pk]), {"batch": batch.pk, "copies": 2}
    )
    # then two labels, each a GS1-128 the resolver turns back into the batch
    pages = decode(response.content)
    assert len(pages) == 2
    ((symbology, text),) = pages[0]
    assert symbology == "Code128"
    data = parse_gs1(text)
    assert (data.gtin, data.batch, data.expiry) == (
        "04006381333931",
        "L2607",
        datetime.date(2027, 6, 30),
    )
    hit = code_resolve(user=staff, code=text).hit
    assert hit == BatchHit(goods=goods, batch_no="L2607", batch=batch, expiry=batch.expiry_date)


def test_goods_labels_without_batch_are_ean13_or_code128_of_the_sku():
    pages = decode(
        goods_labels_pdf(
            [GoodsLabel(sku="A-1", name="x", barcode="4006381333931"), GoodsLabel("TEA-9", "茶")],
            size="100x150",
        )
    )
    assert pages == [[("EAN13", "4006381333931")], [("Code128", "TEA-9")]]


def test_pick_list_and_packing_slip_of_a_draft_and_a_posted_sheet(client, staff):
    # given stock in two bins and a draft outbound sheet without bins
    zone = ZoneFactory()
    near, far = BinFactory(zone=zone, code="P-02"), BinFactory(zone=zone, code="P-01")
    goods = GoodsFactory(sku="PEN-1", name="圆珠笔")
    early = BatchFactory(goods=goods, expiry_date=datetime.date(2027, 1, 1))
    late = BatchFactory(goods=goods, expiry_date=datetime.date(2028, 1, 1))
    receive_stock(goods, near, 5, batch=early)
    receive_stock(goods, far, 10, batch=late)
    sheet = services.outbound_sheet_create(
        warehouse=zone.warehouse, type=OutboundSheet.Type.ORDER_SHIPMENT, user=staff
    )
    services.outbound_line_add(sheet=sheet, goods=goods, quantity=8)
    # when / then: both PDFs carry the sheet number as a barcode
    for name in ("inventory:pick-list", "inventory:packing-slip"):
        response = client.get(reverse(name, args=[sheet.pk]))
        assert response.status_code == 200
        assert decode(response.content) == [[("Code128", sheet.number)]]
    # and the draft's pick list suggests first-expiry-first bins
    from inventory.views.printing import _outbound_lines

    suggested = [(line.bin_code, line.quantity) for line in _outbound_lines(sheet)]
    assert sorted(suggested) == [("P-01", 3), ("P-02", 5)]  # in walk order; P-02 expires first
    # when posted, the pick list is what was taken
    services.outbound_sheet_post(sheet_id=sheet.pk, user=staff)
    sheet.refresh_from_db()
    taken = sorted((line.bin_code, line.quantity) for line in _outbound_lines(sheet))
    assert taken == [("P-01", 3), ("P-02", 5)]
    assert client.get(reverse("inventory:pick-list", args=[sheet.pk])).status_code == 200


def test_printing_needs_the_view_permissions(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody"))
    bin_ = BinFactory()
    goods = GoodsFactory()
    assert client.get(reverse("inventory:bin-labels"), {"bin": bin_.pk}).status_code == 403
    assert client.get(reverse("inventory:goods-labels", args=[goods.pk])).status_code == 403
    assert client.get(reverse("inventory:pick-list", args=[1])).status_code == 403


def test_bad_printing_parameters_are_404_or_defaults(client, staff):
    goods = GoodsFactory()
    other_batch = BatchFactory()
    chooser = client.get(reverse("inventory:bin-labels"))
    assert chooser.status_code == 200 and 'name="warehouse"' in chooser.content.decode()
    assert client.get(reverse("inventory:bin-labels"), {"bin": "x"}).status_code == 200  # chooser
    assert client.get(reverse("inventory:bin-labels"), {"bin": 987654}).status_code == 404
    url = reverse("inventory:goods-labels", args=[goods.pk])
    assert client.get(url, {"batch": other_batch.pk}).status_code == 404
    assert len(decode(client.get(url, {"copies": "-5", "size": "huge"}).content)) == 1
    assert client.get(reverse("inventory:pick-list", args=[999999])).status_code == 404


def test_pages_link_to_their_pdfs(client, staff):
    bin_ = BinFactory(code="L-1")
    goods = GoodsFactory()
    sheet = services.outbound_sheet_create(
        warehouse=bin_.warehouse, type=OutboundSheet.Type.ORDER_SHIPMENT, user=staff
    )
    lookup = client.get(reverse("warehouses:bin-lookup"), {"code": "L-1"}).content.decode()
    assert f"{reverse('inventory:bin-labels')}?bin={bin_.pk}" in lookup
    detail = client.get(reverse("inventory:goods-detail", args=[goods.pk])).content.decode()
    assert reverse("inventory:goods-labels", args=[goods.pk]) in detail
    outbound = client.get(reverse("inventory:outbound-detail", args=[sheet.pk])).content.decode()
    assert reverse("inventory:pick-list", args=[sheet.pk]) in outbound
    assert reverse("inventory:packing-slip", args=[sheet.pk]) in outbound
