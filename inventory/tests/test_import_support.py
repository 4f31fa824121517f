"""Builders and fixtures shared by the goods import/export tests (no tests in here).

Sheets are built in memory the way people and programs really make them: openpyxl workbooks
(shared strings, real number and date cells), CSV text in several encodings, and hand-assembled
zip archives for the damaged or hostile cases.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from inventory.imports import registry
from inventory.imports.engine import ImportReport, run_import
from inventory.imports.errors import ImportRefused
from inventory.imports.files import open_sheet

GOODS_HEADER = ["sku", "name", "barcode", "category", "brand", "unit", "weight", "shelf_life_days"]


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploads and exports go to a fresh directory per test."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def xlsx_bytes(
    rows: list[list], *, title: str = "Data", text_columns: tuple[int, ...] = ()
) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for column in text_columns:
        for cell in sheet.iter_cols(min_col=column + 1, max_col=column + 1):
            for item in cell:
                item.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def rewrite_zip(content: bytes, replace: dict[str, bytes] | None = None, level: int = 1) -> bytes:
    """The same xlsx with some entries replaced (e.g. a hand-written worksheet XML)."""
    replace = replace or {}
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as target:
        for info in source.infolist():
            data = replace.get(info.filename, source.read(info.filename))
            target.writestr(info.filename, data)
        for name, data in replace.items():
            if name not in source.namelist():
                target.writestr(name, data)
    return buffer.getvalue()


def sheet_xml(rows_xml: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{rows_xml}</sheetData></worksheet>"
    ).encode()


def inline_row(number: int, values: list) -> str:
    cells = []
    for index, value in enumerate(values):
        ref = f"{chr(65 + index)}{number}"
        if isinstance(value, (int, float)):
            cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        else:
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'


def import_file(
    path: Path, resource: str = "goods", *, dry_run: bool = False, user=None
) -> ImportReport:
    """Run one import of ``path`` the way the commands do; a refusal comes back in the report."""
    resource_class = registry.get(resource)
    try:
        sheet = open_sheet(str(path), path.name)
    except ImportRefused as refusal:
        report = ImportReport(resource=resource, dry_run=dry_run)
        report.refused = str(refusal)
        return report
    return run_import(resource_class(), sheet, dry_run=dry_run, user=user)


def messages_of(report: ImportReport) -> list[str]:
    return [str(error) for error in report.errors]
