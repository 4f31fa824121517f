from decimal import Decimal

import pytest

from warehouses import services
from warehouses.exceptions import (
    DuplicateCode,
    InvalidCoordinates,
    InvalidInput,
    ZoneOfAnotherWarehouse,
)
from warehouses.models import Bin, Warehouse, Zone
from warehouses.tests.factories import BinFactory, WarehouseFactory, ZoneFactory

pytestmark = pytest.mark.django_db


# --- warehouses -----------------------------------------------------------------------------


def test_warehouse_create_stores_a_trimmed_active_warehouse_with_rounded_coordinates():
    # when
    warehouse = services.warehouse_create(
        code=" SYD-02 ",
        name=" Sydney South ",
        address="1 Botany Road, Botany NSW",
        email="ops@example.com",
        latitude="-33.9461234567",
        longitude=Decimal("151.1967"),
        priority=5,
    )

    # then
    stored = Warehouse.objects.get(pk=warehouse.pk)
    assert (stored.code, stored.name, stored.is_active, stored.priority) == (
        "SYD-02",
        "Sydney South",
        True,
        5,
    )
    assert stored.latitude == Decimal("-33.946123")
    assert stored.longitude == Decimal("151.196700")


def test_warehouse_create_refuses_a_code_taken_in_another_letter_case():
    # given
    WarehouseFactory(code="SYD-01", name="Sydney West")

    # when
    with pytest.raises(DuplicateCode) as refused:
        services.warehouse_create(code="syd-01", name="Another")

    # then
    assert refused.value.field == "code"
    assert "SYD-01" in refused.value.message
    assert Warehouse.objects.count() == 1


@pytest.mark.parametrize(
    ("latitude", "longitude", "field"),
    [
        ("north", "151.2", "latitude"),
        ("-33.8", "1e", "longitude"),
        ("NaN", "151.2", "latitude"),
        ("91", "151.2", "latitude"),
        ("-33.8", "-180.5", "longitude"),
    ],
)
def test_warehouse_create_refuses_malformed_or_out_of_range_coordinates(latitude, longitude, field):
    # when
    with pytest.raises(InvalidCoordinates) as refused:
        services.warehouse_create(code="W1", name="W", latitude=latitude, longitude=longitude)

    # then
    assert refused.value.field == field
    assert not Warehouse.objects.exists()


def test_warehouse_create_refuses_a_latitude_without_a_longitude():
    # when
    with pytest.raises(InvalidCoordinates) as refused:
        services.warehouse_create(code="W1", name="W", latitude="-33.8", longitude=None)

    # then
    assert refused.value.field == "longitude"
    assert "both latitude and longitude" in refused.value.message
    assert not Warehouse.objects.exists()


def test_warehouse_create_refuses_a_longitude_without_a_latitude():
    with pytest.raises(InvalidCoordinates) as refused:
        services.warehouse_create(code="W1", name="W", latitude="", longitude="151.2")

    assert refused.value.field == "latitude"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": ""}, "code"),
        ({"code": "A 1"}, "code"),
        ({"name": "  "}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"priority": -1}, "priority"),
    ],
)
def test_warehouse_create_refuses_values_that_break_the_field_rules(changes, field):
    # given
    values = {"code": "W1", "name": "Warehouse", "email": "", "priority": 1} | changes

    # when
    with pytest.raises(InvalidInput) as refused:
        services.warehouse_create(**values)

    # then
    assert field in refused.value.message_dict
    assert not Warehouse.objects.exists()


def test_warehouse_update_changes_the_details_and_keeps_the_flag():
    # given
    warehouse = WarehouseFactory(code="MEL-01", latitude=None, longitude=None)

    # when
    updated = services.warehouse_update(
        warehouse=warehouse,
        code="mel-01",
        name="Melbourne",
        address="Truganina",
        email="",
        latitude="-37.8",
        longitude="144.7",
        priority=3,
    )

    # then
    warehouse.refresh_from_db()
    assert (warehouse.code, warehouse.name, warehouse.priority) == ("mel-01", "Melbourne", 3)
    assert warehouse.latitude == Decimal("-37.800000")
    assert updated.is_active is True


def test_warehouse_update_refuses_the_code_of_another_warehouse_and_changes_nothing():
    # given
    WarehouseFactory(code="SYD-01")
    warehouse = WarehouseFactory(code="MEL-01", name="Melbourne")

    # when
    with pytest.raises(DuplicateCode):
        services.warehouse_update(
            warehouse=warehouse,
            code="Syd-01",
            name="Renamed",
            address="",
            email="",
            latitude=None,
            longitude=None,
            priority=1,
        )

    # then
    warehouse.refresh_from_db()
    assert (warehouse.code, warehouse.name) == ("MEL-01", "Melbourne")


def test_warehouse_deactivate_and_reactivate_flip_only_the_warehouse_flag():
    # given
    bin_ = BinFactory()
    warehouse = bin_.warehouse

    # when
    services.warehouse_deactivate(warehouse=warehouse)

    # then
    warehouse.refresh_from_db()
    bin_.refresh_from_db()
    assert warehouse.is_active is False
    assert bin_.is_active is True

    # when
    services.warehouse_reactivate(warehouse=warehouse)

    # then
    warehouse.refresh_from_db()
    assert warehouse.is_active is True


# --- zones ----------------------------------------------------------------------------------


def test_zone_create_adds_a_picking_zone_to_the_warehouse():
    # given
    warehouse = WarehouseFactory()

    # when
    zone = services.zone_create(warehouse=warehouse, code="PICK", name="Pick faces", type="picking")

    # then
    assert Zone.objects.get(pk=zone.pk).type == Zone.Type.PICKING
    assert zone.warehouse == warehouse


def test_zone_create_refuses_a_code_the_warehouse_already_has():
    # given
    zone = ZoneFactory(code="PICK")

    # when
    with pytest.raises(DuplicateCode) as refused:
        services.zone_create(warehouse=zone.warehouse, code="PICK", name="Again", type="picking")

    # then
    assert refused.value.field == "code"
    assert Zone.objects.count() == 1


def test_zone_create_allows_the_same_code_in_another_warehouse():
    # given
    ZoneFactory(code="PICK")

    # when
    services.zone_create(warehouse=WarehouseFactory(), code="PICK", name="Pick", type="picking")

    # then
    assert Zone.objects.filter(code="PICK").count() == 2


def test_zone_create_refuses_an_unknown_type():
    with pytest.raises(InvalidInput) as refused:
        services.zone_create(warehouse=WarehouseFactory(), code="Z", name="Z", type="freezer")

    assert "type" in refused.value.message_dict
    assert not Zone.objects.exists()


def test_zone_update_renames_and_retypes_a_zone():
    # given
    zone = ZoneFactory(code="Z1", type=Zone.Type.STORAGE)

    # when
    services.zone_update(zone=zone, code="Z2", name="Fast movers", type="picking")

    # then
    zone.refresh_from_db()
    assert (zone.code, zone.name, zone.type) == ("Z2", "Fast movers", "picking")


def test_zone_update_refuses_a_code_of_another_zone_of_the_warehouse():
    # given
    first = ZoneFactory(code="Z1")
    second = ZoneFactory(code="Z2", warehouse=first.warehouse)

    # when
    with pytest.raises(DuplicateCode):
        services.zone_update(zone=second, code="Z1", name="x", type="storage")

    # then
    second.refresh_from_db()
    assert second.code == "Z2"


# --- bins -----------------------------------------------------------------------------------


def test_bin_create_adds_an_active_bin_to_a_zone_of_the_warehouse():
    # given
    zone = ZoneFactory()

    # when
    bin_ = services.bin_create(warehouse=zone.warehouse, zone=zone, code=" A-01-01 ")

    # then
    stored = Bin.objects.get(pk=bin_.pk)
    assert (stored.code, stored.zone, stored.warehouse, stored.is_active) == (
        "A-01-01",
        zone,
        zone.warehouse,
        True,
    )


def test_bin_create_refuses_a_zone_of_another_warehouse():
    # given
    warehouse = WarehouseFactory(code="SYD-01")
    foreign_zone = ZoneFactory(code="PICK")

    # when
    with pytest.raises(ZoneOfAnotherWarehouse) as refused:
        services.bin_create(warehouse=warehouse, zone=foreign_zone, code="A-01")

    # then
    assert refused.value.field == "zone"
    assert "SYD-01" in refused.value.message
    assert not Bin.objects.exists()


def test_bin_create_refuses_a_code_the_warehouse_already_has():
    # given
    bin_ = BinFactory(code="A-01")
    other_zone = ZoneFactory(warehouse=bin_.warehouse)

    # when
    with pytest.raises(DuplicateCode) as refused:
        services.bin_create(warehouse=bin_.warehouse, zone=other_zone, code="A-01")

    # then
    assert "A-01" in refused.value.message
    assert Bin.objects.count() == 1


def test_bin_create_refuses_a_malformed_code():
    zone = ZoneFactory()

    with pytest.raises(InvalidInput) as refused:
        services.bin_create(warehouse=zone.warehouse, zone=zone, code="A/01")

    assert "code" in refused.value.message_dict
    assert not Bin.objects.exists()


def test_bin_update_moves_a_bin_to_another_zone_of_its_warehouse_and_recodes_it():
    # given
    bin_ = BinFactory(code="A-01")
    storage = ZoneFactory(warehouse=bin_.warehouse, type=Zone.Type.STORAGE)

    # when
    services.bin_update(bin=bin_, zone=storage, code="R-01")

    # then
    bin_.refresh_from_db()
    assert (bin_.zone, bin_.code) == (storage, "R-01")


def test_bin_update_refuses_a_zone_of_another_warehouse_and_changes_nothing():
    # given
    bin_ = BinFactory(code="A-01")
    zone = bin_.zone

    # when
    with pytest.raises(ZoneOfAnotherWarehouse):
        services.bin_update(bin=bin_, zone=ZoneFactory(), code="A-02")

    # then
    bin_.refresh_from_db()
    assert (bin_.zone, bin_.code) == (zone, "A-01")


def test_bin_update_refuses_the_code_of_another_bin_of_the_warehouse():
    # given
    first = BinFactory(code="A-01")
    second = BinFactory(code="A-02", zone=first.zone)

    # when
    with pytest.raises(DuplicateCode):
        services.bin_update(bin=second, zone=second.zone, code="A-01")

    # then
    second.refresh_from_db()
    assert second.code == "A-02"


def test_bin_deactivate_and_reactivate_flip_the_flag():
    # given
    bin_ = BinFactory()

    # when
    services.bin_deactivate(bin=bin_)

    # then
    bin_.refresh_from_db()
    assert bin_.is_active is False

    # when
    services.bin_reactivate(bin=bin_)

    # then
    bin_.refresh_from_db()
    assert bin_.is_active is True


def test_a_unique_violation_from_a_concurrent_insert_is_reported_as_a_duplicate(monkeypatch):
    # given: another user's warehouse committed between our check and our insert
    WarehouseFactory(code="SYD-01")
    real_check = services._warehouse_code_taken
    calls = []

    def check_that_misses_the_first_time(code, **kwargs):
        calls.append(code)
        return None if len(calls) == 1 else real_check(code, **kwargs)

    monkeypatch.setattr(services, "_warehouse_code_taken", check_that_misses_the_first_time)

    # when
    with pytest.raises(DuplicateCode) as refused:
        services.warehouse_create(code="syd-01", name="Late")

    # then
    assert refused.value.field == "code"
    assert len(calls) == 2
    assert list(Warehouse.objects.values_list("code", flat=True)) == ["SYD-01"]
