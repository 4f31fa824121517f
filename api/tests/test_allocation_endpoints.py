"""Stores, grab windows, grab requests and replenishment orders over the API: the screens'
services, permissions and store scoping (another store's row is a 404), the one error body,
nothing written on a refusal, and Idempotency-Key on grabs and order transitions."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from allocation.models import GrabRequest, GrabWindow, OrderEvent, ReplenishmentOrder
from allocation.services import close
from allocation.tests.conftest import World
from api.tests.conftest import token_client
from api.tests.test_foundations import assert_error_body
from inventory.models import StockMovement


@pytest.fixture
def alloc(db, make_user):
    world = World(make_user)
    world.api = {
        name: token_client(getattr(world, name)) for name in ("manager", "alice", "bob", "carol")
    }
    return world


def _grab(client, window, store, goods, quantity=10, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    body = {"window": window.pk, "store": store.pk, "goods": goods.pk, "quantity": quantity}
    return client.post("/api/v1/grab-requests/", body, format="json", **headers)


def test_stores_are_scoped_to_the_managers_own(alloc):
    mine = alloc.api["alice"].get("/api/v1/stores/").json()["results"]
    assert [s["code"] for s in mine] == ["A01"]
    every = alloc.api["manager"].get("/api/v1/stores/?q=01").json()["results"]
    assert {s["code"] for s in every} == {"A01", "B01", "C01"}
    # another store's row reads as missing
    assert_error_body(alloc.api["alice"].get(f"/api/v1/stores/{alloc.store_b.pk}/"), 404)
    assert alloc.api["alice"].get(f"/api/v1/stores/{alloc.store_a.pk}/").status_code == 200
    assert_error_body(alloc.api["alice"].get("/api/v1/grab-windows/?status=nope"), 400, "invalid")


def test_manager_creates_a_window_that_opens_and_reserves(alloc):
    now = timezone.now()
    body = {
        "name": "API tea",
        "warehouse": alloc.warehouse.pk,
        "policy": alloc.policy.pk,
        "mode": "first_come",
        "opens_at": (now - datetime.timedelta(minutes=1)).isoformat(),
        "closes_at": (now + datetime.timedelta(minutes=30)).isoformat(),
        "offers": [{"goods": alloc.goods.pk, "quantity": 50}],
    }
    key = {"HTTP_IDEMPOTENCY_KEY": "window-1"}
    response = alloc.api["manager"].post("/api/v1/grab-windows/", body, format="json", **key)
    assert response.status_code == 201, response.json()
    made = response.json()
    again = alloc.api["manager"].post("/api/v1/grab-windows/", body, format="json", **key)
    assert again.json()["id"] == made["id"] and again["Idempotent-Replayed"] == "true"
    assert GrabWindow.objects.count() == 1
    assert made["status"] == "open" and made["pools"][0]["left"] == 50
    alloc.balance_soon.refresh_from_db()
    alloc.balance_late.refresh_from_db()
    assert alloc.balance_soon.reserved + alloc.balance_late.reserved == 50


def test_window_refusals_write_nothing(alloc):
    now = timezone.now()
    body = {
        "name": "Backwards",
        "warehouse": alloc.warehouse.pk,
        "policy": alloc.policy.pk,
        "mode": "first_come",
        "opens_at": (now + datetime.timedelta(hours=2)).isoformat(),
        "closes_at": (now + datetime.timedelta(hours=1)).isoformat(),
        "offers": [{"goods": alloc.goods.pk, "quantity": 5}],
    }
    manager = alloc.api["manager"]
    refused = assert_error_body(manager.post("/api/v1/grab-windows/", body, format="json"), 400)
    assert "closes_at" in refused["fields"]
    too_much = {
        **body,
        "opens_at": (now - datetime.timedelta(minutes=1)).isoformat(),
        "closes_at": (now + datetime.timedelta(hours=1)).isoformat(),
        "offers": [{"goods": alloc.goods.pk, "quantity": 100_000}],
    }
    assert_error_body(
        manager.post("/api/v1/grab-windows/", too_much, format="json"), 409, "insufficient_stock"
    )
    fractional = {**body, "offers": [{"goods": alloc.goods.pk, "quantity": 1.5}]}
    assert_error_body(manager.post("/api/v1/grab-windows/", fractional, format="json"), 400)
    # a store manager may not open windows at all
    assert_error_body(
        alloc.api["alice"].post("/api/v1/grab-windows/", body, format="json"),
        403,
        "permission_denied",
    )
    assert not GrabWindow.objects.exists()


def test_grab_is_answered_and_idempotent(alloc):
    window = alloc.open_window()
    alice = alloc.api["alice"]
    first = _grab(alice, window, alloc.store_a, alloc.goods, 10, key="grab-1")
    assert first.status_code == 201, first.json()
    assert first.json()["status"] == "granted" and first.json()["granted"] == 10
    again = _grab(alice, window, alloc.store_a, alloc.goods, 10, key="grab-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other_body = _grab(alice, window, alloc.store_a, alloc.goods, 11, key="grab-1")
    assert_error_body(other_body, 409, "idempotency_conflict")
    assert GrabRequest.objects.count() == 1
    listed = alice.get(f"/api/v1/grab-requests/?window={window.pk}").json()["results"]
    assert [r["id"] for r in listed] == [first.json()["id"]]
    # bob sees none of alice's requests
    assert bob_sees_nothing(alloc)


def bob_sees_nothing(alloc) -> bool:
    return alloc.api["bob"].get("/api/v1/grab-requests/").json()["results"] == []


def test_grab_refusals_write_nothing(alloc):
    window = alloc.open_window()
    alice = alloc.api["alice"]
    # another manager's store: 404, as on the screen
    assert_error_body(_grab(alice, window, alloc.store_b, alloc.goods), 404)
    # goods not in the pool, zero and fractional quantities
    assert_error_body(_grab(alice, window, alloc.store_a, alloc.other_goods), 409, "not_allowed")
    assert_error_body(_grab(alice, window, alloc.store_a, alloc.goods, 0), 400)
    assert_error_body(_grab(alice, window, alloc.store_a, alloc.goods, -3), 400)
    body = {"window": window.pk, "store": alloc.store_a.pk, "goods": alloc.goods.pk}
    assert_error_body(
        alice.post("/api/v1/grab-requests/", {**body, "quantity": 2.5}, format="json"), 400
    )
    assert_error_body(
        alice.post("/api/v1/grab-requests/", {**body, "quantity": 2, "qty": 1}, format="json"),
        400,
        "invalid",
    )
    # a warehouse clerk does not grab
    staff = token_client(alloc.manager.__class__.objects.create_user("clerk"))
    assert_error_body(_grab(staff, window, alloc.store_a, alloc.goods), 403, "permission_denied")
    # a cancelled window
    from allocation.services import windows

    windows.window_cancel(window_id=window.pk, user=alloc.manager)
    assert_error_body(_grab(alice, window, alloc.store_a, alloc.goods), 409, "window_not_open")
    assert not GrabRequest.objects.exists()


def test_pending_request_can_be_cancelled_by_its_store_only(alloc):
    window = alloc.open_window(mode=GrabWindow.Mode.AT_CLOSE)
    made = _grab(alloc.api["alice"], window, alloc.store_a, alloc.goods, 5).json()
    assert made["status"] == "pending"
    assert_error_body(alloc.api["bob"].post(f"/api/v1/grab-requests/{made['id']}/cancel/"), 404)
    done = alloc.api["alice"].post(f"/api/v1/grab-requests/{made['id']}/cancel/")
    assert done.status_code == 200 and done.json()["status"] == "cancelled"


def _closed_with_orders(alloc):
    window = alloc.open_window()
    _grab(alloc.api["alice"], window, alloc.store_a, alloc.goods, 10)
    _grab(alloc.api["bob"], window, alloc.store_b, alloc.goods, 5)
    response = alloc.api["manager"].post(f"/api/v1/grab-windows/{window.pk}/close/")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    return (
        ReplenishmentOrder.objects.get(store=alloc.store_a),
        ReplenishmentOrder.objects.get(store=alloc.store_b),
    )


def test_order_ships_and_is_received_with_shortages(alloc):
    order_a, _order_b = _closed_with_orders(alloc)
    manager, alice = alloc.api["manager"], alloc.api["alice"]
    url = f"/api/v1/replenishment-orders/{order_a.pk}/"
    assert manager.post(url + "pick/").json()["status"] == "picking"
    shipped = manager.post(url + "ship/", HTTP_IDEMPOTENCY_KEY="ship-a")
    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"
    replay = manager.post(url + "ship/", HTTP_IDEMPOTENCY_KEY="ship-a")
    assert replay["Idempotent-Replayed"] == "true"
    assert StockMovement.objects.filter(kind="out_store_replenishment").count() == len(
        shipped.json()["lines"]
    )
    line = shipped.json()["lines"][0]
    body = {"lines": [{"line": line["id"], "received": line["quantity"] - 2, "damaged": 1}]}
    received = alice.post(url + "receive/", body, format="json")
    assert received.status_code == 200, received.json()
    data = received.json()
    assert data["status"] == "received"
    assert data["lines"][0]["shortage"] == 2 and data["lines"][0]["damaged"] == 1
    receipt = data["events"][-1]
    assert [row[1:] for row in receipt["details"]["shortages"]] == [[2, 1]]
    assert "short 2, damaged 1" in receipt["note_display"]
    chinese = alice.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["events"][-1]
    assert "短少 2，破损 1" in chinese["note_display"]


def test_order_refusals_permissions_and_scoping(alloc):
    order_a, order_b = _closed_with_orders(alloc)
    manager, alice = alloc.api["manager"], alloc.api["alice"]
    url = f"/api/v1/replenishment-orders/{order_a.pk}/"
    # alice sees her order only
    listed = alice.get("/api/v1/replenishment-orders/").json()["results"]
    assert [o["id"] for o in listed] == [order_a.pk]
    assert_error_body(alice.get(f"/api/v1/replenishment-orders/{order_b.pk}/"), 404)
    # a store manager may not ship; receiving an unshipped order is refused
    assert_error_body(alice.post(url + "ship/"), 403, "permission_denied")
    assert_error_body(alice.post(url + "receive/", {}, format="json"), 409, "invalid_state")
    # more received than shipped: 400, nothing written
    manager.post(url + "ship/")
    line = order_a.lines.first()
    too_many = {"lines": [{"line": line.pk, "received": line.quantity + 1}]}
    assert_error_body(alice.post(url + "receive/", too_many, format="json"), 400)
    fractional = {"lines": [{"line": line.pk, "received": 1.5}]}
    assert_error_body(alice.post(url + "receive/", fractional, format="json"), 400)
    # bob cannot reach alice's order at all
    assert_error_body(alloc.api["bob"].post(url + "receive/", {}, format="json"), 404)
    order_a.refresh_from_db()
    assert order_a.status == "shipped"
    assert not OrderEvent.objects.filter(order=order_a, kind="received").exists()
    # a shipped order cannot be cancelled
    assert_error_body(manager.post(url + "cancel/", {}, format="json"), 409, "invalid_state")
    # cancelling the other order unreserves its stock
    cancelled = manager.post(
        f"/api/v1/replenishment-orders/{order_b.pk}/cancel/", {"note": "closed"}, format="json"
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_store_manager_sees_only_windows_open_to_his_stores(alloc):
    from allocation.models import GrabWindow as Window

    listed = alloc.open_window(scope=Window.Scope.LIST, stores=[alloc.store_a])
    assert [w["id"] for w in alloc.api["alice"].get("/api/v1/grab-windows/").json()["results"]] == [
        listed.pk
    ]
    assert alloc.api["bob"].get("/api/v1/grab-windows/").json()["results"] == []
    assert_error_body(alloc.api["bob"].get(f"/api/v1/grab-windows/{listed.pk}/"), 404)
    assert_error_body(alloc.api["alice"].post(f"/api/v1/grab-windows/{listed.pk}/close/"), 403)
    close.window_close(window_id=listed.pk, user=alloc.manager)
    assert (
        alloc.api["manager"].get("/api/v1/grab-windows/?status=closed").json()["results"][0]["id"]
        == listed.pk
    )


def test_list_queries_do_not_grow_with_the_rows(alloc):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    manager = alloc.api["manager"]
    urls = ("/api/v1/grab-windows/", "/api/v1/grab-requests/", "/api/v1/replenishment-orders/")

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert manager.get(url).status_code == 200
        return len(queries.captured_queries)

    window = alloc.open_window(offers=None)
    _grab(alloc.api["alice"], window, alloc.store_a, alloc.goods, 2)
    manager.post(f"/api/v1/grab-windows/{window.pk}/close/")
    few = {url: count(url) for url in urls}
    second = alloc.open_window()
    for name, store in (("alice", alloc.store_a), ("bob", alloc.store_b), ("carol", alloc.store_c)):
        _grab(alloc.api[name], second, store, alloc.goods, 3)
    manager.post(f"/api/v1/grab-windows/{second.pk}/close/")
    assert {url: count(url) for url in urls} == few


def test_close_refuses_a_window_not_open_yet_or_cancelled(alloc):
    from allocation.services import windows

    now = timezone.now()
    later = alloc.open_window(
        opens_at=now + datetime.timedelta(hours=1), closes_at=now + datetime.timedelta(hours=2)
    )
    assert later.status == GrabWindow.Status.SCHEDULED
    manager = alloc.api["manager"]
    assert_error_body(manager.post(f"/api/v1/grab-windows/{later.pk}/close/"), 409, "invalid_state")
    later.refresh_from_db()
    assert later.status == GrabWindow.Status.SCHEDULED
    cancelled = alloc.open_window()
    windows.window_cancel(window_id=cancelled.pk, user=alloc.manager)
    assert_error_body(
        manager.post(f"/api/v1/grab-windows/{cancelled.pk}/close/"), 409, "invalid_state"
    )
    cancelled.refresh_from_db()
    assert cancelled.status == GrabWindow.Status.CANCELLED
    assert not ReplenishmentOrder.objects.exists()


def test_receiving_one_line_twice_is_refused_not_the_last_one_kept(alloc):
    # given a shipped order
    order_a, _order_b = _closed_with_orders(alloc)
    manager, alice = alloc.api["manager"], alloc.api["alice"]
    url = f"/api/v1/replenishment-orders/{order_a.pk}/"
    manager.post(url + "ship/")
    line = order_a.lines.first()
    # when the store names one line twice with different figures
    twice = {
        "lines": [
            {"line": line.pk, "received": line.quantity},
            {"line": line.pk, "received": line.quantity - 1},
        ]
    }
    refused = assert_error_body(alice.post(url + "receive/", twice, format="json"), 400)
    # then it is refused on the lines, as a store return naming a line twice is
    assert "lines" in refused["fields"]
    order_a.refresh_from_db()
    assert order_a.status == "shipped"
    assert not OrderEvent.objects.filter(order=order_a, kind="received").exists()
