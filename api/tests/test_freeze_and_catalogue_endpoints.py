"""Freezes (scope, preview, release request, approval rules, QC, events) and the catalogue
(goods with combos and batches, categories, brands, warehouses, zones, bins) over the API."""

from __future__ import annotations

from api.tests.test_foundations import assert_error_body
from freezes.models import Freeze, FreezeEvent, ReleaseRequest
from inventory.models import Goods, StockBalance
from inventory.tests.factories import GoodsFactory


def _freeze(client, world, **extra):
    body = {
        "scope": {"goods": world.goods.pk, "batch": world.batch.pk},
        "reason": "qc_hold",
        **extra,
    }
    return client.post("/api/v1/freezes/", body, format="json")


def test_preview_then_freeze_a_batch(client_for, world):
    client = client_for("staff")
    preview = client.post(
        "/api/v1/freezes/preview/",
        {"scope": {"batch": world.batch.pk}, "quantity": 30},
        format="json",
    ).json()
    assert (preview["available"], preview["to_freeze"], preview["shortfall"]) == (100, 30, 0)
    assert not Freeze.objects.exists()
    response = _freeze(client, world, quantity=30)
    assert response.status_code == 201, response.json()
    assert sum(line["held"] for line in response.json()["lines"]) == 30
    world.balance.refresh_from_db()
    assert world.balance.frozen == 30


def test_freeze_refusals(client_for, world):
    client = client_for("staff")
    assert_error_body(_freeze(client, world, quantity=500), 409, "insufficient_stock")
    empty = client.post("/api/v1/freezes/", {"scope": {}, "reason": "qc_hold"}, format="json")
    assert_error_body(empty, 400)
    typo = client.post(
        "/api/v1/freezes/", {"scope": {"sku": "x"}, "reason": "qc_hold"}, format="json"
    )
    assert assert_error_body(typo, 400, "invalid")["fields"] == {"scope.sku": ["Unknown field."]}
    assert not Freeze.objects.exists()


def test_release_needs_another_approver(client_for, world):
    staff, manager = client_for("staff"), client_for("manager")
    freeze = _freeze(staff, world).json()
    request = manager.post(
        f"/api/v1/freezes/{freeze['id']}/release-requests/", {"reason": "QC passed"}, format="json"
    ).json()
    url = f"/api/v1/release-requests/{request['id']}/"
    # the requester may not approve his own request
    assert_error_body(
        manager.post(url + "approve/", {"comment": "ok"}, format="json"), 403, "approval_refused"
    )
    # staff lack approve_release altogether
    assert_error_body(
        staff.post(url + "approve/", {"comment": "ok"}, format="json"), 403, "permission_denied"
    )
    other = client_for("manager", "manager2")
    approved = other.post(url + "approve/", {"comment": "ok"}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    world.balance.refresh_from_db()
    assert world.balance.frozen == 0
    assert_error_body(
        other.post(url + "approve/", {"comment": "again"}, format="json"), 409, "already_decided"
    )
    kinds = [
        e["kind"] for e in staff.get(f"/api/v1/freezes/{freeze['id']}/events/").json()["results"]
    ]
    assert {"created", "release_requested", "release_approved", "released"} <= set(kinds)


def test_reject_keeps_stock_frozen(client_for, world):
    staff = client_for("staff")
    freeze = _freeze(staff, world).json()
    request = staff.post(
        f"/api/v1/freezes/{freeze['id']}/release-requests/", {"reason": "?"}, format="json"
    ).json()
    manager = client_for("manager")
    response = manager.post(
        f"/api/v1/release-requests/{request['id']}/reject/", {"comment": "No"}, format="json"
    )
    assert response.json()["status"] == "rejected"
    assert StockBalance.objects.get(pk=world.balance.pk).frozen == 100
    pending = manager.get("/api/v1/release-requests/", {"status": "pending"}).json()["results"]
    assert pending == []


def test_qc_pass_releases_a_freeze_set_to_release_on_pass(client_for, world):
    staff = client_for("staff")
    freeze = _freeze(staff, world, release_on_qc_pass=True).json()
    qc = client_for("qc")
    response = qc.post(
        f"/api/v1/freezes/{freeze['id']}/inspections/", {"result": "pass"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert StockBalance.objects.get(pk=world.balance.pk).frozen == 0
    assert FreezeEvent.objects.filter(kind="qc_result").exists()
    events = qc.get("/api/v1/freeze-events/", {"freeze": freeze["id"], "kind": "qc_result"}).json()
    assert len(events["results"]) == 1


def test_goods_with_combos_and_batches(client_for, world):
    manager = client_for("manager")
    case = manager.post("/api/v1/goods/", {"sku": "LIP-CASE", "name": "Case"}, format="json")
    assert case.status_code == 201, case.json()
    url = f"/api/v1/goods/{case.json()['id']}/"
    combo = manager.post(
        url + "components/", {"component": world.goods.pk, "quantity": 4}, format="json"
    )
    assert combo.json()["is_combo"] is True
    assert combo.json()["components"] == [
        {"component": world.goods.pk, "sku": "LIP-001", "quantity": 4}
    ]
    loop = manager.post(
        f"/api/v1/goods/{world.goods.pk}/components/",
        {"component": case.json()["id"], "quantity": 1},
        format="json",
    )
    assert "holds stock" in assert_error_body(loop, 400, "invalid_goods")["message"]
    batch = manager.post(
        f"/api/v1/goods/{world.goods.pk}/batches/", {"batch_no": "2027-B"}, format="json"
    )
    assert batch.status_code == 201
    dup = manager.post(
        f"/api/v1/goods/{world.goods.pk}/batches/", {"batch_no": "2027-B"}, format="json"
    )
    assert_error_body(dup, 409, "duplicate_batch")
    detail = manager.get(f"/api/v1/goods/{world.goods.pk}/").json()
    assert {b["batch_no"] for b in detail["batches"]} == {"2026-A", "2027-B"}
    removed = manager.delete(url + f"components/{world.goods.pk}/")
    assert removed.json()["components"] == []


def test_goods_update_and_404(client_for, world):
    manager = client_for("manager")
    response = manager.put(
        f"/api/v1/goods/{world.goods.pk}/", {"sku": "LIP-001", "name": "Renamed"}, format="json"
    )
    assert response.json()["name"] == "Renamed"
    assert Goods.objects.get(pk=world.goods.pk).name == "Renamed"
    assert_error_body(manager.get("/api/v1/goods/99999999/"), 404, "not_found")
    assert_error_body(manager.get("/api/v1/goods/99999999999999999999999/"), 404, "not_found")


def test_warehouse_reads(client_for, world):
    client = client_for("staff")
    assert client.get("/api/v1/warehouses/").json()["results"][0]["code"] == world.warehouse.code
    assert client.get(f"/api/v1/warehouses/{world.warehouse.pk}/").status_code == 200
    zones = client.get("/api/v1/zones/", {"warehouse": world.warehouse.pk}).json()["results"]
    assert [z["id"] for z in zones] == [world.bin.zone_id]
    bins = client.get("/api/v1/bins/", {"warehouse": world.warehouse.pk}).json()["results"]
    assert {b["id"] for b in bins} == {world.bin.pk, world.bin2.pk}
    assert client.get("/api/v1/categories/").status_code == 200
    assert client.get("/api/v1/brands/").status_code == 200
    assert ReleaseRequest.objects.count() == 0


def test_combo_components_need_the_combo_editors_permissions(client_for, world):
    # given a clerk granted only changing and deleting combo lines: the combo editor screen
    # (change_goods and add/change/delete combocomponent) refuses him
    from django.contrib.auth.models import Permission
    from django.test import Client

    from inventory.models import ComboComponent

    clerk = client_for("staff")
    clerk.user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="inventory",
            codename__in=["change_combocomponent", "delete_combocomponent"],
        )
    )
    case = GoodsFactory(sku="LIP-CASE")
    screen = Client()
    screen.force_login(clerk.user)
    assert screen.get(f"/inventory/goods/{case.pk}/combo/").status_code == 403
    # when he sets or removes a component over the API, then he is refused the same way
    url = f"/api/v1/goods/{case.pk}/components/"
    body = {"component": world.goods.pk, "quantity": 4}
    assert_error_body(clerk.post(url, body, format="json"), 403, "permission_denied")
    ComboComponent.objects.create(combo=case, component=world.goods, quantity=2)
    assert_error_body(clerk.delete(f"{url}{world.goods.pk}/"), 403, "permission_denied")
    assert ComboComponent.objects.filter(combo=case).count() == 1


def test_a_freezes_events_read_oldest_first_as_documented(client_for, world):
    # given a freeze with a release requested and rejected (three events, in that order)
    staff, manager = client_for("staff"), client_for("manager")
    freeze = _freeze(staff, world).json()
    request = staff.post(
        f"/api/v1/freezes/{freeze['id']}/release-requests/", {"reason": "ok"}, format="json"
    ).json()
    manager.post(
        f"/api/v1/release-requests/{request['id']}/reject/", {"comment": "no"}, format="json"
    )
    # when its timeline is read a page of two at a time
    url = f"/api/v1/freezes/{freeze['id']}/events/"
    first = staff.get(url, {"limit": 2}).json()
    rest = staff.get(first["next"]).json()
    # then the events come oldest first, as the freeze page shows them and the schema says
    kinds = [event["kind"] for event in first["results"] + rest["results"]]
    assert kinds == ["created", "release_requested", "release_rejected"]
    schema = staff.get("/api/schema/?format=json").json()
    assert "oldest first" in schema["paths"]["/api/v1/freezes/{id}/events/"]["get"]["description"]


def test_adding_a_batch_needs_the_batch_screens_permissions(client_for, world):
    # given a user who may add batches but not see them: the goods' batch screen refuses him
    from django.contrib.auth.models import Permission
    from django.test import Client

    from inventory.models import Batch

    client = client_for("store")
    client.user.user_permissions.add(
        Permission.objects.get(content_type__app_label="inventory", codename="add_batch")
    )
    screen = Client()
    screen.force_login(client.user)
    url = f"/inventory/goods/{world.goods.pk}/batches/"
    assert screen.post(url, {"batch_no": "B-9"}).status_code == 403
    # when he adds one over the API, then he is refused the same way and nothing is written
    api_url = f"/api/v1/goods/{world.goods.pk}/batches/"
    response = client.post(api_url, {"batch_no": "B-9"}, format="json")
    assert_error_body(response, 403, "permission_denied")
    assert not Batch.objects.filter(batch_no="B-9").exists()
