"""Printable PDFs (inventory/printing.py): bin labels, goods labels, pick lists, packing slips."""

from __future__ import annotations

from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from inventory import printing
from inventory.models import Batch, DocumentType, Goods, OutboundSheet, StockBalance
from inventory.selectors import stock as stock_selectors
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


def _outbound_lines(sheet: OutboundSheet) -> list[printing.DocumentLine]:
    """A posted sheet: what it took, bin by bin (its movements). A draft: its lines; a line
    without a bin is spread over the warehouse's available stock first-expiry-first (a
    suggestion: posting decides). Two queries at most."""
    if not sheet.is_draft:
        movements = stock_selectors.document_movements(
            user=None, document_type=DocumentType.OUTBOUND, document_id=sheet.pk
        )
        return [
            printing.DocumentLine(
                bin_code=m.bin.code,
                sku=m.goods.sku,
                name=m.goods.name,
                quantity=m.quantity,
                unit=m.goods.unit,
                batch_no=m.batch.batch_no if m.batch else "",
                expiry=m.batch.expiry_date if m.batch else None,
            )
            for m in movements
            if m.on_hand_delta < 0
        ]
    lines = list(sheet.lines.select_related("goods", "batch", "bin").order_by("pk"))
    open_goods = [line.goods_id for line in lines if line.bin_id is None]
    candidates: dict[int, list[StockBalance]] = {}
    if open_goods:
        balances = (
            StockBalance.objects.filter(
                warehouse_id=sheet.warehouse_id, goods_id__in=open_goods, bin__is_active=True
            )
            .with_available()
            .filter(available_qty__gt=0)
            .select_related("bin", "batch")
            .order_by(F("batch__expiry_date").asc(nulls_last=True), "bin__code", "pk")
        )
        for balance in balances:
            candidates.setdefault(balance.goods_id, []).append(balance)
    out = []
    for line in lines:
        common = {"sku": line.goods.sku, "name": line.goods.name, "unit": line.goods.unit}
        if line.bin_id is not None:
            out.append(
                printing.DocumentLine(
                    bin_code=line.bin.code,
                    quantity=line.quantity,
                    batch_no=line.batch.batch_no if line.batch else "",
                    expiry=line.batch.expiry_date if line.batch else None,
                    **common,
                )
            )
            continue
        left = line.quantity
        for balance in candidates.get(line.goods_id, []):
            if left <= 0:
                break
            if line.batch_id and balance.batch_id != line.batch_id:
                continue
            take = min(left, balance.available_qty - getattr(balance, "promised", 0))
            if take <= 0:
                continue
            balance.promised = getattr(balance, "promised", 0) + take
            left -= take
            out.append(
                printing.DocumentLine(
                    bin_code=balance.bin.code,
                    quantity=take,
                    batch_no=balance.batch.batch_no if balance.batch else "",
                    expiry=balance.batch.expiry_date if balance.batch else None,
                    **common,
                )
            )
        if left > 0:
            out.append(printing.DocumentLine(bin_code="—", quantity=left, **common))
    return out


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
