"""Exports: the filtered list, formula escaping without turning numbers into text, the history
and its re-download, the admin's export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from inventory.imports import exports
from inventory.models import ExportRecord
from inventory.tests.factories import (
    BatchFactory,
    BrandFactory,
    CategoryFactory,
    ComboComponentFactory,
    GoodsFactory,
)
from inventory.tests.test_import_support import import_file, media_root, write

pytestmark = pytest.mark.django_db
__all__ = ["media_root"]

DANGEROUS = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.fixture
def manager_client(client, make_user, media_root):
    client.force_login(make_user("manager"))
    return client


def _download(response) -> bytes:
    """Read the whole file (the test client closes it after the last chunk)."""
    return b"".join(response.streaming_content)


def _export(client, resource="goods", file_format="xlsx", **filters):
    return client.post(
        reverse("inventory:export-create"),
        {"resource": resource, "file_format": file_format, **filters},
    )


def test_exports_the_filtered_list_and_records_it(manager_client, make_user):
    # given
    acme = BrandFactory(name="Acme")
    drinks = CategoryFactory(name="Drinks", parent=None)
    GoodsFactory(sku="A-1", brand=acme, category=drinks, weight=Decimal("1.5"))
    GoodsFactory(sku="A-2", brand=acme, category=CategoryFactory(name="Beer", parent=drinks))
    GoodsFactory(sku="O-1")
    # when
    response = _export(manager_client, brand=acme.pk, q="A-")
    # then
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="goods-')
    sheet = load_workbook(io.BytesIO(_download(response))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("SKU", "Name", "Barcode", "Category", "Brand")
    assert [row[0] for row in rows[1:]] == ["A-1", "A-2"]
    assert rows[2][3] == "Drinks > Beer"
    record = ExportRecord.objects.get()
    assert (record.resource, record.row_count, record.file_format) == ("goods", 2, "xlsx")
    assert record.filters == {"q": "A-", "brand": str(acme.pk)}
    assert record.filters_display == "Search: A-; Brand: Acme"


def test_xlsx_export_escapes_formulas_and_keeps_numbers_numeric(manager_client):
    # given
    for index, name in enumerate(DANGEROUS):
        GoodsFactory(sku=f"X-{index}", name=name, weight=Decimal("-0") + Decimal("2.250"))
    GoodsFactory(sku="-9", name="minus sku", shelf_life_days=30)
    # when
    sheet = load_workbook(io.BytesIO(_download(_export(manager_client)))).active
    # then: every dangerous text starts with an apostrophe and is a text cell
    names = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
    for index, text in enumerate(DANGEROUS):
        cell = names[f"X-{index}"]
        assert cell.data_type == "s"
        assert cell.value == "'" + text
    assert "'-9" in names  # the SKU text "-9" is escaped too
    weights = [row[6] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type == "n" for cell in weights if cell.value is not None)
    assert 2.25 in [cell.value for cell in weights]
    shelf = [row[8].value for row in sheet.iter_rows(min_row=2) if row[0].value == "'-9"]
    assert shelf == [30]


def test_csv_export_escapes_formulas_and_writes_plain_numbers(manager_client):
    GoodsFactory(sku="C-1", name="=1+2", weight=Decimal("0.5"), shelf_life_days=12)
    response = _export(manager_client, file_format="csv")
    text = _download(response).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][1] == "'=1+2"
    assert rows[1][6] == "0.500" and rows[1][8] == "12"


def test_an_export_re_imports_unchanged(manager_client, tmp_path):
    acme = BrandFactory(name="Acme")
    GoodsFactory(sku="R-1", name="=SUM(1)", brand=acme, weight=Decimal("1.25"), barcode="007")
    content = _download(_export(manager_client))
    report = import_file(write(tmp_path, "again.xlsx", content))
    assert report.ok, report.errors
    assert (report.unchanged, report.updated, report.new) == (1, 0, 0)


def test_combo_and_batch_exports(manager_client):
    line = ComboComponentFactory(quantity=4)
    BatchFactory(goods=line.component, batch_no="L-1", production_date=dt.date(2024, 1, 2))
    combos = load_workbook(
        io.BytesIO(_download(_export(manager_client, "combo_components")))
    ).active
    assert list(combos.iter_rows(min_row=2, values_only=True)) == [
        (line.combo.sku, line.component.sku, 4)
    ]
    batches = load_workbook(io.BytesIO(_download(_export(manager_client, "batches")))).active
    row = next(batches.iter_rows(min_row=2))
    assert row[1].value == "L-1"
    assert row[2].is_date and row[2].value.date() == dt.date(2024, 1, 2)


def test_history_lists_own_exports_and_downloads_them_again(client, make_user, media_root):
    # given
    owner = make_user("manager")
    client.force_login(owner)
    GoodsFactory(sku="H-1")
    first = _download(_export(client))
    record = ExportRecord.objects.get()
    # when / then: the owner sees and downloads it again, byte for byte
    history = client.get(reverse("inventory:export-history"))
    assert list(history.context["records"]) == [record]
    again = client.get(reverse("inventory:export-download", args=[record.pk]))
    assert _download(again) == first
    # another user: not in his history, 404 on the link
    client.force_login(make_user("manager", username="other"))
    assert list(client.get(reverse("inventory:export-history")).context["records"]) == []
    assert client.get(reverse("inventory:export-download", args=[record.pk])).status_code == 404
    # nothing under a public URL
    assert client.get("/media/" + record.file.name).status_code == 404


def test_an_admin_sees_every_export(client, make_user, media_root):
    client.force_login(make_user("manager"))
    _download(_export(client))
    client.force_login(make_user("admin"))
    assert len(client.get(reverse("inventory:export-history")).context["records"]) == 1


def test_export_needs_the_view_permissions(client, django_user_model, media_root):
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))
    assert _export(client).status_code == 403
    assert client.get(reverse("inventory:export-history")).status_code == 403
    assert not ExportRecord.objects.exists()


def test_admin_export_escapes_formulas_and_keeps_numbers(client, make_user):
    client.force_login(make_user("admin"))
    beer = CategoryFactory(name="Beer", parent=CategoryFactory(name="Drinks", parent=None))
    GoodsFactory(sku="ADM-1", name="@evil", weight=Decimal("3.5"), category=beer)
    response = client.post(
        reverse("admin:inventory_goods_export"),
        {
            "resource": "0",
            "format": "0",
            "goodsresource_sku": "on",
            "goodsresource_name": "on",
            "goodsresource_weight": "on",
            "goodsresource_category": "on",
        },
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    row = next(sheet.iter_rows(min_row=2))
    values = {cell.value for cell in row}
    assert "'@evil" in values
    assert "Drinks > Beer" in values
    assert any(cell.data_type == "n" and cell.value == 3.5 for cell in row)


def test_writer_streams_large_exports_in_constant_memory(tmp_path):
    rows = ([f"S-{index}", index, Decimal("1.5"), dt.date(2024, 1, 1)] for index in range(20000))
    count = exports.write_xlsx(tmp_path / "big.xlsx", ["sku", "n", "w", "d"], rows, "Big")
    assert count == 20000
    workbook = load_workbook(tmp_path / "big.xlsx", read_only=True)
    assert sum(1 for _row in workbook.active.iter_rows(values_only=True)) == 20001
    workbook.close()
