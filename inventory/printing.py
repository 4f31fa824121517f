"""Printable PDFs: bin labels, goods labels, pick lists and packing slips (reportlab).

Barcodes are drawn as vectors by reportlab's own barcode module: Code 128 for bin codes, SKUs and
document numbers, EAN-13 for goods whose barcode is an EAN-13, and GS1-128 ((01) GTIN, (10)
batch, (17) expiry) for a goods label with a batch, so a scan of it fills batch and expiry
(``inventory.codes.parse_gs1``). Text uses reportlab's built-in CID font STSong-Light, which
renders Simplified Chinese without a font file on the server.

Every function returns the PDF as bytes; the views only fetch the rows and stream them.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import code128, eanbc
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from inventory.codes import gs1_element_string, gs1_human_readable, is_valid_gtin

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

# Label stock: (width, height) in points, and for sheets the grid.
LABEL_SIZES = {
    "50x30": (50 * mm, 30 * mm),
    "100x150": (100 * mm, 150 * mm),
}
A4_GRID = (3, 8)  # 70 x 37.1 mm labels, the common 24-up A4 sheet


@dataclass(frozen=True)
class BinLabel:
    code: str  # the bin's code, printed large
    warehouse_code: str

    @property
    def data(self) -> str:
        """What the barcode encodes: ``WH/CODE``, unambiguous across warehouses."""
        return f"{self.warehouse_code}/{self.code}"


@dataclass(frozen=True)
class GoodsLabel:
    sku: str
    name: str
    barcode: str = ""
    batch_no: str = ""
    expiry: date | None = None

    def symbol(self) -> tuple[str, str, str]:
        """(symbology, data, human-readable line): GS1-128 when the goods has a GTIN and the
        label names a batch or an expiry, EAN-13 for an EAN-13 alone, else Code 128 of the
        barcode or the SKU."""
        if is_valid_gtin(self.barcode) and (self.batch_no or self.expiry):
            elements = [("01", self.barcode.zfill(14))]
            if self.expiry:
                elements.append(("17", self.expiry.strftime("%y%m%d")))
            if self.batch_no:
                elements.append(("10", self.batch_no))
            return "gs1", gs1_element_string(elements), gs1_human_readable(elements)
        if is_valid_gtin(self.barcode) and len(self.barcode) == 13:
            return "ean13", self.barcode, self.barcode
        data = self.barcode or self.sku
        return "code128", data, data


@dataclass(frozen=True)
class DocumentLine:
    bin_code: str
    sku: str
    name: str
    quantity: int
    unit: str = ""
    batch_no: str = ""
    expiry: date | None = None
    barcode: str = ""


@dataclass(frozen=True)
class DocumentHeader:
    number: str
    title: str
    warehouse: str
    reference: str = ""
    type_label: str = ""
    status: str = ""
    created: str = ""
    note: str = ""


def _fit(text: str, size: float, width: float) -> float:
    """The largest font size up to ``size`` at which ``text`` fits ``width``."""
    used = pdfmetrics.stringWidth(text, FONT, size)
    return size if used <= width else max(4.0, size * width / used)


def _clip(text: str, size: float, width: float) -> str:
    while text and pdfmetrics.stringWidth(text, FONT, size) > width:
        text = text[:-2] + "…" if len(text) > 2 else ""
    return text


def _draw_code128(
    canvas: Canvas, data: str, x: float, y: float, width: float, height: float
) -> None:
    """Code 128 of ``data`` as wide as fits the box (modules of at most 0.5 mm), centred, with
    its quiet zones."""
    unit = code128.Code128(data, barHeight=height, barWidth=1, humanReadable=False)
    bar_width = min(width / unit.width, 0.5 * mm)
    symbol = code128.Code128(data, barHeight=height, barWidth=bar_width, humanReadable=False)
    symbol.drawOn(canvas, x + (width - symbol.width) / 2, y)


def _draw_ean13(canvas: Canvas, data: str, x: float, y: float, width: float, height: float):
    """EAN-13 of ``data`` as wide as fits the box, centred."""
    unit = eanbc.Ean13BarcodeWidget(data, barHeight=height, barWidth=1, humanReadable=False)
    left, _bottom, right, _top = unit.getBounds()
    bar_width = min(width / (right - left), 0.5 * mm)
    widget = eanbc.Ean13BarcodeWidget(
        data, barHeight=height, barWidth=bar_width, humanReadable=False
    )
    left, _bottom, right, _top = widget.getBounds()
    drawing = Drawing(right - left, height)
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x + (width - (right - left)) / 2 - left, y)


def _bin_label(canvas: Canvas, label: BinLabel, x: float, y: float, w: float, h: float) -> None:
    pad = min(w, h) * 0.06
    big = _fit(label.code, h * 0.22, w - 2 * pad)
    canvas.setFont(FONT, big)
    canvas.drawCentredString(x + w / 2, y + h - pad - big * 0.85, label.code)
    small = min(h * 0.08, 10)
    canvas.setFont(FONT, small)
    canvas.drawCentredString(x + w / 2, y + pad, label.data)
    bar_bottom = y + pad + small * 1.4
    bar_height = h - 2 * pad - big - small * 1.6
    _draw_code128(canvas, label.data, x + pad, bar_bottom, w - 2 * pad, bar_height)


def _goods_label(canvas: Canvas, label: GoodsLabel, x: float, y: float, w: float, h: float):
    pad = min(w, h) * 0.06
    kind, data, readable = label.symbol()
    top = y + h - pad
    sku_size = _fit(label.sku, h * 0.13, w - 2 * pad)
    canvas.setFont(FONT, sku_size)
    canvas.drawString(x + pad, top - sku_size, label.sku)
    name_size = min(h * 0.085, 14)
    canvas.setFont(FONT, name_size)
    canvas.drawString(
        x + pad, top - sku_size - name_size * 1.2, _clip(label.name, name_size, w - 2 * pad)
    )
    facts = []
    if label.batch_no:
        facts.append(f"LOT {label.batch_no}")
    if label.expiry:
        facts.append(f"EXP {label.expiry.isoformat()}")
    used = sku_size + name_size * 1.3
    if facts:
        canvas.drawString(x + pad, top - used - name_size * 1.1, "  ".join(facts))
        used += name_size * 1.2
    small = min(h * 0.07, 9)
    canvas.setFont(FONT, small)
    canvas.drawCentredString(x + w / 2, y + pad, _clip(readable, small, w - 2 * pad))
    bar_bottom = y + pad + small * 1.3
    bar_height = h - 2 * pad - used - small * 1.6
    if kind == "ean13":
        _draw_ean13(canvas, data, x + pad, bar_bottom, w - 2 * pad, bar_height)
    else:
        _draw_code128(canvas, data, x + pad, bar_bottom, w - 2 * pad, bar_height)


def _labels_pdf(labels: list, draw, size: str, title: str) -> bytes:
    buffer = io.BytesIO()
    if size == "a4":
        canvas = Canvas(buffer, pagesize=A4)
        columns, rows = A4_GRID
        width, height = A4[0] / columns, A4[1] / rows
        for index, label in enumerate(labels):
            slot = index % (columns * rows)
            if index and slot == 0:
                canvas.showPage()
            column, row = slot % columns, slot // columns
            draw(canvas, label, column * width, A4[1] - (row + 1) * height, width, height)
    else:
        width, height = LABEL_SIZES[size]
        canvas = Canvas(buffer, pagesize=(width, height))
        for index, label in enumerate(labels):
            if index:
                canvas.showPage()
            draw(canvas, label, 0, 0, width, height)
    canvas.setTitle(title)
    canvas.save()
    return buffer.getvalue()


def bin_labels_pdf(labels: Iterable[BinLabel], *, size: str = "50x30") -> bytes:
    """One bin label per page at 50x30 mm or 100x150 mm (label printers), or 24 per A4 sheet
    (``size="a4"``)."""
    return _labels_pdf(list(labels), _bin_label, size, "Bin labels")


def goods_labels_pdf(labels: Iterable[GoodsLabel], *, size: str = "50x30") -> bytes:
    """Goods labels: SKU, name, batch and expiry where known, and the barcode (see ``symbol``)."""
    return _labels_pdf(list(labels), _goods_label, size, "Goods labels")


def _document_pdf(
    header: DocumentHeader,
    lines: list[DocumentLine],
    *,
    columns: list[tuple[str, float, str]],
    row_values,
    footer: list[str],
) -> bytes:
    """A4 document: title, the number as Code 128, facts, a table of lines across pages."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(f"{header.title} {header.number}")
    width, height = A4
    margin = 15 * mm
    page = 1

    def head() -> float:
        canvas.setFont(FONT, 16)
        canvas.drawString(margin, height - margin - 12, f"{header.title}  {header.number}")
        _draw_code128(
            canvas,
            header.number,
            width - margin - 60 * mm,
            height - margin - 16 * mm,
            60 * mm,
            14 * mm,
        )
        canvas.setFont(FONT, 9)
        y = height - margin - 24
        for fact in (
            header.warehouse,
            header.type_label,
            header.reference,
            header.status,
            header.created,
        ):
            if fact:
                canvas.drawString(margin, y, fact)
                y -= 11
        y = min(y, height - margin - 20 * mm) - 8
        canvas.setFont(FONT, 9)
        x = margin
        for label, column_width, _align in columns:
            canvas.drawString(x, y, label)
            x += column_width
        canvas.line(margin, y - 3, width - margin, y - 3)
        return y - 15

    y = head()
    row_height = 14
    for line in lines:
        if y < margin + 30 * mm:
            canvas.setFont(FONT, 8)
            canvas.drawRightString(width - margin, margin / 2, str(page))
            canvas.showPage()
            page += 1
            y = head()
        x = margin
        canvas.setFont(FONT, 9)
        for (_label, column_width, align), value in zip(columns, row_values(line), strict=True):
            text = _clip(str(value), 9, column_width - 4)
            if align == "right":
                canvas.drawRightString(x + column_width - 4, y, text)
            else:
                canvas.drawString(x, y, text)
            x += column_width
        canvas.setLineWidth(0.2)
        canvas.line(margin, y - 4, width - margin, y - 4)
        y -= row_height
    y -= 10
    canvas.setFont(FONT, 10)
    for text in footer:
        canvas.drawString(margin, y, text)
        y -= 16
    canvas.setFont(FONT, 8)
    canvas.drawRightString(width - margin, margin / 2, str(page))
    canvas.save()
    return buffer.getvalue()


def pick_list_pdf(header: DocumentHeader, lines: list[DocumentLine], labels: dict) -> bytes:
    """拣货单: the lines in walking order (bin code), each with a tick box; ``labels`` holds the
    translated column names (bin, sku, name, batch, expiry, quantity, picked, picker)."""
    ordered = sorted(lines, key=lambda line: (line.bin_code, line.sku, line.batch_no))
    columns = [
        (labels["bin"], 28 * mm, "left"),
        (labels["sku"], 32 * mm, "left"),
        (labels["name"], 52 * mm, "left"),
        (labels["batch"], 22 * mm, "left"),
        (labels["expiry"], 20 * mm, "left"),
        (labels["quantity"], 14 * mm, "right"),
        (labels["picked"], 12 * mm, "left"),
    ]
    return _document_pdf(
        header,
        ordered,
        columns=columns,
        row_values=lambda line: (
            line.bin_code,
            line.sku,
            line.name,
            line.batch_no,
            line.expiry.isoformat() if line.expiry else "",
            f"{line.quantity} {line.unit}".strip(),
            "□",
        ),
        footer=[f"{labels['picker']}: ____________________"],
    )


def packing_slip_pdf(header: DocumentHeader, lines: list[DocumentLine], labels: dict) -> bytes:
    """装箱单: what the parcel holds, by SKU, with the total and a checked-by line."""
    ordered = sorted(lines, key=lambda line: (line.sku, line.batch_no))
    columns = [
        (labels["sku"], 36 * mm, "left"),
        (labels["name"], 72 * mm, "left"),
        (labels["batch"], 28 * mm, "left"),
        (labels["expiry"], 22 * mm, "left"),
        (labels["quantity"], 22 * mm, "right"),
    ]
    total = sum(line.quantity for line in lines)
    return _document_pdf(
        header,
        ordered,
        columns=columns,
        row_values=lambda line: (
            line.sku,
            line.name,
            line.batch_no,
            line.expiry.isoformat() if line.expiry else "",
            f"{line.quantity} {line.unit}".strip(),
        ),
        footer=[f"{labels['total']}: {total}", f"{labels['checked']}: ____________________"],
    )


def wave_pick_list_pdf(
    header: DocumentHeader,
    stops: list[tuple[DocumentLine, list[tuple[str, int]]]],
    labels: dict,
) -> bytes:
    """波次拣货单: the stops of several outbound sheets merged into one walk (``stops`` already in
    bin walk order, as ``inventory.selectors.picking.merge_by_stop`` gives them), each with the
    total to pick and which sheet takes how many, and a tick box."""
    columns = [
        (labels["bin"], 22 * mm, "left"),
        (labels["sku"], 26 * mm, "left"),
        (labels["name"], 24 * mm, "left"),
        (labels["batch"], 18 * mm, "left"),
        (labels["expiry"], 18 * mm, "left"),
        (labels["quantity"], 14 * mm, "right"),
        (labels["for"], 50 * mm, "left"),
        (labels["picked"], 8 * mm, "left"),
    ]
    return _document_pdf(
        header,
        stops,
        columns=columns,
        row_values=lambda stop: (
            stop[0].bin_code,
            stop[0].sku,
            stop[0].name,
            stop[0].batch_no,
            stop[0].expiry.isoformat() if stop[0].expiry else "",
            f"{stop[0].quantity} {stop[0].unit}".strip(),
            ", ".join(f"{number}×{quantity}" for number, quantity in stop[1]),
            "□",
        ),
        footer=[f"{labels['picker']}: ____________________"],
    )
