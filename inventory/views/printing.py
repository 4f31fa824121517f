"""Printable PDFs (inventory/printing.py): bin labels, goods labels, pick lists, packing slips."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from inventory import printing
from inventory.models import Batch, Goods, OutboundSheet
from inventory.selectors import picking
from warehouses.models import Bin, Warehouse
from wms.http import parse_id, permission

MAX_LABELS = 2000
SIZES = {"50x30", "100x150", "a4"}
SIZES_SHOWN = [("50x30", "50 × 30 mm"), ("100x150", "100 × 150 mm"), ("a4", "A4 (24)")]


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _size(request: HttpRequest, default: str = "50x30") -> str:
    size = request.GET.get("size", default)
    return size if size in SIZES else default


@permission("warehouses.view_bin")
@require_GET
def bin_labels_view(request: HttpRequest) -> HttpResponse:
    """``?bin=<id>`` one bin, or ``?warehouse=<id>&code=<prefix>`` the warehouse's active bins
    whose code starts with it (at most 2,000, in code order); ``size`` 50x30, 100x150 or a4.
    Without either, a page to choose the warehouse, the code prefix and the size."""
    bin_id = parse_id(request.GET.get("bin"))
    warehouse_id = parse_id(request.GET.get("warehouse"))
    bins = Bin.objects.select_related("warehouse")
    if bin_id:
        bins = bins.filter(pk=bin_id)
    elif warehouse_id:
        bins = bins.filter(warehouse_id=warehouse_id, is_active=True)
        prefix = "".join(request.GET.get("code", "").split())[:32]
        if prefix:
            bins = bins.filter(code__istartswith=prefix)
    else:
        warehouses = Warehouse.objects.filter(is_active=True).order_by("priority", "code")
        return render(
            request,
            "inventory/floor/bin_labels.html",
            {"warehouses": warehouses, "sizes": SIZES_SHOWN},
        )
    rows = list(bins.order_by("code", "pk")[:MAX_LABELS])
    if not rows:
        raise Http404
    labels = [printing.BinLabel(code=b.code, warehouse_code=b.warehouse.code) for b in rows]
    return _pdf(printing.bin_labels_pdf(labels, size=_size(request)), "bin-labels.pdf")


@permission("inventory.view_goods")
@require_GET
def goods_labels_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Labels of one goods: ``batch=<id>`` adds its number and expiry (GS1-128 when the goods
    has a GTIN), ``copies`` 1..500, ``size`` 50x30, 100x150 or a4."""
    goods = get_object_or_404(Goods, pk=pk)
    batch = None
    batch_id = parse_id(request.GET.get("batch"))
    if batch_id:
        batch = get_object_or_404(Batch, pk=batch_id, goods=goods)
    copies = max(1, min(parse_id(request.GET.get("copies")) or 1, 500))
    label = printing.GoodsLabel(
        sku=goods.sku,
        name=goods.name,
        barcode=goods.barcode,
        batch_no=batch.batch_no if batch else "",
        expiry=batch.expiry_date if batch else None,
    )
    content = printing.goods_labels_pdf([label] * copies, size=_size(request))
    return _pdf(content, f"goods-{goods.pk}.pdf")


def _document_line(row: picking.PickRow) -> printing.DocumentLine:
    return printing.DocumentLine(
        bin_code=row.bin_code,
        sku=row.sku,
        name=row.name,
        quantity=row.quantity,
        unit=row.unit,
        batch_no=row.batch_no,
        expiry=row.expiry,
    )


def _outbound_lines(sheet: OutboundSheet) -> list[printing.DocumentLine]:
    """A posted sheet: what it took, bin by bin (its movements). A draft: its pick plan
    (``inventory.selectors.picking``: a line without a bin spread over the warehouse's available
    stock first-expiry-first; a suggestion, posting decides). Two queries at most."""
    return [_document_line(row) for row in picking.pick_plan([sheet])]


def _column_labels() -> dict[str, str]:
    return {
        "bin": _("Bin"),
        "sku": _("SKU"),
        "name": _("Name"),
        "batch": _("Batch"),
        "expiry": _("Expiry"),
        "quantity": _("Quantity"),
        "picked": _("Picked"),
        "picker": _("Picked by"),
        "total": _("Total units"),
        "checked": _("Checked by"),
        "for": _("For"),
    }


def _header(sheet: OutboundSheet, title: str) -> printing.DocumentHeader:
    return printing.DocumentHeader(
        number=sheet.number,
        title=title,
        warehouse=str(sheet.warehouse),
        reference=sheet.reference,
        type_label=sheet.get_type_display(),
        status=sheet.get_status_display(),
        created=sheet.created_at.strftime("%Y-%m-%d %H:%M"),
    )


@permission("inventory.view_outboundsheet")
@require_GET
def pick_list_view(request: HttpRequest, pk: int) -> HttpResponse:
    sheet = get_object_or_404(OutboundSheet.objects.select_related("warehouse"), pk=pk)
    content = printing.pick_list_pdf(
        _header(sheet, _("Pick list")), _outbound_lines(sheet), _column_labels()
    )
    return _pdf(content, f"pick-list-{sheet.number}.pdf")


@permission("inventory.view_outboundsheet")
@require_GET
def packing_slip_view(request: HttpRequest, pk: int) -> HttpResponse:
    sheet = get_object_or_404(OutboundSheet.objects.select_related("warehouse"), pk=pk)
    content = printing.packing_slip_pdf(
        _header(sheet, _("Packing slip")), _outbound_lines(sheet), _column_labels()
    )
    return _pdf(content, f"packing-slip-{sheet.number}.pdf")


MAX_WAVE_SHEETS = 200


@permission("inventory.view_outboundsheet")
@require_GET
def wave_pick_list_view(request: HttpRequest) -> HttpResponse:
    """``?sheet=1&sheet=2...``: one pick list for a wave of draft outbound sheets of one
    warehouse, the stops merged and in bin walk order, each saying which sheet takes how many.
    No sheet, a posted sheet or sheets of two warehouses: 400 with the reason."""
    ids = sorted({pk for pk in map(parse_id, request.GET.getlist("sheet")) if pk})
    if not ids or len(ids) > MAX_WAVE_SHEETS:
        return HttpResponseBadRequest(
            _("Choose between 1 and %(n)s outbound sheets.") % {"n": MAX_WAVE_SHEETS}
        )
    sheets = list(
        OutboundSheet.objects.filter(pk__in=ids).select_related("warehouse").order_by("pk")
    )
    if len(sheets) != len(ids):
        raise Http404
    if any(not sheet.is_draft for sheet in sheets):
        return HttpResponseBadRequest(_("A wave is picked from draft sheets only."))
    if len({sheet.warehouse_id for sheet in sheets}) != 1:
        return HttpResponseBadRequest(_("A wave is picked in one warehouse: choose its sheets."))
    stops = [
        (_document_line(total), shares)
        for total, shares in picking.merge_by_stop(picking.pick_plan(sheets))
    ]
    numbers = [sheet.number for sheet in sheets]
    header = printing.DocumentHeader(
        number=f"WAVE-{ids[0]}-{len(ids)}",
        title=_("Wave pick list"),
        warehouse=str(sheets[0].warehouse),
        reference=", ".join(numbers[:12]) + (" …" if len(numbers) > 12 else ""),
        type_label=_("%(n)s outbound sheets") % {"n": len(sheets)},
        created=timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    )
    content = printing.wave_pick_list_pdf(header, stops, _column_labels())
    return _pdf(content, f"wave-pick-list-{ids[0]}-{len(ids)}.pdf")
