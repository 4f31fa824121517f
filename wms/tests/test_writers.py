"""``wms.writers``: one xlsx/csv writer, to a file or streamed, escaping formulas."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from wms.writers import (
    CHUNK_ROWS,
    column_letter,
    export_response,
    stream_csv,
    stream_xlsx,
    write_csv,
    write_xlsx,
)

HEADERS = ["SKU", "Units", "Weight", "Expiry", "Note"]
ROWS = [
    ["A-1", 3, Decimal("1.5"), dt.date(2024, 1, 2), "=cmd()"],
    ["B-2", 0, None, None, "茶叶"],
]


def test_a_streamed_workbook_reads_back_with_native_values_and_escaped_formulas():
    # when
    content = b"".join(stream_xlsx(HEADERS, iter(ROWS), "Stock"))

    # then
    book = load_workbook(io.BytesIO(content))
    sheet = book.active
    assert sheet.title == "Stock"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(HEADERS)
    assert rows[1][:3] == ("A-1", 3, 1.5)
    assert rows[1][3].date() == dt.date(2024, 1, 2)
    assert rows[1][4] == "'=cmd()"
    assert rows[2] == ("B-2", 0, None, None, "茶叶")


def test_streaming_yields_while_rows_are_read_not_after():
    # given: a row source that records how far it was read
    read = []

    def rows():
        for index in range(CHUNK_ROWS * 3):
            read.append(index)
            yield [f"S-{index}", index]

    # when
    chunks = stream_xlsx(["SKU", "n"], rows())
    next(chunks)

    # then: the first bytes left before the last row was read
    assert len(read) < CHUNK_ROWS * 3


def test_file_and_stream_hold_the_same_rows(tmp_path):
    # when
    count = write_xlsx(tmp_path / "a.xlsx", HEADERS, ROWS, "A")
    csv_count = write_csv(tmp_path / "a.csv", HEADERS, ROWS)
    streamed = b"".join(stream_csv(HEADERS, ROWS))

    # then
    assert count == csv_count == 2
    assert (tmp_path / "a.csv").read_bytes() == streamed
    text = streamed.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [
        HEADERS,
        ["A-1", "3", "1.5", "2024-01-02", "'=cmd()"],
        ["B-2", "0", "", "", "茶叶"],
    ]
    sheet = load_workbook(tmp_path / "a.xlsx").active
    assert sheet.max_row == 3


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_export_response_streams_a_named_download(file_format):
    # when
    response = export_response(file_format, "stock", HEADERS, iter(ROWS))

    # then
    assert response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="stock-')
    assert response["Content-Disposition"].endswith(f'.{file_format}"')
    assert b"".join(response.streaming_content)


def test_unknown_format_is_refused_and_columns_are_lettered():
    with pytest.raises(ValueError):
        export_response("pdf", "stock", HEADERS, [])
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
