import re

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.formats.base_formats import CSV, XLSX

from warehouses import hooks
from warehouses.models import Bin, Warehouse, Zone
from warehouses.resources import BinResource, WarehouseResource, ZoneResource
from warehouses.tests.factories import BinFactory, WarehouseFactory, ZoneFactory

pytestmark = pytest.mark.django_db

BIN_HEADERS = ["warehouse", "zone", "code", "active"]


def _sheet(headers: list[str], *rows: tuple) -> tablib.Dataset:
    return tablib.Dataset(*rows, headers=headers)


@pytest.fixture
def sydney():
    warehouse = WarehouseFactory(code="SYD-01")
    ZoneFactory(warehouse=warehouse, code="PICK", type=Zone.Type.PICKING)
    ZoneFactory(warehouse=warehouse, code="BULK", type=Zone.Type.STORAGE)
    return warehouse


@pytest.fixture
def melbourne():
    warehouse = WarehouseFactory(code="MEL-01")
    ZoneFactory(warehouse=warehouse, code="MPICK", type=Zone.Type.PICKING)
    return warehouse


def _row_errors(result) -> dict[int, list[str]]:
    """Row number -> messages, from the row-level report."""
    report: dict[int, list[str]] = {}
    for row in result.invalid_rows:
        for messages in row.error_dict.values():
            report.setdefault(row.number, []).extend(messages)
    for row in result.error_rows:
        report.setdefault(row.number, []).extend(str(e.error) for e in row.errors)
    return report


# --- bins -----------------------------------------------------------------------------------


def test_a_good_bin_sheet_creates_every_bin_in_its_zone(sydney, melbourne):
    # given
    sheet = _sheet(
        BIN_HEADERS,
        ("SYD-01", "PICK", "A-01-01", "1"),
        ("syd-01", "BULK", "R01-01", "yes"),
        ("SYD-01", "PICK", "A-01-02", "0"),
        ("MEL-01", "MPICK", "A-01-01", ""),
    )

    # when
    result = BinResource().import_data(sheet)

    # then
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["new"] == 4
    stored = {
        (b.warehouse.code, b.zone.code, b.code, b.is_active)
        for b in Bin.objects.select_related("warehouse", "zone")
    }
    assert stored == {
        ("SYD-01", "PICK", "A-01-01", True),
        ("SYD-01", "BULK", "R01-01", True),
        ("SYD-01", "PICK", "A-01-02", False),
        ("MEL-01", "MPICK", "A-01-01", True),
    }


def test_importing_the_same_sheet_twice_changes_nothing_the_second_time(sydney):
    # given
    sheet = _sheet(BIN_HEADERS, ("SYD-01", "PICK", "A-01-01", "1"), ("SYD-01", "BULK", "R-1", "1"))
    BinResource().import_data(sheet)

    # when
    again = BinResource().import_data(sheet)

    # then
    assert not again.has_errors() and not again.has_validation_errors()
    assert again.totals["skip"] == 2
    assert len(again.rows) == 2  # skipped rows are reported, not hidden
    assert Bin.objects.count() == 2


def test_a_sheet_with_one_bad_row_writes_nothing_and_reports_that_row(sydney, melbourne):
    # given: row 2 names a zone of another warehouse
    sheet = _sheet(
        BIN_HEADERS,
        ("SYD-01", "PICK", "A-01-01", "1"),
        ("SYD-01", "MPICK", "A-01-02", "1"),
        ("SYD-01", "PICK", "A-01-03", "1"),
    )

    # when
    result = BinResource().import_data(sheet)

    # then
    assert result.has_validation_errors()
    report = _row_errors(result)
    assert list(report) == [2]
    assert "Zone MPICK belongs to warehouse MEL-01, not to SYD-01" in report[2][0]
    assert not Bin.objects.exists()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("NOPE", "PICK", "A-01", "1"), "There is no warehouse with code NOPE."),
        (("SYD-01", "FAST", "A-01", "1"), "Warehouse SYD-01 has no zone FAST."),
        (("SYD-01", "PICK", "A/01", "1"), "letters, digits"),
        (("SYD-01", "PICK", "", "1"), "cannot be blank"),
        (("SYD-01", "PICK", "A-01", "maybe"), "Write 1 or 0"),
        (("", "PICK", "A-01", "1"), "Give the warehouse code."),
    ],
)
def test_each_kind_of_bad_bin_row_is_reported_with_a_clear_message(sydney, row, message):
    # given
    sheet = _sheet(BIN_HEADERS, ("SYD-01", "PICK", "OK-01", "1"), row)

    # when
    result = BinResource().import_data(sheet)

    # then
    report = _row_errors(result)
    assert list(report) == [2]
    assert any(message in text for text in report[2]), report
    assert not Bin.objects.exists()


def test_a_bin_code_repeated_in_the_sheet_is_reported_against_its_first_row(sydney):
    # given
    sheet = _sheet(
        BIN_HEADERS,
        ("SYD-01", "PICK", "A-01", "1"),
        ("SYD-01", "BULK", "B-01", "1"),
        ("syd-01", "BULK", "A-01", "1"),
    )

    # when
    result = BinResource().import_data(sheet)

    # then
    assert _row_errors(result) == {3: ["This row repeats row 1 of the sheet."]}
    assert not Bin.objects.exists()


def test_a_sheet_missing_required_columns_is_refused_naming_them(sydney):
    # given
    sheet = _sheet(["warehouse", "code"], ("SYD-01", "A-01"))

    # when
    result = BinResource().import_data(sheet)

    # then
    assert result.has_errors()
    assert result.rows == []
    message = str(result.base_errors[0].error)
    assert "missing the required column(s): zone, active" in message
    assert not Bin.objects.exists()


def test_headers_in_any_case_and_blank_rows_are_accepted(sydney):
    # given
    sheet = _sheet(
        [" Warehouse", "ZONE ", "Code", "Active"],
        ("SYD-01", "PICK", "A-01", 1),
        (None, None, None, None),
        ("SYD-01", "PICK", 101.0, 1),
    )

    # when
    result = BinResource().import_data(sheet)

    # then
    assert not result.has_errors() and not result.has_validation_errors()
    assert sorted(Bin.objects.values_list("code", flat=True)) == ["101", "A-01"]


def test_a_sheet_over_the_row_limit_is_refused(sydney, settings):
    # given
    settings.WMS_IMPORT_MAX_ROWS = 2
    sheet = _sheet(BIN_HEADERS, *[("SYD-01", "PICK", f"A-{i}", "1") for i in range(3)])

    # when
    result = BinResource().import_data(sheet)

    # then
    assert "at most 2" in str(result.base_errors[0].error)
    assert not Bin.objects.exists()


def test_a_row_moves_an_existing_bin_and_deactivates_it_through_the_service(sydney):
    # given
    bin_ = BinFactory(warehouse=sydney, zone=sydney.zones.get(code="PICK"), code="A-01")

    # when
    result = BinResource().import_data(_sheet(BIN_HEADERS, ("SYD-01", "BULK", "A-01", "0")))

    # then
    assert result.totals["update"] == 1
    bin_.refresh_from_db()
    assert (bin_.zone.code, bin_.is_active) == ("BULK", False)


def test_a_row_deactivating_a_guarded_bin_is_refused_and_nothing_is_written(sydney):
    # given
    bin_ = BinFactory(warehouse=sydney, zone=sydney.zones.get(code="PICK"), code="A-01")

    def holds_stock(bins):
        return {b.pk: f"bin {b.code} still holds 12 units" for b in bins}

    hooks.register_bin_deactivation_guard(holds_stock)
    try:
        # when
        result = BinResource().import_data(
            _sheet(BIN_HEADERS, ("SYD-01", "PICK", "NEW-1", "1"), ("SYD-01", "BULK", "A-01", "0"))
        )
    finally:
        hooks.unregister_bin_deactivation_guard(holds_stock)

    # then
    report = _row_errors(result)
    assert list(report) == [2]
    assert "bin A-01 still holds 12 units" in " ".join(report[2])
    bin_.refresh_from_db()
    assert (bin_.zone.code, bin_.is_active) == ("PICK", True)
    assert not Bin.objects.filter(code="NEW-1").exists()


def test_an_exported_xlsx_imports_back_unchanged(sydney):
    # given
    BinFactory(warehouse=sydney, zone=sydney.zones.get(code="PICK"), code="A-01")
    BinFactory(warehouse=sydney, zone=sydney.zones.get(code="BULK"), code="R-01", is_active=False)
    exported = XLSX().export_data(BinResource().export())

    # when
    dataset = XLSX().create_dataset(exported)
    result = BinResource().import_data(dataset)

    # then
    assert dataset.headers == BIN_HEADERS
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["skip"] == 2
    assert Bin.objects.filter(is_active=False).get().code == "R-01"


# --- warehouses and zones -------------------------------------------------------------------


def test_a_warehouse_sheet_creates_and_updates_warehouses(sydney):
    # given
    sheet = _sheet(
        ["code", "name", "address", "latitude", "longitude", "priority", "active"],
        ("syd-01", "Sydney West DC", "Wetherill Park", "-33.8492", "150.9006", "10", "1"),
        ("SHA-01", "Shanghai Jiading", "嘉定区", "31.3838", "121.2506", "", "1"),
    )

    # when
    result = WarehouseResource().import_data(sheet)

    # then
    assert not result.has_errors() and not result.has_validation_errors()
    sydney.refresh_from_db()
    assert (sydney.name, sydney.priority) == ("Sydney West DC", 10)
    shanghai = Warehouse.objects.get(code="SHA-01")
    assert (shanghai.priority, str(shanghai.latitude)) == (100, "31.383800")


@pytest.mark.parametrize(
    ("latitude", "longitude", "message"),
    [
        ("north", "121.2", "north is not a coordinate"),
        ("31.3", "", "Give both latitude and longitude, or neither."),
        ("91", "121.2", "less than or equal to 90"),
    ],
)
def test_a_warehouse_row_with_bad_coordinates_is_reported(latitude, longitude, message):
    # given
    sheet = _sheet(
        ["code", "name", "latitude", "longitude"],
        ("SHA-01", "Shanghai", "31.38", "121.25"),
        ("SZX-01", "Shenzhen", latitude, longitude),
    )

    # when
    result = WarehouseResource().import_data(sheet)

    # then
    report = _row_errors(result)
    assert list(report) == [2]
    assert any(message in text for text in report[2]), report
    assert not Warehouse.objects.exists()


def test_a_warehouse_sheet_without_a_name_column_is_refused():
    result = WarehouseResource().import_data(_sheet(["code"], ("SHA-01",)))

    assert "missing the required column(s): name" in str(result.base_errors[0].error)
    assert not Warehouse.objects.exists()


def test_a_zone_sheet_creates_zones_and_refuses_an_unknown_type(sydney):
    # given
    good = _sheet(["warehouse", "code", "name", "type"], ("SYD-01", "RET", "Returns", "Storage"))
    bad = _sheet(["warehouse", "code", "name", "type"], ("SYD-01", "COLD", "Cold", "freezer"))

    # when
    good_result = ZoneResource().import_data(good)
    bad_result = ZoneResource().import_data(bad)

    # then
    assert not good_result.has_validation_errors()
    assert sydney.zones.get(code="RET").type == Zone.Type.STORAGE
    assert list(_row_errors(bad_result)) == [1]
    assert not sydney.zones.filter(code="COLD").exists()


# --- through the admin ----------------------------------------------------------------------


def _admin_import(client, content: bytes, name: str, fmt_index: int):
    upload = SimpleUploadedFile(name, content)
    return client.post(
        reverse("admin:warehouses_bin_import"),
        {"import_file": upload, "format": str(fmt_index)},
    )


def test_staff_imports_a_bin_csv_in_the_admin_after_a_preview(client, make_user, sydney):
    # given
    client.force_login(make_user("staff"))
    csv = b"warehouse,zone,code,active\nSYD-01,PICK,A-01,1\nSYD-01,BULK,R-01,1\n"

    # when: the preview writes nothing
    preview = _admin_import(client, csv, "bins.csv", 1)

    # then
    assert preview.status_code == 200
    assert not Bin.objects.exists()
    confirm = preview.context["confirm_form"]
    assert confirm is not None

    # when: confirmed
    done = client.post(reverse("admin:warehouses_bin_process_import"), confirm.initial)

    # then
    assert done.status_code == 302
    assert sorted(Bin.objects.values_list("code", flat=True)) == ["A-01", "R-01"]


def test_the_admin_preview_of_a_bad_sheet_shows_the_row_and_offers_no_confirm(
    client, make_user, sydney
):
    # given
    client.force_login(make_user("staff"))
    csv = b"warehouse,zone,code,active\nSYD-01,PICK,A-01,1\nSYD-01,NOPE,A-02,1\n"

    # when
    response = _admin_import(client, csv, "bins.csv", 1)

    # then
    html = response.content.decode()
    assert "Warehouse SYD-01 has no zone NOPE." in html
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    assert not Bin.objects.exists()


def test_the_admin_refuses_a_sheet_missing_columns_with_a_message(client, make_user, sydney):
    client.force_login(make_user("staff"))

    response = _admin_import(client, b"warehouse,code\nSYD-01,A-01\n", "bins.csv", 1)

    assert re.search(r"missing the required column\(s\): zone, active", response.content.decode())
    assert not Bin.objects.exists()


def test_only_users_who_may_add_and_change_bins_can_import_them(client, make_user):
    client.force_login(make_user("qc"))

    assert client.get(reverse("admin:warehouses_bin_import")).status_code == 403
    assert client.get(reverse("admin:warehouses_bin_changelist")).status_code == 200


def test_the_admin_import_offers_xlsx_and_csv_only():
    from warehouses.admin import BinAdmin

    assert [f for f in BinAdmin.import_formats] == [XLSX, CSV]
