"""Opening an uploaded sheet safely, then streaming its rows.

``open_sheet(path, filename)`` checks the file before any parser sees it and refuses, with a
plain message and before anything is read into the database (``ImportRefused``):

* a name that is not ``.xlsx`` or ``.csv``, an empty or oversized file;
* content that is not what the extension says (sniffed from the first bytes: a zip for .xlsx,
  text for .csv; an old .xls, a PDF or a picture under either name);
* a password-protected workbook (an OLE2 container holding ``EncryptedPackage``, or encrypted zip
  entries) and a truncated or damaged one (no zip central directory, a bad CRC);
* a zip bomb: too many entries, declared uncompressed sizes over the cap or at an impossible
  compression ratio (read from the central directory before anything is inflated), then every
  entry inflated in 1 MiB chunks and counted, so a lying directory cannot get past the cap either;
* a sheet whose cells span more than ``WMS_IMPORT_MAX_CELLS`` (rows x columns): calamine, the
  fast reader, allocates the whole rectangle from the first to the last cell holding a value, so a
  tiny file with one value in A1 and one in XFD1048576 would otherwise take gigabytes. Empty
  styled cells (the million phantom rows LibreOffice declares) are not values and cost nothing.

Rows then stream as ``(sheet_row_number, cells)``: blank rows are skipped (so trailing blank rows
cost nothing), the data-row count is checked against ``WMS_IMPORT_MAX_ROWS`` as rows are read,
and formula cells arrive as their last calculated values. CSV is read in UTF-8 (with or without
BOM), UTF-16 with BOM, or GB18030 (a superset of GBK, what Excel on a Chinese Windows saves);
the delimiter is sniffed among comma, semicolon and tab.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from inventory.imports.errors import ImportRefused

XLSX = "xlsx"
CSV = "csv"
EXTENSIONS = {".xlsx": XLSX, ".csv": CSV}

_MIB = 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_ZIP_EMPTY = b"PK\x05\x06"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")

# A CSV field may hold a whole HTML product description (Shopify); the stdlib default is 128 KiB.
csv.field_size_limit(16 * _MIB)


@dataclass(frozen=True)
class Limits:
    max_rows: int
    max_bytes: int
    max_uncompressed: int
    max_entries: int
    max_ratio: int
    max_cells: int
    max_columns: int


def limits() -> Limits:
    """The caps, from settings (documented in the imports package docstring)."""
    return Limits(
        max_rows=int(getattr(settings, "WMS_IMPORT_MAX_ROWS", 200_000)),
        max_bytes=int(getattr(settings, "WMS_UPLOAD_MAX_BYTES", 50 * _MIB)),
        max_uncompressed=int(getattr(settings, "WMS_IMPORT_MAX_UNCOMPRESSED_BYTES", 512 * _MIB)),
        max_entries=int(getattr(settings, "WMS_IMPORT_MAX_ZIP_ENTRIES", 1000)),
        max_ratio=int(getattr(settings, "WMS_IMPORT_MAX_ZIP_RATIO", 500)),
        max_cells=int(getattr(settings, "WMS_IMPORT_MAX_CELLS", 12_000_000)),
        max_columns=int(getattr(settings, "WMS_IMPORT_MAX_COLUMNS", 200)),
    )


def format_for(filename: str) -> str:
    """``xlsx`` or ``csv`` from the file name; refuses anything else."""
    extension = os.path.splitext(filename or "")[1].lower()
    if extension in EXTENSIONS:
        return EXTENSIONS[extension]
    if extension in {".xls", ".xlsm", ".xlsb", ".ods", ".numbers"}:
        raise ImportRefused(
            _("%(ext)s files cannot be imported: save the sheet as Excel Workbook (.xlsx) or CSV.")
            % {"ext": extension}
        )
    raise ImportRefused(_("Only .xlsx and .csv files can be imported."))


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        return error.start >= len(head) - 4
    return True


def _is_encrypted_ole(path: str) -> bool:
    overlap = len(_ENCRYPTED_STREAM)
    tail = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(_MIB):
            if _ENCRYPTED_STREAM in tail + chunk:
                return True
            tail = chunk[-overlap:]
    return False


def sniff(path: str, kind: str) -> None:
    """Refuse a file whose content is not what its extension says (or that is empty/too big)."""
    lim = limits()
    size = os.path.getsize(path)
    if size == 0:
        raise ImportRefused(_("The file is empty."))
    if size > lim.max_bytes:
        raise ImportRefused(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": round(size / _MIB, 1), "limit": round(lim.max_bytes / _MIB, 1)}
        )
    with open(path, "rb") as handle:
        head = handle.read(65536)
    if head.startswith(_OLE_MAGIC):
        if _is_encrypted_ole(path):
            raise ImportRefused(
                _(
                    "The workbook is protected with a password. Open it in Excel, remove the "
                    "password (File > Info > Protect Workbook) and save it again."
                )
            )
        raise ImportRefused(
            _(
                "This is an old Excel 97-2003 workbook (.xls), not what its name says. Save it as "
                "Excel Workbook (.xlsx) and upload it again."
            )
        )
    if kind == XLSX:
        if head.startswith(_ZIP_MAGIC) or head.startswith(_ZIP_EMPTY):
            return
        if _looks_like_text(head):
            raise ImportRefused(
                _(
                    "The file is named .xlsx but holds text (a CSV file?). Rename it to .csv or "
                    "save it from Excel as Excel Workbook (.xlsx)."
                )
            )
        raise ImportRefused(_("The file is named .xlsx but is not an Excel workbook."))
    # CSV
    if head.startswith(_ZIP_MAGIC):
        raise ImportRefused(
            _(
                "The file is named .csv but is an Excel workbook (or another zip archive). "
                "Upload it with the .xlsx extension."
            )
        )
    if head.startswith(_BINARY_MAGIC):
        raise ImportRefused(_("The file is named .csv but is not a text file."))
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if not utf16 and b"\x00" in head:
        raise ImportRefused(_("The file is named .csv but is not a text file."))


# --- xlsx -------------------------------------------------------------------------------------

_DAMAGED = (
    "The workbook is damaged or incomplete (was the upload or the download cut short?). "
    "Open it in Excel, save it again and upload the new file."
)


def _damaged() -> ImportRefused:
    return ImportRefused(_(_DAMAGED))


def _bomb() -> ImportRefused:
    return ImportRefused(
        _(
            "The workbook expands to far more data than a sheet of this size can hold (a "
            "compressed 'zip bomb'?), so it was not opened."
        )
    )


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_REL_TAG = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")


def _first_sheet_entry(archive: zipfile.ZipFile, names: set[str]) -> str:
    """The zip entry of the first worksheet in workbook order (what calamine reads as index 0)."""
    fallback = "xl/worksheets/sheet1.xml"
    try:
        if archive.getinfo("xl/workbook.xml").file_size > 16 * _MIB:
            raise _bomb()
        workbook = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return fallback
    sheet = _SHEET_TAG.search(workbook)
    if sheet is None:
        raise ImportRefused(_("The workbook has no worksheet."))
    rel_id = next(
        (value for key, value in _ATTR.findall(sheet.group(0)) if key.endswith(b":id")), None
    )
    for tag in _REL_TAG.findall(rels):
        attrs = dict(_ATTR.findall(tag))
        if attrs.get(b"Id") == rel_id and b"Target" in attrs:
            target = attrs[b"Target"].decode("utf-8", "replace")
            target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            if target in names:
                return target
    return fallback


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + (char - 64)
    return number


class _CellExtent:
    """Bounds of the rectangle calamine will allocate, found while the sheet XML streams by.

    A quick pattern reads the row of every referenced cell (empty ones too); only when that bound
    would break the cap is the chunk read again with the precise pattern (cells that hold
    something). Chunks without any value tag are skipped outright: LibreOffice's phantom rows.
    """

    _ROW = re.compile(rb'<c r="[A-Z]{1,3}(\d{1,7})"')
    _WIDE = re.compile(rb'<c r="([A-Z]{2,3})\d')
    _VALUE = re.compile(rb'<c r="([A-Z]{1,3})(\d{1,7})"[^>/]*>')
    _UNREFERENCED = re.compile(rb'<c(?:>| (?!r="))')

    def __init__(self, lim: Limits) -> None:
        self.lim = lim
        self.max_row = 0
        self.max_col = 0
        self.rows_seen = 0
        self.widest_unreferenced_row = 0
        self._tail = b""

    def feed(self, chunk: bytes, final: bool = False) -> None:
        data = self._tail + chunk
        if final:
            self._tail = b""
        else:
            cut = data.rfind(b"<")
            if cut < 0:
                self._tail, data = data, b""
            else:
                self._tail, data = data[cut:], data[:cut]
        if not data:
            return
        if b"<v" not in data and b"<is>" not in data:
            return
        if self._UNREFERENCED.search(data):
            # Cells without a reference are placed after the previous one: bound them by rows
            # and by the widest row instead.
            self.rows_seen += data.count(b"<row")
            widest = max(part.count(b"<c>") + part.count(b"<c ") for part in data.split(b"</row>"))
            self.widest_unreferenced_row = max(self.widest_unreferenced_row, widest)
        rows = self._ROW.findall(data)
        quick_row = max(map(int, rows)) if rows else 0
        wide = self._WIDE.findall(data)
        quick_col = max(map(_column_number, wide)) if wide else 26
        row = max(self.max_row, quick_row)
        col = max(self.max_col, quick_col)
        if col > self.lim.max_columns or self._cells(row, col) > self.lim.max_cells:
            values = self._VALUE.findall(data)
            precise_row = max((int(number) for _letters, number in values), default=0)
            precise_col = max((_column_number(letters) for letters, _n in values), default=0)
            row = max(self.max_row, precise_row)
            col = max(self.max_col, precise_col)
        self.max_row, self.max_col = row, col
        self.check()

    def _cells(self, row: int, col: int) -> int:
        rows = row + self.rows_seen
        cols = max(col, self.widest_unreferenced_row)
        return rows * cols

    def check(self) -> None:
        cols = max(self.max_col, self.widest_unreferenced_row)
        if cols > self.lim.max_columns:
            raise ImportRefused(
                _("The sheet has data in column %(col)s; at most %(max)s columns are read.")
                % {"col": cols, "max": self.lim.max_columns}
            )
        if self._cells(self.max_row, self.max_col) > self.lim.max_cells:
            raise ImportRefused(
                _(
                    "The sheet has data as far as row %(row)s, column %(col)s: more cells than "
                    "an import can hold. Delete the stray cells far below or right of the table."
                )
                % {"row": self.max_row, "col": cols}
            )


def inspect_xlsx(path: str) -> str:
    """Check the archive (see module docstring); return the first worksheet's entry name."""
    lim = limits()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise _damaged() from error
    with archive:
        infos = archive.infolist()
        if len(infos) > lim.max_entries:
            raise _bomb()
        names = {info.filename for info in infos}
        if "mimetype" in names and "content.xml" in names:
            raise ImportRefused(
                _("This is an OpenDocument spreadsheet, not .xlsx: save it as Excel Workbook.")
            )
        if "xl/workbook.xml" not in names:
            raise ImportRefused(_("The file is a zip archive but not an Excel workbook."))
        if any(info.flag_bits & 0x1 for info in infos):
            raise ImportRefused(
                _("The workbook is protected with a password. Remove the password and save it.")
            )
        if sum(info.file_size for info in infos) > lim.max_uncompressed:
            raise _bomb()
        for info in infos:
            if info.file_size > _MIB and info.file_size > lim.max_ratio * max(
                info.compress_size, 1
            ):
                raise _bomb()
        sheet_entry = _first_sheet_entry(archive, names)
        extent = _CellExtent(lim)
        inflated = 0
        try:
            for info in infos:
                is_sheet = info.filename == sheet_entry
                with archive.open(info) as member:
                    while chunk := member.read(_MIB):
                        inflated += len(chunk)
                        if inflated > lim.max_uncompressed:
                            raise _bomb()
                        if is_sheet:
                            extent.feed(chunk)
                if is_sheet:
                    extent.feed(b"", final=True)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError) as error:
            raise _damaged() from error
        if sheet_entry not in names:
            raise ImportRefused(_("The workbook has no worksheet."))
    return sheet_entry


# --- the sheet --------------------------------------------------------------------------------


def _blank(cells: list) -> bool:
    for cell in cells:
        if cell is None:
            continue
        if isinstance(cell, str):
            if cell.strip():
                return False
            continue
        return False
    return True


class Sheet:
    """A checked sheet: ``headers`` (the first non-blank row, as text), ``header_row`` (its row
    number), ``estimated_rows`` (for progress) and ``rows()``, the data rows as
    ``(row_number, cells)`` with blank rows skipped and the row limit enforced while streaming."""

    kind = ""

    def __init__(self) -> None:
        self.headers: list[str] = []
        self.header_row = 0
        self.estimated_rows = 0
        self.max_rows = limits().max_rows

    def _raw_rows(self) -> Iterator[tuple[int, list]]:
        raise NotImplementedError

    def rows(self) -> Iterator[tuple[int, list]]:
        count = 0
        for number, cells in self._raw_rows():
            if number <= self.header_row or _blank(cells):
                continue
            count += 1
            if count > self.max_rows:
                raise ImportRefused(
                    _(
                        "The sheet has more than %(max)s rows (row %(row)s is one too many). "
                        "Split it into smaller files."
                    )
                    % {"max": f"{self.max_rows:,}", "row": number}
                )
            yield number, cells

    def _find_header(self, iterator: Iterator[tuple[int, list]]) -> None:
        for number, cells in iterator:
            if _blank(cells):
                continue
            self.header_row = number
            self.headers = [_header_text(cell) for cell in cells]
            while self.headers and not self.headers[-1]:
                self.headers.pop()
            return
        raise ImportRefused(_("The sheet is empty: no header row was found."))

    def close(self) -> None:
        """Release the reader (a no-op for sheets that hold nothing open)."""

    def __enter__(self) -> Sheet:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _header_text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return " ".join(str(cell).split())


class XlsxSheet(Sheet):
    """The first worksheet, read by python-calamine (values of formula cells, real dates)."""

    kind = XLSX

    def __init__(self, path: str) -> None:
        super().__init__()
        from python_calamine import CalamineError, CalamineWorkbook

        inspect_xlsx(path)
        try:
            self._workbook = CalamineWorkbook.from_path(path)
            self._sheet = self._workbook.get_sheet_by_index(0)
        except CalamineError as error:
            if type(error).__name__ == "PasswordError":
                raise ImportRefused(_("The workbook is protected with a password.")) from error
            raise _damaged() from error
        # iter_rows() starts at the sheet's first row (leading empty rows come as blank lists),
        # whatever ``start`` says, so a row's number is its index + 1.
        self._first_row = 1
        self.estimated_rows = max(0, self._sheet.height - 1)
        self._find_header(self._numbered())

    def _numbered(self) -> Iterator[tuple[int, list]]:
        for index, cells in enumerate(self._sheet.iter_rows()):
            yield self._first_row + index, cells

    def _raw_rows(self) -> Iterator[tuple[int, list]]:
        return self._numbered()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._workbook.close()


def detect_encoding(path: str) -> str:
    """``utf-8-sig``, ``utf-16``, ``utf-8`` or ``gb18030``: the first that decodes the whole file."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(_MIB):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportRefused(
        _(
            "The CSV file is neither UTF-8 nor GBK/GB18030 text. Save it from Excel as "
            "'CSV UTF-8 (Comma delimited)'."
        )
    )


def _sniff_delimiter(first_line: str) -> str:
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


class CsvSheet(Sheet):
    """A CSV file streamed through the csv module; the row number is the record number (what a
    spreadsheet app shows when it opens the file), even when a quoted cell spans several lines."""

    kind = CSV

    def __init__(self, path: str) -> None:
        super().__init__()
        self.encoding = detect_encoding(path)
        self._path = path
        self._handle = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._text = io.TextIOWrapper(self._handle, encoding=self.encoding, newline="")
        sample = self._text.read(65536)
        self._text.seek(0)
        first_line = sample.splitlines()[0] if sample else ""
        self.delimiter = _sniff_delimiter(first_line)
        bytes_per_line = len(sample.encode("utf-8")) / max(1, sample.count("\n"))
        self.estimated_rows = max(1, int(os.path.getsize(path) / max(1.0, bytes_per_line)) - 1)
        self._reader = csv.reader(self._text, delimiter=self.delimiter)
        self._records = self._numbered()
        self._find_header(self._records)

    def _numbered(self) -> Iterator[tuple[int, list]]:
        number = 0
        try:
            for cells in self._reader:
                number += 1
                yield number, cells
        except csv.Error as error:
            raise ImportRefused(
                _("Row %(row)s of the CSV file cannot be read (%(error)s).")
                % {"row": number + 1, "error": error}
            ) from error
        except UnicodeDecodeError as error:
            raise ImportRefused(_("The CSV file changes its text encoding part way.")) from error

    def _raw_rows(self) -> Iterator[tuple[int, list]]:
        return self._records

    def close(self) -> None:
        self._text.close()


def open_sheet(path: str, filename: str) -> Sheet:
    """Check ``path`` (uploaded as ``filename``) and open its first sheet; see the module doc."""
    kind = format_for(filename)
    sniff(path, kind)
    return XlsxSheet(path) if kind == XLSX else CsvSheet(path)
