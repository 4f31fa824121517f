"""The one xlsx/csv writer of every export: to a file, or streamed into an HTTP response.

``rows`` is any iterable of lists (a generator over a keyset-paged selector or a queryset's
``.iterator()``): it is read once, a thousand rows at a time, so memory stays constant however
long the list. Every value goes through ``wms.spreadsheets.export_value`` (idempotent): text a
spreadsheet would execute starts with an apostrophe, numbers, dates and booleans stay native.

* ``write_xlsx(path, headers, rows, title) -> int`` / ``write_csv(path, headers, rows) -> int``:
  a file (the export history, the admin's import-export formats); returns the number of rows.
* ``stream_xlsx(headers, rows, title) -> Iterator[bytes]`` / ``stream_csv(headers, rows)``: the
  same bytes as they are produced (the xlsx's zip entries carry data descriptors, as every
  streaming zip writer does).
* ``export_response(file_format, filename, headers, rows, title=...)``: a
  ``StreamingHttpResponse`` download named ``<filename>-<YYYYmmdd-HHMM>.<xlsx|csv>``.

xlsx: one sheet streamed straight into a zip entry (about ten times faster than openpyxl's
write-only mode): text as inline strings, numbers as numbers, dates as real Excel dates, the
header row bold and frozen. csv: UTF-8 with a BOM (so Excel shows Chinese text right), comma
separated, dates in ISO form.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from django.http import StreamingHttpResponse
from django.utils import timezone

from wms.spreadsheets import export_value

XLSX = "xlsx"
CSV = "csv"
FORMATS = (XLSX, CSV)
CONTENT_TYPES = {
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    CSV: "text/csv; charset=utf-8",
}
#: Rows buffered between two writes (and between two chunks of a streamed response).
CHUNK_ROWS = 1000

_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # noqa: DTZ001 - Excel serial dates have no zone

_CONTENT_TYPES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)
# Style 0: default; 1: header (bold); 2: date (yyyy-mm-dd); 3: date and time.
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def column_letter(index: int) -> str:
    """Spreadsheet column name of a zero-based column index: 0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- xlsx -----------------------------------------------------------------------------------


def write_xlsx(path: str | Path, headers: list, rows: Iterable[list], title: str = "") -> int:
    """Write ``headers`` and ``rows`` as a one-sheet workbook at ``path``; returns the number of
    rows written (the header not counted)."""
    count = [0]
    with open(path, "wb") as handle:
        for _ in _xlsx_steps(handle, headers, rows, title, count):
            pass
    return count[0]


def stream_xlsx(headers: list, rows: Iterable[list], title: str = "") -> Iterator[bytes]:
    """The workbook of ``write_xlsx`` as byte chunks, produced while ``rows`` is read."""
    sink = _Sink()
    for _ in _xlsx_steps(sink, headers, rows, title, [0]):
        chunk = sink.take()
        if chunk:
            yield chunk
    chunk = sink.take()
    if chunk:
        yield chunk


class _Sink:
    """A write-only, unseekable file: ``zipfile`` then writes data descriptors."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


def _xlsx_steps(
    handle, headers: list, rows: Iterable[list], title: str, count: list[int]
) -> Iterator[None]:
    """Write the workbook into ``handle``, pausing (yield) after each chunk of rows."""
    letters = [column_letter(index) for index in range(len(headers))]
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES_XML)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/workbook.xml", _workbook_xml(title))
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        book.writestr("xl/styles.xml", _STYLES)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b'<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                b'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>'
            )
            header_cells = "".join(
                _text_cell(f"{letters[i]}1", str(export_value(str(header))), ' s="1"')
                for i, header in enumerate(headers)
            )
            sheet.write(f'<row r="1">{header_cells}</row>'.encode())
            buffer: list[str] = []
            number = 1
            for row in rows:
                number += 1
                count[0] += 1
                cells = "".join(
                    _cell(f"{letters[i]}{number}", export_value(value))
                    for i, value in enumerate(row[: len(letters)])
                )
                buffer.append(f'<row r="{number}">{cells}</row>')
                if len(buffer) >= CHUNK_ROWS:
                    sheet.write("".join(buffer).encode())
                    buffer.clear()
                    yield
            if buffer:
                sheet.write("".join(buffer).encode())
            sheet.write(b"</sheetData></worksheet>")
        yield


def _workbook_xml(title: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{escape(str(title)[:31] or "Sheet1", {chr(34): "&quot;"})}" '
        'sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def _text_cell(ref: str, value: str, style: str = "") -> str:
    # A raw CR would be read back as LF (XML end-of-line handling): write it as a reference.
    value = escape(_ILLEGAL_XML.sub("", value)).replace("\r", "&#13;")
    return f'<c r="{ref}" t="inlineStr"{style}><is><t xml:space="preserve">{value}</t></is></c>'


def _cell(ref: str, value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return _text_cell(ref, value)
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    if isinstance(value, Decimal):
        return f'<c r="{ref}"><v>{value:f}</v></c>'
    if isinstance(value, dt.datetime):
        naive = timezone.make_naive(value) if timezone.is_aware(value) else value
        serial = (naive - _EXCEL_EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="3"><v>{serial!r}</v></c>'
    if isinstance(value, dt.date):
        serial = (value - _EXCEL_EPOCH.date()).days
        return f'<c r="{ref}" s="2"><v>{serial}</v></c>'
    return _text_cell(ref, str(value))


# --- csv ------------------------------------------------------------------------------------


def write_csv(path: str | Path, headers: list, rows: Iterable[list]) -> int:
    """Write ``headers`` and ``rows`` as CSV at ``path``; returns the number of rows."""
    count = [0]
    with open(path, "wb") as handle:
        for chunk in _csv_chunks(headers, rows, count):
            handle.write(chunk)
    return count[0]


def stream_csv(headers: list, rows: Iterable[list]) -> Iterator[bytes]:
    """The file of ``write_csv`` as byte chunks, produced while ``rows`` is read."""
    return _csv_chunks(headers, rows, [0])


def _csv_value(value) -> object:
    value = export_value(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _csv_chunks(headers: list, rows: Iterable[list], count: list[int]) -> Iterator[bytes]:
    text = io.StringIO()
    writer = csv.writer(text)
    text.write("\ufeff")
    writer.writerow([export_value(str(header)) for header in headers])
    for row in rows:
        count[0] += 1
        writer.writerow([_csv_value(value) for value in row])
        if count[0] % CHUNK_ROWS == 0:
            yield text.getvalue().encode()
            text.seek(0)
            text.truncate()
    yield text.getvalue().encode()


# --- download -------------------------------------------------------------------------------


def export_response(
    file_format: str, filename: str, headers: list, rows: Iterable[list], *, title: str = ""
) -> StreamingHttpResponse:
    """A streamed download of ``rows`` as ``file_format`` (``xlsx`` or ``csv``), named
    ``<filename>-<YYYYmmdd-HHMM>.<format>`` in local time; the sheet is titled ``title`` (or
    ``filename``). Raises ``ValueError`` for another format (the view answers 404 first)."""
    if file_format not in FORMATS:
        raise ValueError(f"unknown format {file_format!r}")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if file_format == XLSX:
        chunks = stream_xlsx(headers, rows, str(title or filename))
    else:
        chunks = stream_csv(headers, rows)
    response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.{file_format}"'
    return response
