"""What the goods, combo and batch imports do with the rows they read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from inventory.models import Batch, ComboComponent, Goods
from inventory.tests.factories import (
    BatchFactory,
    BrandFactory,
    CategoryFactory,
    ComboComponentFactory,
    GoodsFactory,
)
from inventory.tests.test_import_support import (
    GOODS_HEADER,
    csv_bytes,
    import_file,
    messages_of,
    write,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    drinks = CategoryFactory(name="Drinks", parent=None)
    beer = CategoryFactory(name="Beer", parent=drinks)
    acme = BrandFactory(name="Acme")
    return {"drinks": drinks, "beer": beer, "acme": acme}


def _goods_rows(*rows: list) -> list[list]:
    return [GOODS_HEADER, *rows]


def test_dry_run_counts_new_updated_and_unchanged_and_writes_nothing(tmp_path, catalogue):
    # given
    GoodsFactory(sku="OLD-1", name="Old one", brand=catalogue["acme"], category=None, barcode="")
    GoodsFactory(
        sku="SAME-1",
        name="Same",
        brand=catalogue["acme"],
        category=catalogue["beer"],
        unit="pcs",
        weight=Decimal("1.5"),
        shelf_life_days=365,
        barcode="690000000001",
    )
    rows = _goods_rows(
        ["NEW-1", "New one", "", "Drinks > Beer", "Acme", "can", 0.35, 365],
        ["old-1", "Old one renamed", "", "", "Acme", "pcs", "", ""],
        ["SAME-1", "Same", "690000000001", "Beer", "acme", "pcs", 1.5, 365],
    )
    path = write(tmp_path, "goods.xlsx", xlsx_bytes(rows))
    # when
    report = import_file(path, dry_run=True)
    # then
    assert report.ok, messages_of(report)
    assert (report.new, report.updated, report.unchanged) == (1, 1, 1)
    assert not Goods.objects.filter(sku="NEW-1").exists()
    assert Goods.objects.get(sku="OLD-1").name == "Old one"


def test_commit_writes_new_and_changed_goods(tmp_path, catalogue):
    # given
    GoodsFactory(sku="OLD-1", name="Old one", brand=None, category=None)
    rows = _goods_rows(
        ["NEW-1", "New one", "6901", "Drinks > Beer", "Acme", "can", 0.35, 365],
        ["old-1", "Old one renamed", "", "Drinks", "", "box", "2", ""],
    )
    # when
    report = import_file(write(tmp_path, "goods.xlsx", xlsx_bytes(rows)))
    # then
    assert report.ok and report.written
    new = Goods.objects.get(sku="NEW-1")
    assert (new.name, new.barcode, new.category, new.brand, new.unit) == (
        "New one",
        "6901",
        catalogue["beer"],
        catalogue["acme"],
        "can",
    )
    assert new.weight == Decimal("0.350") and new.shelf_life_days == 365 and new.is_active
    old = Goods.objects.get(sku="OLD-1")  # the stored SKU keeps its case
    assert (old.name, old.category, old.unit, old.weight) == (
        "Old one renamed",
        catalogue["drinks"],
        "box",
        Decimal("2.000"),
    )


def test_one_bad_row_writes_nothing(tmp_path, catalogue):
    # given
    rows = [_goods_rows()[0]] + [
        [f"OK-{index}", f"Goods {index}", "", "", "Acme", "pcs", "", ""] for index in range(2500)
    ]
    rows.insert(17, ["BAD-1", "Bad brand", "", "", "Acme Ltd", "pcs", "", ""])
    # when
    report = import_file(write(tmp_path, "goods.xlsx", xlsx_bytes(rows)))
    # then: the error names the sheet row, the column and the value; nothing is written
    assert messages_of(report) == ["row 18, brand: 'Acme Ltd' does not exist"]
    assert not report.written
    assert Goods.objects.count() == 0


def test_error_message_uses_the_header_as_written_in_the_file(tmp_path, catalogue):
    rows = [["SKU", "Name", "Brand"], ["X-1", "x", "Nope"]]
    report = import_file(write(tmp_path, "goods.csv", csv_bytes(rows)))
    assert messages_of(report) == ["row 2, Brand: 'Nope' does not exist"]


def test_refuses_duplicate_skus_in_the_file_case_insensitively(tmp_path):
    rows = [["sku", "name"], ["A-1", "one"], ["B-1", "two"], [" a-1 ", "again"]]
    report = import_file(write(tmp_path, "goods.csv", csv_bytes(rows)))
    assert messages_of(report) == ["row 4, sku: SKU 'a-1' is already on row 2"]
    assert Goods.objects.count() == 0


def test_requires_a_name_for_new_goods_only(tmp_path):
    GoodsFactory(sku="OLD-1", name="Keep me")
    rows = [["sku", "weight"], ["OLD-1", "1"], ["NEW-1", "2"]]
    report = import_file(write(tmp_path, "goods.csv", csv_bytes(rows)))
    assert messages_of(report) == ["row 3, Name: is required for new goods"]


def test_reports_every_invalid_row_with_its_column(tmp_path, catalogue):
    rows = _goods_rows(
        ["", "no sku", "", "", "", "", "", ""],
        ["L-1", "x" * 300, "", "", "", "", "", ""],
        ["W-1", "negative", "", "", "", "", "-1", ""],
        ["C-1", "bad category", "", "Food", "", "", "", ""],
        ["S-1", "bad shelf life", "", "", "", "", "", "-5"],
    )
    report = import_file(write(tmp_path, "goods.xlsx", xlsx_bytes(rows)))
    assert messages_of(report) == [
        "row 2, sku: is required",
        "row 3, name: is longer than 255 characters",
        "row 4, weight: must be at least 0",
        "row 5, category: 'Food' does not exist",
        "row 6, shelf_life_days: -5 is out of range (0 to 2147483647)",
    ]
    assert report.invalid_rows == 5


def test_ambiguous_category_names_ask_for_the_path(tmp_path):
    food = CategoryFactory(name="Food", parent=None)
    drinks = CategoryFactory(name="Drinks", parent=None)
    CategoryFactory(name="Organic", parent=food)
    CategoryFactory(name="Organic", parent=drinks)
    rows = [["sku", "name", "category"], ["X-1", "x", "Organic"], ["X-2", "y", "drinks/organic"]]
    report = import_file(write(tmp_path, "goods.csv", csv_bytes(rows)))
    assert messages_of(report) == [
        "row 2, category: 'Organic' is ambiguous; write the full path: "
        "Drinks > Organic; Food > Organic"
    ]


def test_barcodes_are_unique_in_the_file_and_against_other_goods(tmp_path):
    GoodsFactory(sku="OWNER", barcode="6900000000017")
    rows = [
        ["sku", "name", "barcode"],
        ["A-1", "a", "6900000000024"],
        ["A-2", "b", "6900000000024"],
        ["A-3", "c", "6900000000017"],
        ["owner", "keeps its own", "6900000000017"],
    ]
    report = import_file(write(tmp_path, "goods.csv", csv_bytes(rows)))
    assert messages_of(report) == [
        "row 3, barcode: barcode 6900000000024 is already on row 2",
        "row 4, barcode: barcode 6900000000017 already belongs to goods OWNER",
    ]


def test_template_example_row_is_skipped(tmp_path, catalogue):
    rows = _goods_rows(
        [
            "EXAMPLE-0001",
            "Example goods, delete this row",
            "6901234567892",
            "Drinks > Beer",
            "Example brand",
            "pcs",
            0.5,
            365,
        ],
        ["REAL-1", "Real", "", "", "Acme", "pcs", "", ""],
    )
    report = import_file(write(tmp_path, "goods.xlsx", xlsx_bytes(rows)))
    assert report.ok, messages_of(report)
    assert (report.new, report.skipped) == (1, 1)
    assert not Goods.objects.filter(sku="EXAMPLE-0001").exists()


def test_blank_active_keeps_the_current_value_and_0_deactivates(tmp_path):
    GoodsFactory(sku="K-1", is_active=False)
    GoodsFactory(sku="K-2", is_active=True)
    rows = [["sku", "is_active"], ["K-1", ""], ["K-2", "0"]]
    report = import_file(write(tmp_path, "goods.csv", csv_bytes(rows)))
    assert report.ok
    assert not Goods.objects.get(sku="K-1").is_active
    assert not Goods.objects.get(sku="K-2").is_active


def test_exported_formula_escapes_come_back_unchanged(tmp_path):
    rows = [["sku", "name"], ["'-5", '\'=HYPERLINK("http://x")']]
    report = import_file(write(tmp_path, "goods.csv", csv_bytes(rows)))
    assert report.ok
    assert Goods.objects.get(sku="-5").name == '=HYPERLINK("http://x")'


# --- leading zeros ---------------------------------------------------------------------------


def test_refuses_a_numeric_sku_that_lost_the_zeros_of_an_existing_goods(tmp_path):
    # given: goods 00123 exists; Excel turned the SKU column into numbers
    GoodsFactory(sku="00123", name="Crate")
    rows = [["sku", "name"], [123, "Crate"], [456, "New numeric SKU"]]
    # when
    report = import_file(write(tmp_path, "goods.xlsx", xlsx_bytes(rows)))
    # then
    assert messages_of(report) == [
        "row 2, sku: 123 looks like goods 00123 with its leading zeros dropped (Excel does this "
        "to codes stored as numbers); format the column as Text and write 00123"
    ]
    assert not Goods.objects.filter(sku="456").exists()


def test_refuses_digit_skus_from_a_csv_that_excel_stripped(tmp_path):
    GoodsFactory(sku="000789", name="Box")
    rows = [["sku", "name"], ["789", "Box"]]
    report = import_file(write(tmp_path, "goods.csv", csv_bytes(rows)))
    assert [error.column for error in report.errors] == ["sku"]
    assert "000789" in report.errors[0].message


def test_refuses_number_skus_mixed_with_zero_padded_text_in_one_file(tmp_path):
    rows = [["sku", "name"], ["00045", "padded text"], [45, "number cell"]]
    report = import_file(write(tmp_path, "goods.xlsx", xlsx_bytes(rows, text_columns=())))
    assert messages_of(report) == [
        "row 3, sku: 45 is a number, but row 2 has the SKU 00045: Excel dropped the leading "
        "zeros of number cells; format the column as Text and type the SKUs again"
    ]


def test_accepts_numeric_skus_that_collide_with_nothing(tmp_path):
    rows = [["sku", "name"], [1001, "Numeric one"], ["1002", "Numeric two"]]
    report = import_file(write(tmp_path, "goods.xlsx", xlsx_bytes(rows)))
    assert report.ok
    assert set(Goods.objects.values_list("sku", flat=True)) == {"1001", "1002"}


def test_refuses_codes_excel_already_rounded(tmp_path):
    rows = [["sku", "name", "barcode"], [12.5, "x", ""], ["Y-1", "y", "6.90123E+12"]]
    report = import_file(write(tmp_path, "goods.xlsx", xlsx_bytes(rows)))
    assert [(error.row, error.column) for error in report.errors] == [(2, "sku"), (3, "barcode")]
    assert "scientific notation" in report.errors[1].message


def test_refuses_a_barcode_that_lost_its_leading_zero_on_update(tmp_path):
    GoodsFactory(sku="UPC-1", barcode="0012345678905")
    rows = [["sku", "barcode"], ["UPC-1", 12345678905]]
    report = import_file(write(tmp_path, "goods.xlsx", xlsx_bytes(rows)))
    assert [error.column for error in report.errors] == ["barcode"]
    assert Goods.objects.get(sku="UPC-1").barcode == "0012345678905"


# --- combos -----------------------------------------------------------------------------------


def test_combo_import_adds_lines_changes_quantities_and_removes_with_zero(tmp_path):
    # given
    can, dozen, case = (GoodsFactory(sku=sku) for sku in ("CAN", "DOZEN", "CASE"))
    other = GoodsFactory(sku="OTHER")
    ComboComponentFactory(combo=case, component=dozen, quantity=3)
    ComboComponentFactory(combo=case, component=other, quantity=1)
    rows = [
        ["combo_sku", "component_sku", "quantity"],
        ["DOZEN", "CAN", 12],
        ["case", "dozen", 4],
        ["CASE", "OTHER", 0],
    ]
    # when
    report = import_file(write(tmp_path, "combos.xlsx", xlsx_bytes(rows)), "combo_components")
    # then
    assert report.ok, messages_of(report)
    assert (report.new, report.updated) == (1, 2)
    lines = {
        (line.combo.sku, line.component.sku): line.quantity
        for line in ComboComponent.objects.select_related("combo", "component")
    }
    assert lines == {("DOZEN", "CAN"): 12, ("CASE", "DOZEN"): 4}
    assert Goods.objects.get(pk=dozen.pk).is_combo
    assert not Goods.objects.get(pk=can.pk).is_combo


def test_combo_import_refuses_a_combo_containing_itself(tmp_path):
    GoodsFactory(sku="A")
    rows = [["combo_sku", "component_sku", "quantity"], ["A", "a", 2]]
    report = import_file(write(tmp_path, "combos.csv", csv_bytes(rows)), "combo_components")
    assert messages_of(report) == ["row 2, component_sku: a combo cannot contain itself"]


def test_combo_import_refuses_a_loop_through_another_combo(tmp_path):
    # given: CASE holds DOZEN already; the file puts CASE into DOZEN (and one valid line)
    case, dozen, can = (GoodsFactory(sku=sku) for sku in ("CASE", "DOZEN", "CAN"))
    ComboComponentFactory(combo=case, component=dozen, quantity=4)
    rows = [
        ["combo_sku", "component_sku", "quantity"],
        ["DOZEN", "CAN", 12],
        ["DOZEN", "CASE", 1],
    ]
    # when
    report = import_file(write(tmp_path, "combos.csv", csv_bytes(rows)), "combo_components")
    # then
    assert messages_of(report) == [
        "row 3, component_sku: combo DOZEN would contain itself: DOZEN > CASE > DOZEN"
    ]
    assert not ComboComponent.objects.filter(combo=dozen).exists()
    assert can.part_of.count() == 0


def test_combo_import_reports_unknown_goods(tmp_path):
    GoodsFactory(sku="A")
    rows = [["combo_sku", "component_sku", "quantity"], ["A", "NOPE", 1], ["A", "A", "x"]]
    report = import_file(write(tmp_path, "combos.csv", csv_bytes(rows)), "combo_components")
    assert messages_of(report) == [
        "row 2, component_sku: goods 'NOPE' does not exist",
        "row 3, quantity: x is not a whole number",
    ]


# --- batches ----------------------------------------------------------------------------------


def test_batch_import_defaults_expiry_from_shelf_life_and_updates_existing(tmp_path):
    goods = GoodsFactory(sku="MILK", shelf_life_days=10)
    BatchFactory(goods=goods, batch_no="B-OLD", production_date=dt.date(2024, 1, 1))
    rows = [
        ["sku", "batch_no", "production_date", "expiry_date"],
        ["milk", "B-NEW", "2024-03-01", ""],
        ["MILK", "B-OLD", "2024-01-05", ""],
        ["MILK", "B-SET", "2024-03-01", "2024-04-01"],
    ]
    report = import_file(write(tmp_path, "batches.csv", csv_bytes(rows)), "batches")
    assert report.ok, messages_of(report)
    assert (report.new, report.updated) == (2, 1)
    batches = {batch.batch_no: batch for batch in Batch.objects.all()}
    assert batches["B-NEW"].expiry_date == dt.date(2024, 3, 11)
    assert batches["B-OLD"].expiry_date == dt.date(2024, 1, 15)
    assert batches["B-SET"].expiry_date == dt.date(2024, 4, 1)


def test_batch_import_refuses_expiry_before_production_and_unknown_goods(tmp_path):
    GoodsFactory(sku="MILK")
    rows = [
        ["sku", "batch_no", "production_date", "expiry_date"],
        ["MILK", "B1", "2024-03-01", "2024-02-01"],
        ["WATER", "B2", "", ""],
        ["MILK", "B1", "", ""],
    ]
    report = import_file(write(tmp_path, "batches.csv", csv_bytes(rows)), "batches")
    assert messages_of(report) == [
        "row 2, expiry_date: the expiry date is before the production date",
        "row 3, sku: goods 'WATER' does not exist",
        "row 4, batch_no: this goods and batch number are already on row 2",
    ]
    assert Batch.objects.count() == 0


def test_a_duplicate_sku_is_reported_even_when_its_first_row_has_other_errors(tmp_path):
    rows = [["sku", "name", "brand"], ["Z-1", "x", "Nope"], ["Z-1", "again", ""]]
    report = import_file(write(tmp_path, "goods.csv", csv_bytes(rows)))
    assert messages_of(report) == [
        "row 2, brand: 'Nope' does not exist",
        "row 3, sku: SKU 'Z-1' is already on row 2",
    ]
