"""Files the import refuses, and files it must read right: each refusal writes nothing."""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile

import pytest
from openpyxl import Workbook

from inventory.imports.errors import ImportRefused
from inventory.imports.files import open_sheet
from inventory.models import Goods
from inventory.tests.factories import BrandFactory, CategoryFactory, GoodsFactory
from inventory.tests.test_import_support import (
    csv_bytes,
    import_file,
    inline_row,
    rewrite_zip,
    sheet_xml,
    write,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db

GOOD_ROWS = [["sku", "name"], ["A-1", "First"], ["A-2", "Second"]]


def _refused(tmp_path, name: str, content: bytes) -> str:
    report = import_file(write(tmp_path, name, content))
    assert not report.ok
    assert Goods.objects.count() == 0
    return report.refused


# --- not what the extension says ---------------------------------------------------------------


def test_refuses_a_file_that_is_not_xlsx_or_csv(tmp_path):
    # when
    message = _refused(tmp_path, "goods.pdf", b"%PDF-1.7 ...")
    # then
    assert "Only .xlsx and .csv" in message


def test_refuses_text_named_xlsx(tmp_path):
    message = _refused(tmp_path, "goods.xlsx", csv_bytes(GOOD_ROWS))
    assert "named .xlsx but holds text" in message


def test_refuses_a_workbook_named_csv(tmp_path):
    message = _refused(tmp_path, "goods.csv", xlsx_bytes(GOOD_ROWS))
    assert "named .csv but is an Excel workbook" in message


def test_refuses_a_picture_named_csv(tmp_path):
    message = _refused(tmp_path, "goods.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    assert "not a text file" in message


def test_refuses_an_old_xls_renamed_xlsx(tmp_path):
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024 + "Workbook".encode("utf-16-le")
    message = _refused(tmp_path, "goods.xlsx", ole)
    assert "Excel 97-2003" in message


def test_refuses_a_password_protected_workbook(tmp_path):
    # given: what Excel writes for an encrypted .xlsx: an OLE2 container with EncryptedPackage
    encrypted = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 2000
        + "EncryptionInfo".encode("utf-16-le")
        + b"\x00" * 100
        + "EncryptedPackage".encode("utf-16-le")
    )
    # when
    message = _refused(tmp_path, "goods.xlsx", encrypted)
    # then
    assert "protected with a password" in message


def test_refuses_a_zip_with_encrypted_entries(tmp_path):
    content = bytearray(xlsx_bytes(GOOD_ROWS))
    # set the "encrypted" flag bit on every central directory entry
    position = content.find(b"PK\x01\x02")
    while position != -1:
        content[position + 8] |= 0x1
        position = content.find(b"PK\x01\x02", position + 4)
    message = _refused(tmp_path, "goods.xlsx", bytes(content))
    assert "password" in message


def test_refuses_a_truncated_workbook(tmp_path):
    content = xlsx_bytes(GOOD_ROWS)
    message = _refused(tmp_path, "goods.xlsx", content[: len(content) // 2])
    assert "damaged or incomplete" in message


def test_refuses_a_workbook_with_a_corrupted_entry(tmp_path):
    content = bytearray(xlsx_bytes(GOOD_ROWS))
    # flip bytes inside the compressed worksheet: the CRC no longer matches
    archive = zipfile.ZipFile(io.BytesIO(bytes(content)))
    info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 5
    for offset in range(start, start + 10):
        content[offset] ^= 0xFF
    message = _refused(tmp_path, "goods.xlsx", bytes(content))
    assert "damaged" in message


def test_refuses_a_zip_that_is_not_a_workbook(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
        archive.writestr("[Content_Types].xml", "<Types/>")
    message = _refused(tmp_path, "goods.xlsx", buffer.getvalue())
    assert "not an Excel workbook" in message


# --- zip bombs and oversized sheets -----------------------------------------------------------


def test_refuses_a_zip_bomb_from_its_declared_size(tmp_path, settings):
    # given: a workbook whose worksheet inflates to 64 MiB of zeros
    settings.WMS_IMPORT_MAX_UNCOMPRESSED_BYTES = 32 * 2**20
    bomb = rewrite_zip(
        xlsx_bytes(GOOD_ROWS), {"xl/worksheets/sheet1.xml": b"<x/>" + b"\x00" * (64 * 2**20)}
    )
    assert len(bomb) < 1_000_000  # under 1 MB on disk, 64 MiB inflated
    # when
    started = time.perf_counter()
    message = _refused(tmp_path, "bomb.xlsx", bomb)
    # then: refused from the central directory, before inflating anything
    assert "zip bomb" in message
    assert time.perf_counter() - started < 1.0


def test_refuses_an_impossible_compression_ratio(tmp_path):
    bomb = rewrite_zip(
        xlsx_bytes(GOOD_ROWS), {"xl/sharedStrings.xml": b" " * (20 * 2**20)}, level=9
    )
    message = _refused(tmp_path, "bomb.xlsx", bomb)
    assert "zip bomb" in message


def test_refuses_a_zip_whose_directory_lies_about_sizes(tmp_path, settings):
    # given: the central directory declares 100 bytes for a 16 MiB entry
    settings.WMS_IMPORT_MAX_UNCOMPRESSED_BYTES = 8 * 2**20
    content = bytearray(
        rewrite_zip(xlsx_bytes(GOOD_ROWS), {"xl/styles.xml": b"<a/>" * (4 * 2**20)})
    )
    archive = zipfile.ZipFile(io.BytesIO(bytes(content)))
    names = [info.filename for info in archive.infolist()]
    position = content.find(b"PK\x01\x02")
    for name in names:
        if name == "xl/styles.xml":
            content[position + 24 : position + 28] = (100).to_bytes(4, "little")
        position = content.find(b"PK\x01\x02", position + 4)
    # when
    message = _refused(tmp_path, "liar.xlsx", bytes(content))
    # then: the declared size is not trusted: reading stops there, the entry's CRC-32 does not
    # match what was read, and the workbook is refused as damaged (nothing is inflated past it)
    assert "The workbook is damaged or incomplete" in message


def test_refuses_too_many_zip_entries(tmp_path, settings):
    settings.WMS_IMPORT_MAX_ZIP_ENTRIES = 50
    buffer = io.BytesIO()
    base = zipfile.ZipFile(io.BytesIO(xlsx_bytes(GOOD_ROWS)))
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in base.infolist():
            archive.writestr(info.filename, base.read(info.filename))
        for index in range(60):
            archive.writestr(f"xl/media/image{index}.png", b"x")
    message = _refused(tmp_path, "many.xlsx", buffer.getvalue())
    assert "zip bomb" in message


def test_refuses_a_tiny_sheet_with_a_value_in_the_last_cell(tmp_path):
    # given: A1 and XFD1048576 -- a reader that allocates the rectangle would need terabytes
    workbook = Workbook()
    workbook.active["A1"] = "sku"
    workbook.active["A2"] = "X-1"
    workbook.active["XFD1048576"] = "boom"
    buffer = io.BytesIO()
    workbook.save(buffer)
    # when
    message = _refused(tmp_path, "far.xlsx", buffer.getvalue())
    # then
    assert "column 16384" in message


def test_refuses_a_value_a_million_rows_below_the_table(tmp_path):
    content = rewrite_zip(
        xlsx_bytes(GOOD_ROWS),
        {
            "xl/worksheets/sheet1.xml": sheet_xml(
                inline_row(
                    1, ["sku", "name", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m"]
                )
                + inline_row(2, ["A-1", "x"])
                + inline_row(1048576, ["stray"])
            )
        },
    )
    message = _refused(tmp_path, "stray.xlsx", content)
    assert "row 1048576" in message


def test_refuses_a_sheet_over_the_row_limit_counted_while_reading(tmp_path, settings):
    # given
    settings.WMS_IMPORT_MAX_ROWS = 5
    rows = [["sku", "name"]] + [[f"S-{index}", f"Goods {index}"] for index in range(6)]
    # when
    message = _refused(tmp_path, "big.xlsx", xlsx_bytes(rows))
    # then
    assert "more than 5 rows" in message
    assert "row 7 is one too many" in message


def test_the_row_limit_does_not_count_blank_rows(tmp_path, settings):
    settings.WMS_IMPORT_MAX_ROWS = 2
    rows = [["sku", "name"], ["S-1", "one"], [None, None], ["", "  "], ["S-2", "two"]]
    report = import_file(write(tmp_path, "ok.xlsx", xlsx_bytes(rows)))
    assert report.ok, report.refused
    assert report.new == 2


def test_refuses_an_empty_file_and_a_sheet_without_rows(tmp_path):
    assert "empty" in _refused(tmp_path, "empty.csv", b"")
    assert "no data rows" in _refused(tmp_path, "header.csv", csv_bytes([["sku", "name"]]))
    assert "no header row" in _refused(tmp_path, "blank.xlsx", xlsx_bytes([[None], [None]]))


# --- columns ----------------------------------------------------------------------------------


def test_refuses_a_missing_required_column(tmp_path):
    message = _refused(tmp_path, "goods.csv", csv_bytes([["name", "barcode"], ["X", "1"]]))
    assert "Missing column(s): SKU" in message


def test_refuses_a_column_given_twice(tmp_path):
    rows = [["SKU", "name", "sku"], ["A-1", "x", "A-2"]]
    message = _refused(tmp_path, "goods.csv", csv_bytes(rows))
    assert "appears twice (columns A and C)" in message


def test_lists_unknown_columns_as_ignored(tmp_path):
    report = import_file(
        write(tmp_path, "g.csv", csv_bytes([["sku", "name", "colour"], ["A-1", "x", "red"]]))
    )
    assert report.ok
    assert report.ignored_columns == ["colour"]


def test_accepts_headers_in_chinese_and_english_labels(tmp_path):
    BrandFactory(name="Acme")
    rows = [["货品编码", "名称", "品牌", "Weight (kg)"], ["A-1", "啤酒", "Acme", "1.5"]]
    report = import_file(write(tmp_path, "g.csv", csv_bytes(rows)))
    assert report.ok, report.errors or report.refused
    goods = Goods.objects.get(sku="A-1")
    assert goods.brand.name == "Acme"
    assert str(goods.weight) == "1.500"


# --- encodings, dates, numbers, formulas ---------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gbk", b""), ("gb18030", b""), ("utf-16", b"")],
)
def test_reads_csv_in_utf8_with_and_without_bom_gbk_gb18030_and_utf16(tmp_path, encoding, prefix):
    # given: what Excel on a Chinese Windows saves ("CSV (逗号分隔)" is GBK)
    CategoryFactory(name="饮料", parent=None)
    rows = [["sku", "name", "category"], ["CN-1", "青岛啤酒 330毫升", "饮料"]]
    content = prefix + csv_bytes(rows, encoding=encoding)
    # when
    report = import_file(write(tmp_path, "goods.csv", content))
    # then
    assert report.ok, report.errors or report.refused
    goods = Goods.objects.get(sku="CN-1")
    assert goods.name == "青岛啤酒 330毫升"
    assert goods.category.name == "饮料"


def test_refuses_csv_in_an_unknown_encoding(tmp_path):
    content = "sku,name\r\nX-1,Caf\xe9 cr\xe8me\r\n".encode("cp1252")
    message = _refused(tmp_path, "goods.csv", content)
    assert "neither UTF-8 nor GBK" in message


def test_reads_semicolon_separated_csv(tmp_path):
    content = csv_bytes([["sku", "name", "weight"], ["S-1", "Soap", "0.25"]], delimiter=";")
    report = import_file(write(tmp_path, "goods.csv", content))
    assert report.ok
    assert str(Goods.objects.get(sku="S-1").weight) == "0.250"


def test_reads_numbers_stored_as_text_and_real_numbers(tmp_path):
    rows = [
        ["sku", "name", "weight", "shelf_life_days"],
        ["N-1", "text numbers", " 1,234.5 ", "365"],
        ["N-2", "real numbers", 1.1 * 3, 30.0],
        ["N-3", "full width", "１２.５", "７"],
    ]
    report = import_file(write(tmp_path, "n.xlsx", xlsx_bytes(rows)))
    assert report.ok, report.errors
    assert str(Goods.objects.get(sku="N-1").weight) == "1234.500"
    assert Goods.objects.get(sku="N-1").shelf_life_days == 365
    assert str(Goods.objects.get(sku="N-2").weight) == "3.300"
    assert Goods.objects.get(sku="N-2").shelf_life_days == 30
    assert str(Goods.objects.get(sku="N-3").weight) == "12.500"


def test_reports_numbers_it_cannot_read(tmp_path):
    rows = [["sku", "name", "weight", "shelf_life_days"], ["N-1", "x", "1.5kg", "12.5"]]
    report = import_file(write(tmp_path, "n.xlsx", xlsx_bytes(rows)))
    assert not report.ok
    assert {(error.row, error.column) for error in report.errors} == {
        (2, "weight"),
        (2, "shelf_life_days"),
    }
    assert Goods.objects.count() == 0


def test_reads_excel_dates_serial_numbers_and_iso_text(tmp_path):
    goods = GoodsFactory(sku="D-1", shelf_life_days=100)
    rows = [
        ["sku", "batch_no", "production_date", "inbound_date"],
        ["D-1", "B1", dt.date(2024, 5, 1), "2024-05-03"],
        ["D-1", "B2", 45413, "2024/5/3"],
        ["D-1", "B3", "2024年5月1日", "20240503"],
    ]
    report = import_file(write(tmp_path, "b.xlsx", xlsx_bytes(rows)), "batches")
    assert report.ok, report.errors
    batches = {batch.batch_no: batch for batch in goods.batches.all()}
    for batch_no in ("B1", "B2", "B3"):
        assert batches[batch_no].production_date == dt.date(2024, 5, 1)
        assert batches[batch_no].inbound_date == dt.date(2024, 5, 3)
        assert batches[batch_no].expiry_date == dt.date(2024, 8, 9)


def test_reports_ambiguous_date_text(tmp_path):
    GoodsFactory(sku="D-1")
    rows = [["sku", "batch_no", "production_date"], ["D-1", "B1", "05/01/2024"]]
    report = import_file(write(tmp_path, "b.csv", csv_bytes(rows)), "batches")
    assert [str(error) for error in report.errors] == [
        "row 2, production_date: '05/01/2024' is not a date; write it as YYYY-MM-DD, "
        "for example 2024-05-31"
    ]


def test_formula_cells_import_as_their_values(tmp_path):
    # given: cells holding formulas with their cached results, as Excel saves them
    rows_xml = (
        inline_row(1, ["sku", "name", "weight"])
        + '<row r="2"><c r="A2" t="str"><f>"F-"&amp;"1"</f><v>F-1</v></c>'
        '<c r="B2" t="str"><f>UPPER("x")</f><v>X</v></c><c r="C2"><f>1+0.5</f><v>1.5</v></c></row>'
    )
    content = rewrite_zip(xlsx_bytes(GOOD_ROWS), {"xl/worksheets/sheet1.xml": sheet_xml(rows_xml)})
    # when
    report = import_file(write(tmp_path, "f.xlsx", content))
    # then
    assert report.ok, report.errors or report.refused
    goods = Goods.objects.get(sku="F-1")
    assert goods.name == "X"
    assert str(goods.weight) == "1.500"


def test_libreoffice_phantom_rows_read_as_fast_as_a_clean_sheet(tmp_path):
    # given: 200 rows of data, then a million empty styled rows (LibreOffice declares them)
    data = [["sku", "name"]] + [[f"P-{index}", "x"] for index in range(200)]
    clean = write(tmp_path, "clean.xlsx", xlsx_bytes(data))
    phantom_rows = "".join(
        f'<row r="{number}" s="1" customFormat="true"><c r="A{number}" s="1"/></row>'
        for number in range(202, 1_048_577)
    )
    rows_xml = "".join(inline_row(index + 1, row) for index, row in enumerate(data))
    phantom = write(
        tmp_path,
        "phantom.xlsx",
        rewrite_zip(
            xlsx_bytes(data),
            {
                "xl/worksheets/sheet1.xml": sheet_xml(rows_xml + phantom_rows).replace(
                    b"<sheetData>", b'<dimension ref="A1:AMJ1048576"/><sheetData>'
                )
            },
        ),
    )
    # when
    reports = {}
    for path in (clean, phantom):
        started = time.perf_counter()
        reports[path.name] = (import_file(path, dry_run=True), time.perf_counter() - started)
    # then: same rows, no refusal, and the phantom rows cost a couple of seconds at most
    assert reports["clean.xlsx"][0].new == reports["phantom.xlsx"][0].new == 200
    assert reports["phantom.xlsx"][0].ok
    assert reports["phantom.xlsx"][1] < 5.0


def test_a_declared_million_row_dimension_costs_nothing(tmp_path):
    data = [["sku", "name"]] + [[f"P-{index}", "x"] for index in range(50)]
    rows_xml = "".join(inline_row(index + 1, row) for index, row in enumerate(data))
    declared = rewrite_zip(
        xlsx_bytes(data),
        {
            "xl/worksheets/sheet1.xml": sheet_xml(rows_xml).replace(
                b"<sheetData>", b'<dimension ref="A1:Z1048576"/><sheetData>'
            )
        },
    )
    started = time.perf_counter()
    report = import_file(write(tmp_path, "declared.xlsx", declared), dry_run=True)
    assert report.ok and report.new == 50
    assert time.perf_counter() - started < 1.0


def test_sheet_row_numbers_skip_blank_rows_and_follow_the_sheet(tmp_path):
    rows = [[None, None], ["sku", "name"], ["A-1", "x"], [None, None], ["A-1", "again"]]
    report = import_file(write(tmp_path, "g.xlsx", xlsx_bytes(rows)))
    assert messages_of_rows(report) == [(5, "sku")]


def messages_of_rows(report):
    return [(error.row, error.column) for error in report.errors]


def test_open_sheet_streams_rows_with_their_numbers(tmp_path):
    path = write(tmp_path, "g.csv", csv_bytes(GOOD_ROWS + [["", ""], ["A-3", "Third"]]))
    with open_sheet(str(path), path.name) as sheet:
        assert sheet.headers == ["sku", "name"]
        assert [number for number, _cells in sheet.rows()] == [2, 3, 5]


def test_csv_multi_line_cells_keep_record_numbers(tmp_path):
    content = b'sku,name\r\nM-1,"line one\r\nline two"\r\nM-1,dup\r\n'
    report = import_file(write(tmp_path, "g.csv", content))
    assert messages_of_rows(report) == [(3, "sku")]


def test_open_sheet_refuses_before_reading(tmp_path):
    with pytest.raises(ImportRefused) as refused:
        open_sheet(str(write(tmp_path, "x.xls", b"whatever")), "x.xls")
    assert str(refused.value) == (
        ".xls files cannot be imported: save the sheet as Excel Workbook (.xlsx) or CSV."
    )
