"""Inbound sheet import from the Excel template: preview, all-or-nothing commit through the
ledger, row-by-row refusals, the template itself and the upload screens."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from inventory.imports.engine import run_import
from inventory.imports.files import open_sheet
from inventory.imports.stock_inbound import InboundSheetResource
from inventory.models import (
    Batch,
    DocumentStatus,
    ImportJob,
    InboundSheet,
    StockBalance,
    StockMovement,
)
from inventory.tests.factories import BatchFactory, ComboComponentFactory, GoodsFactory
from inventory.tests.test_import_support import csv_bytes, media_root, write, xlsx_bytes
from warehouses.tests.factories import BinFactory

pytestmark = pytest.mark.django_db
__all__ = ["media_root"]

HEADER = [
    "Warehouse code",
    "Bin code",
    "SKU",
    "Quantity",
    "Batch number",
    "Production date",
    "Expiry date",
    "Inbound type",
    "Reference",
]


@pytest.fixture
def world():
    first = BinFactory(code="A-01", zone__warehouse__code="NEW-WH")
    second = BinFactory(code="A-02", zone=first.zone)
    return {
        "warehouse": first.warehouse,
        "a": first,
        "b": second,
        "tea": GoodsFactory(sku="TEA-1", shelf_life_days=100),
        "cup": GoodsFactory(sku="CUP-1"),
    }


@pytest.fixture
def clerk(make_user):
    return make_user("manager")


def run(tmp_path, rows, *, user, dry_run: bool, name="stock.xlsx"):
    content = xlsx_bytes([HEADER, *rows]) if name.endswith("xlsx") else csv_bytes([HEADER, *rows])
    path = write(tmp_path, name, content)
    return run_import(
        InboundSheetResource(), open_sheet(str(path), name), dry_run=dry_run, user=user
    )


def test_first_stock_take_of_a_new_warehouse_is_checked_then_posted(tmp_path, world, clerk):
    # given
    rows = [
        ["new-wh", "a-01", "tea-1", 10, "L1", dt.date(2026, 1, 1), None, "", ""],
        ["NEW-WH", "A-02", "TEA-1", 5, "L1", None, None, "purchase", ""],
        ["NEW-WH", "A-01", "CUP-1", 7, "", None, None, "", ""],
    ]

    # when: the check (dry run)
    preview = run(tmp_path, rows, user=clerk, dry_run=True)

    # then: nothing written, the posting was tried and is announced
    assert preview.ok and preview.new == 3
    assert not InboundSheet.objects.exists() and not StockMovement.objects.exists()
    assert not Batch.objects.filter(batch_no="L1").exists()
    assert any("will post 1 inbound sheet" in note for note in preview.notes)

    # when: the commit
    report = run(tmp_path, rows, user=clerk, dry_run=False)

    # then: one posted, imported sheet; the ledger received every line
    assert report.ok and report.written
    sheet = InboundSheet.objects.get()
    assert (sheet.status, sheet.is_import, sheet.type) == (DocumentStatus.POSTED, True, "purchase")
    batch = Batch.objects.get(goods=world["tea"], batch_no="L1")
    assert batch.expiry_date == dt.date(2026, 1, 1) + dt.timedelta(days=100)
    on_hand = {
        (b.goods.sku, b.bin.code): b.on_hand
        for b in StockBalance.objects.select_related("goods", "bin")
    }
    assert on_hand == {("TEA-1", "A-01"): 10, ("TEA-1", "A-02"): 5, ("CUP-1", "A-01"): 7}
    assert StockMovement.objects.filter(document_ref=sheet.number).count() == 3
    assert any(sheet.number in note for note in report.notes)


def test_rows_of_different_types_and_references_become_separate_sheets(tmp_path, world, clerk):
    # given
    rows = [
        ["NEW-WH", "A-01", "TEA-1", 1, "", None, None, "sales return", "RMA-1"],
        ["NEW-WH", "A-01", "TEA-1", 2, "", None, None, "采购", "PO-1"],
        ["NEW-WH", "A-02", "CUP-1", 3, "", None, None, "", "PO-1"],
    ]

    # when
    report = run(tmp_path, rows, user=clerk, dry_run=False)

    # then
    assert report.ok
    sheets = {(s.type, s.reference): s.lines.count() for s in InboundSheet.objects.all()}
    assert sheets == {("sales_return", "RMA-1"): 1, ("purchase", "PO-1"): 2}


def test_every_bad_row_is_reported_and_nothing_is_written(tmp_path, world, clerk):
    # given
    BinFactory(code="X-09")  # another warehouse
    BinFactory(code="OFF", zone=world["a"].zone, is_active=False)
    GoodsFactory(sku="OLD-1", is_active=False)
    BatchFactory(goods=world["cup"], batch_no="K1", expiry_date=dt.date(2027, 1, 1))
    combo = ComboComponentFactory().combo
    rows = [
        ["NEW-WH", "A-01", "TEA-1", 4, "", None, None, "", ""],  # fine
        ["NEW-WH", "A-01", "NOPE", 1, "", None, None, "", ""],
        ["NEW-WH", "X-09", "TEA-1", 1, "", None, None, "", ""],
        ["NEW-WH", "OFF", "TEA-1", 1, "", None, None, "", ""],
        ["NEW-WH", "A-01", "OLD-1", 1, "", None, None, "", ""],
        ["NEW-WH", "A-01", "TEA-1", 0, "", None, None, "", ""],
        ["NEW-WH", "A-01", "TEA-1", "two", "", None, None, "", ""],
        ["NEW-WH", "A-01", "CUP-1", 1, "K1", None, dt.date(2028, 1, 1), "", ""],
        ["NEW-WH", "A-01", combo.sku, 1, "L9", None, None, "", ""],
        ["NOWHERE", "A-01", "TEA-1", 1, "", None, None, "", ""],
        ["NEW-WH", "A-01", "TEA-1", 1, "", None, None, "gift", ""],
        ["NEW-WH", "A-01", "TEA-1", 1, "", dt.date(2026, 1, 1), None, "", ""],
    ]

    # when
    report = run(tmp_path, rows, user=clerk, dry_run=False)

    # then
    assert not report.ok and not report.written
    bad_rows = sorted({error.row for error in report.errors})
    assert bad_rows == list(range(3, 14))
    messages = " | ".join(str(error) for error in report.errors)
    for expected in (
        "goods 'NOPE' does not exist",
        "bin 'X-09' does not exist in warehouse NEW-WH",
        "bin 'OFF' is inactive",
        "goods 'OLD-1' is inactive",
        "must be a whole number from 1",
        "batch K1 already has 2027-01-01",
        "without batch",
        "warehouse 'NOWHERE' does not exist",
        "'gift' is not purchase or sales return",
        "dates belong to a batch",
    ):
        assert expected in messages, expected
    assert not InboundSheet.objects.exists() and not StockMovement.objects.exists()


def test_a_production_date_whose_expiry_would_pass_the_last_date_is_a_row_error(
    tmp_path, world, clerk
):
    # given: TEA-1 keeps 100 days; a typo puts its production date in December 9999
    rows = [
        ["NEW-WH", "A-01", "CUP-1", 2, "", None, None, "", ""],
        ["NEW-WH", "A-01", "TEA-1", 3, "L7", dt.date(9999, 12, 1), None, "", ""],
    ]

    # when
    report = run(tmp_path, rows, user=clerk, dry_run=False)

    # then: the clerk is told which row and column, and nothing is written
    assert not report.ok and not report.written
    assert [(error.row, error.column) for error in report.errors] == [(3, "Production date")]
    assert "shelf life" in report.errors[0].message
    assert not InboundSheet.objects.exists() and not Batch.objects.filter(batch_no="L7").exists()


def test_chinese_headers_and_csv_are_accepted(tmp_path, world, clerk):
    # given
    content = csv_bytes(
        [["仓库", "货位", "货品编码", "数量", "批次号"], ["NEW-WH", "A-01", "TEA-1", "6", "B7"]]
    )
    path = write(tmp_path, "入库.csv", content)

    # when
    report = run_import(
        InboundSheetResource(), open_sheet(str(path), "入库.csv"), dry_run=False, user=clerk
    )

    # then
    assert report.ok
    assert StockBalance.objects.get(goods=world["tea"]).batch.batch_no == "B7"


def test_missing_columns_refuse_the_file(tmp_path, world, clerk):
    # given
    path = write(tmp_path, "s.csv", csv_bytes([["SKU", "Quantity"], ["TEA-1", "1"]]))

    # when
    report = run_import(
        InboundSheetResource(), open_sheet(str(path), "s.csv"), dry_run=True, user=clerk
    )

    # then
    assert "Missing column(s): Warehouse code, Bin code" in report.refused


def test_the_template_downloads_and_its_example_row_is_skipped(client, tmp_path, world, clerk):
    # given
    client.force_login(clerk)

    # when
    response = client.get(reverse("inventory:import-template", args=["inbound_sheet"]))
    workbook = load_workbook(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    data = workbook.worksheets[0]
    rows = [list(row) for row in data.iter_rows(values_only=True)][:2]
    rows.append(["NEW-WH", "A-01", "CUP-1", 2, None, None, None, None, None])
    path = write(tmp_path, "filled.xlsx", xlsx_bytes(rows))
    report = run_import(
        InboundSheetResource(), open_sheet(str(path), "filled.xlsx"), dry_run=False, user=clerk
    )

    # then
    assert response.status_code == 200
    assert rows[0] == HEADER
    assert report.ok and report.skipped == 1 and report.new == 1
    assert StockBalance.objects.get(goods=world["cup"]).on_hand == 2


def test_upload_preview_and_commit_through_the_screens(client, world, clerk, media_root):
    # given
    client.force_login(clerk)
    content = xlsx_bytes([HEADER, ["NEW-WH", "A-01", "TEA-1", 3, "", None, None, "", "PO-9"]])

    # when
    client.post(
        reverse("inventory:import-start"),
        {"resource": "inbound_sheet", "file": SimpleUploadedFile("stock.xlsx", content)},
    )
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.READY
    assert not StockMovement.objects.exists()
    client.post(reverse("inventory:import-job-commit", args=[job.pk]))

    # then
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert InboundSheet.objects.get().reference == "PO-9"
    assert StockBalance.objects.get(goods=world["tea"]).on_hand == 3


def test_staff_without_the_posting_permission_cannot_import_stock(
    client, make_user, world, media_root
):
    # given: a QC inspector may look at stock but not receive it
    client.force_login(make_user("qc"))
    content = xlsx_bytes([HEADER, ["NEW-WH", "A-01", "TEA-1", 3, "", None, None, "", ""]])

    # when
    response = client.post(
        reverse("inventory:import-start"),
        {"resource": "inbound_sheet", "file": SimpleUploadedFile("stock.xlsx", content)},
    )

    # then
    assert response.status_code in (403, 422)
    assert not ImportJob.objects.exists() and not StockMovement.objects.exists()
