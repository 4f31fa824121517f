"""Stock endpoints call the same services as the screens: receipts, shipments, sheets with
lines, post, reverse, transfers, counts; idempotent postings; bad quantities write nothing."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from api.models import IdempotencyRecord
from api.tests.test_foundations import assert_error_body
from inventory.models import InboundSheet, OutboundSheet, StockBalance, StockMovement


def _shipment(world, quantity=2, **extra):
    return {
        "warehouse": world.warehouse.pk,
        "lines": [{"goods": world.goods.pk, "quantity": quantity}],
        **extra,
    }


def test_receipt_posts_an_inbound_sheet_in_one_request(client_for, world):
    client = client_for("staff")
    body = {
        "warehouse": world.warehouse.pk,
        "type": "purchase",
        "reference": "PO-1",
        "lines": [
            {"goods": world.goods.pk, "bin": world.bin2.pk, "quantity": 7, "batch_no": "NEW-B"}
        ],
    }
    response = client.post("/api/v1/receipts/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "posted"
    balance = StockBalance.objects.get(goods=world.goods, bin=world.bin2)
    assert balance.on_hand == 7 and balance.batch.batch_no == "NEW-B"


def test_shipment_posts_and_movements_show_it(client_for, world):
    client = client_for("staff")
    response = client.post("/api/v1/shipments/", _shipment(world, 3), format="json")
    assert response.status_code == 201, response.json()
    world.balance.refresh_from_db()
    assert world.balance.on_hand == 97
    movements = client.get("/api/v1/movements/", {"document": response.json()["number"]}).json()
    assert [m["on_hand_delta"] for m in movements["results"]] == [-3]


def test_shipment_short_of_stock_is_409_and_writes_nothing(client_for, world):
    client = client_for("staff")
    sheets, moves = OutboundSheet.objects.count(), StockMovement.objects.count()
    response = client.post("/api/v1/shipments/", _shipment(world, 101), format="json")
    body = assert_error_body(response, 409, "insufficient_stock")
    assert "101" in body["message"]
    assert OutboundSheet.objects.count() == sheets
    assert StockMovement.objects.count() == moves


@pytest.mark.parametrize("quantity", [-1, 0, 1.5, "2", True, None, 10**12])
def test_bad_quantities_are_400_and_write_nothing(client_for, world, quantity):
    client = client_for("staff")
    moves = StockMovement.objects.count()
    response = client.post("/api/v1/shipments/", _shipment(world, quantity), format="json")
    body = assert_error_body(response, 400, "invalid")
    assert "lines.0.quantity" in body["fields"]
    assert StockMovement.objects.count() == moves
    assert not OutboundSheet.objects.exists()


def test_sheet_lifecycle_create_lines_post_reverse(client_for, world):
    client = client_for("manager")
    sheet = client.post(
        "/api/v1/inbound-sheets/",
        {"warehouse": world.warehouse.pk, "type": "purchase"},
        format="json",
    ).json()
    url = f"/api/v1/inbound-sheets/{sheet['id']}/"
    added = client.post(
        url + "lines/", {"goods": world.goods.pk, "bin": world.bin.pk, "quantity": 5}, format="json"
    )
    assert added.status_code == 201 and len(added.json()["lines"]) == 1
    posted = client.post(url + "post/")
    assert posted.status_code == 200 and posted.json()["status"] == "posted"
    world.balance.refresh_from_db()
    again = client.post(url + "post/")
    assert_error_body(again, 409, "already_posted")
    late_line = client.post(
        url + "lines/", {"goods": world.goods.pk, "bin": world.bin.pk, "quantity": 1}, format="json"
    )
    assert_error_body(late_line, 409, "not_allowed")
    reversal = client.post(url + "reverse/", {"reason": "Keyed twice"}, format="json")
    assert reversal.status_code == 201, reversal.json()
    assert reversal.json()["reversal_of"] == sheet["id"]
    no_reason = client.post(url + "reverse/", {}, format="json")
    assert_error_body(no_reason, 400, "invalid")


def test_staff_cannot_post_a_count(client_for, world):
    staff = client_for("staff")
    count = staff.post(
        "/api/v1/counts/", {"warehouse": world.warehouse.pk, "reason": "Monthly"}, format="json"
    )
    assert count.status_code == 201
    url = f"/api/v1/counts/{count.json()['id']}/"
    assert (
        staff.post(
            url + "lines/",
            {"goods": world.goods.pk, "bin": world.bin.pk, "counted": 90, "batch": world.batch.pk},
            format="json",
        ).status_code
        == 201
    )
    assert_error_body(staff.post(url + "post/"), 403, "permission_denied")
    manager = client_for("manager")
    assert manager.post(url + "post/").json()["status"] == "posted"
    world.balance.refresh_from_db()
    assert world.balance.on_hand == 90


def test_bin_transfer_moves_stock(client_for, world):
    client = client_for("staff")
    body = {
        "goods": world.goods.pk,
        "from_bin": world.bin.pk,
        "to_bin": world.bin2.pk,
        "quantity": 4,
        "batch": world.batch.pk,
    }
    response = client.post("/api/v1/transfers/bin/", body, format="json")
    assert response.status_code == 201, response.json()
    assert StockBalance.objects.get(bin=world.bin2, goods=world.goods).on_hand == 4


def test_warehouse_transfer_ship_and_receive(client_for, world):
    from warehouses.tests.factories import BinFactory

    far_bin = BinFactory()
    client = client_for("manager")
    transfer = client.post(
        "/api/v1/transfers/",
        {"from_warehouse": world.warehouse.pk, "to_warehouse": far_bin.warehouse.pk},
        format="json",
    ).json()
    url = f"/api/v1/transfers/{transfer['id']}/"
    lines = client.post(
        url + "lines/",
        {
            "goods": world.goods.pk,
            "from_bin": world.bin.pk,
            "quantity": 10,
            "batch": world.batch.pk,
        },
        format="json",
    ).json()["lines"]
    assert client.post(url + "ship/").json()["status"] == "in_transit"
    received = client.post(
        url + "receive/",
        {"lines": [{"line": lines[0]["id"], "to_bin": far_bin.pk, "quantity": 10}]},
        format="json",
    )
    assert received.status_code == 200, received.json()
    assert StockBalance.objects.get(bin=far_bin).on_hand == 10


def test_balances_use_the_stock_query_filters_and_groups(client_for, world):
    from inventory.tests.factories import GoodsFactory, receive_stock

    other = GoodsFactory(sku="PHONE-1")
    receive_stock(other, world.bin2, 3)
    client = client_for("staff")
    rows = client.get("/api/v1/balances/", {"q": "LIP"}).json()["results"]
    assert [(r["sku"], r["on_hand"], r["available"]) for r in rows] == [("LIP-001", 100, 100)]
    grouped = client.get("/api/v1/balances/", {"group": "warehouse"}).json()["results"]
    assert {r["sku"] for r in grouped} == {"LIP-001", "PHONE-1"}
    bad = client.get("/api/v1/balances/", {"warehouse": "999999999"})
    assert_error_body(bad, 400, "invalid")


# --------------------------------------------------------------------------------------------
# Idempotency-Key
# --------------------------------------------------------------------------------------------


def test_same_key_and_body_returns_the_first_result_and_posts_once(client_for, world):
    client = client_for("staff")
    first = client.post(
        "/api/v1/shipments/", _shipment(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    second = client.post(
        "/api/v1/shipments/", _shipment(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert OutboundSheet.objects.count() == 1
    world.balance.refresh_from_db()
    assert world.balance.on_hand == 98


def test_same_key_other_body_is_409_and_posts_nothing(client_for, world):
    client = client_for("staff")
    client.post("/api/v1/shipments/", _shipment(world), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    moves = StockMovement.objects.count()
    response = client.post(
        "/api/v1/shipments/", _shipment(world, 5), format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert_error_body(response, 409, "idempotency_conflict")
    assert StockMovement.objects.count() == moves
    assert OutboundSheet.objects.count() == 1


def test_keys_belong_to_their_user(client_for, world):
    one, two = client_for("staff", "one"), client_for("staff", "two")
    assert (
        one.post(
            "/api/v1/shipments/", _shipment(world), format="json", HTTP_IDEMPOTENCY_KEY="same"
        ).status_code
        == 201
    )
    assert (
        two.post(
            "/api/v1/shipments/", _shipment(world), format="json", HTTP_IDEMPOTENCY_KEY="same"
        ).status_code
        == 201
    )
    assert OutboundSheet.objects.count() == 2


def test_a_refused_posting_keeps_no_key_so_a_retry_can_succeed(client_for, world):
    client = client_for("staff")
    short = client.post(
        "/api/v1/shipments/", _shipment(world, 150), format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    assert short.status_code == 409
    assert not IdempotencyRecord.objects.filter(key="k-3").exists()
    from inventory.tests.factories import receive_stock

    receive_stock(world.goods, world.bin, 100, batch=world.batch)
    retry = client.post(
        "/api/v1/shipments/", _shipment(world, 150), format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    assert retry.status_code == 201


def test_an_absurd_key_is_400(client_for, world):
    client = client_for("staff")
    response = client.post(
        "/api/v1/shipments/", _shipment(world), format="json", HTTP_IDEMPOTENCY_KEY="x" * 300
    )
    assert_error_body(response, 400, "invalid_idempotency_key")
    assert not OutboundSheet.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_post_once(make_user):
    """Eight threads (own connections) send the same key and body at once: one posting."""
    from rest_framework.test import APIClient

    from api import tokens
    from api.tests.conftest import World

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    world = World()
    user = make_user("staff")
    _token, raw = tokens.token_create(user=user, name="race")
    results: list[int] = []
    barrier = threading.Barrier(8)

    def send() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        barrier.wait()
        response = client.post(
            "/api/v1/shipments/", _shipment(world), format="json", HTTP_IDEMPOTENCY_KEY="race"
        )
        results.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [201] * 8
    assert OutboundSheet.objects.count() == 1
    assert StockBalance.objects.get(pk=world.balance.pk).on_hand == 98


def test_inbound_sheet_list_is_paged_with_lines(client_for, world):
    client = client_for("staff")
    for _ in range(3):
        client.post(
            "/api/v1/inbound-sheets/",
            {"warehouse": world.warehouse.pk, "type": "purchase"},
            format="json",
        )
    page = client.get("/api/v1/inbound-sheets/", {"limit": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    assert InboundSheet.objects.count() == 3


def test_balance_pages_cost_a_constant_number_of_queries(
    client_for, world, django_assert_num_queries
):
    from inventory.tests.factories import GoodsFactory, receive_stock

    for _ in range(12):
        receive_stock(GoodsFactory(), world.bin, 3)
    client = client_for("staff")
    client.get("/api/v1/balances/")  # token's last use recorded: later requests do not write
    # token with its user, the two permission queries, the page
    with django_assert_num_queries(4) as first:
        page = client.get("/api/v1/balances/", {"limit": 4}).json()
    with django_assert_num_queries(len(first.captured_queries)):
        deeper = client.get(page["next"]).json()
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(deeper["next"])
