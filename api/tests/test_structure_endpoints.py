"""Warehouse, zone and bin writes (the warehouse screens' forms and services) and category
and brand writes over the API: happy paths, refusals in the one body with nothing written,
permissions."""

from __future__ import annotations

from api.tests.test_foundations import assert_error_body
from inventory.models import Brand, Category
from warehouses.models import Bin, Warehouse, Zone
from warehouses.tests.factories import WarehouseFactory, ZoneFactory

WAREHOUSE = {
    "code": "MEL",
    "name": "Melbourne DC",
    "address": "2 Port Rd",
    "email": "mel@example.com",
    "latitude": "-37.81",
    "longitude": 144.96,
    "priority": 20,
}


def test_warehouse_create_update_deactivate(client_for, db):
    manager = client_for("manager")
    made = manager.post("/api/v1/warehouses/", WAREHOUSE, format="json")
    assert made.status_code == 201, made.json()
    pk = made.json()["id"]
    changed = manager.put(
        f"/api/v1/warehouses/{pk}/", {**WAREHOUSE, "name": "Melbourne 2"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["name"] == "Melbourne 2"
    off = manager.post(f"/api/v1/warehouses/{pk}/deactivate/")
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert manager.post(f"/api/v1/warehouses/{pk}/reactivate/").json()["is_active"] is True


def test_warehouse_refusals_write_nothing(client_for, db):
    manager = client_for("manager")
    WarehouseFactory(code="SYD")
    assert_error_body(
        manager.post("/api/v1/warehouses/", {**WAREHOUSE, "code": "syd"}, format="json"),
        409,
    )
    half = {**WAREHOUSE, "longitude": None}
    assert (
        "longitude"
        in assert_error_body(manager.post("/api/v1/warehouses/", half, format="json"), 400)[
            "fields"
        ]
    )
    assert_error_body(
        manager.post("/api/v1/warehouses/", {**WAREHOUSE, "priority": 1.5}, format="json"), 400
    )
    assert_error_body(
        manager.post("/api/v1/warehouses/", {**WAREHOUSE, "colour": "red"}, format="json"),
        400,
        "invalid",
    )
    assert_error_body(
        client_for("channel").post("/api/v1/warehouses/", WAREHOUSE, format="json"),
        403,
        "permission_denied",
    )
    assert list(Warehouse.objects.values_list("code", flat=True)) == ["SYD"]


def test_zone_and_bin_writes_and_the_stock_guard(client_for, world):
    manager = client_for("manager")
    zone = manager.post(
        "/api/v1/zones/",
        {"warehouse": world.warehouse.pk, "code": "BULK", "name": "Bulk", "type": "storage"},
        format="json",
    )
    assert zone.status_code == 201, zone.json()
    zone_id = zone.json()["id"]
    renamed = manager.put(
        f"/api/v1/zones/{zone_id}/",
        {"code": "BULK", "name": "Bulk storage", "type": "storage"},
        format="json",
    )
    assert renamed.json()["name"] == "Bulk storage"
    made = manager.post(
        "/api/v1/bins/",
        {"warehouse": world.warehouse.pk, "zone": zone_id, "code": "B-01"},
        format="json",
    )
    assert made.status_code == 201, made.json()
    bin_id = made.json()["id"]
    moved = manager.put(f"/api/v1/bins/{bin_id}/", {"zone": zone_id, "code": "B-02"}, "json")
    assert moved.json()["code"] == "B-02"
    assert manager.post(f"/api/v1/bins/{bin_id}/deactivate/").json()["is_active"] is False
    # the bin holding stock must stay active
    assert_error_body(manager.post(f"/api/v1/bins/{world.bin.pk}/deactivate/"), 409)
    assert Bin.objects.get(pk=world.bin.pk).is_active


def test_zone_and_bin_refusals(client_for, world):
    manager = client_for("manager")
    foreign_zone = ZoneFactory()
    refused = manager.post(
        "/api/v1/bins/",
        {"warehouse": world.warehouse.pk, "zone": foreign_zone.pk, "code": "X-1"},
        format="json",
    )
    assert "zone" in assert_error_body(refused, 400)["fields"]
    duplicate = manager.post(
        "/api/v1/bins/",
        {"warehouse": world.warehouse.pk, "zone": world.bin.zone_id, "code": world.bin.code},
        format="json",
    )
    assert_error_body(duplicate, 409)
    assert_error_body(manager.post("/api/v1/bins/", {"zone": 1, "code": "Y"}, "json"), 400)
    bad_type = {"warehouse": world.warehouse.pk, "code": "Z", "name": "Z", "type": "attic"}
    assert_error_body(manager.post("/api/v1/zones/", bad_type, format="json"), 400)
    assert_error_body(client_for("store").post("/api/v1/zones/", bad_type, format="json"), 403)
    assert not Bin.objects.filter(code__in=["X-1", "Y"]).exists()
    assert not Zone.objects.filter(code="Z").exists()


def test_category_and_brand_writes(client_for, db):
    manager = client_for("manager")
    top = manager.post("/api/v1/categories/", {"name": "Beauty"}, format="json").json()
    child = manager.post(
        "/api/v1/categories/", {"name": "Lipsticks", "parent": top["id"]}, format="json"
    )
    assert child.status_code == 201 and child.json()["parent"] == top["id"]
    # a category under its own child, a duplicate name under one parent: refused
    loop = manager.put(
        f"/api/v1/categories/{top['id']}/",
        {"name": "Beauty", "parent": child.json()["id"]},
        format="json",
    )
    assert "parent" in assert_error_body(loop, 400)["fields"]
    again = manager.post("/api/v1/categories/", {"name": "Beauty"}, format="json")
    assert_error_body(again, 400)
    brand = manager.post("/api/v1/brands/", {"name": "Rouge"}, format="json")
    assert brand.status_code == 201
    renamed = manager.put(f"/api/v1/brands/{brand.json()['id']}/", {"name": "Rouge Co"}, "json")
    assert renamed.json()["name"] == "Rouge Co"
    assert_error_body(manager.post("/api/v1/brands/", {"name": "Rouge Co"}, format="json"), 400)
    assert_error_body(client_for("staff").post("/api/v1/brands/", {"name": "X"}, "json"), 403)
    assert Category.objects.count() == 2 and Brand.objects.count() == 1
