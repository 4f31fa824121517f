"""Store returns over the API: a store files a return against one of its received orders, the
warehouse receives it into a bin as an inbound sales return; the screens' services,
permissions and store scoping (another store's return or order is a 404), refusals in the one
error body with nothing written, and Idempotency-Key on both POSTs."""

from __future__ import annotations

import pytest

from allocation.models import OrderEvent, ReplenishmentOrder, StoreReturn
from allocation.services import close, grabs, orders
from allocation.tests.conftest import World
from api.tests.conftest import token_client
from api.tests.test_foundations import assert_error_body
from inventory.models import InboundSheet, StockBalance
from warehouses.tests.factories import BinFactory

URL = "/api/v1/store-returns/"


@pytest.fixture
def alloc(db, make_user):
    world = World(make_user)
    world.clerk = make_user("staff", "clerk")
    world.api = {
        name: token_client(getattr(world, name)) for name in ("manager", "alice", "bob", "clerk")
    }
    return world


def _orders(alloc, *, receive: bool = True) -> tuple[ReplenishmentOrder, ReplenishmentOrder]:
    """Alice's order of 10 TEA and bob's of 5, shipped and (unless told) received in full."""
    window = alloc.open_window()
    for user, store, quantity in ((alloc.alice, alloc.store_a, 10), (alloc.bob, alloc.store_b, 5)):
        grabs.grab_request_submit(
            user=user, store=store, window=window, goods_id=alloc.goods.pk, quantity=quantity
        )
    close.window_close(window_id=window.pk)
    made = []
    for user, store in ((alloc.alice, alloc.store_a), (alloc.bob, alloc.store_b)):
        order = ReplenishmentOrder.objects.get(store=store)
        orders.order_ship(order_id=order.pk, user=alloc.manager)
        if receive:
            orders.order_receive(order_id=order.pk, user=user, received={})
        made.append(order)
    return made[0], made[1]


def _lines(order, quantity) -> list[dict]:
    return [{"line": line.pk, "quantity": quantity} for line in order.lines.all()[:1]]


def _file(client, order, quantity=2, key=None, **extra):
    body = {"order": order.pk, "lines": _lines(order, quantity), "reason": "damaged", **extra}
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(URL, body, format="json", **headers)


def _on_hand() -> int:
    return sum(StockBalance.objects.filter(bin__isnull=False).values_list("on_hand", flat=True))


def test_a_store_files_a_return_and_the_warehouse_receives_it_into_a_bin(alloc):
    order_a, _order_b = _orders(alloc)
    alice, clerk = alloc.api["alice"], alloc.api["clerk"]
    # when alice files a return of 2 units
    filed = _file(alice, order_a, 2, note="Crushed in transit")
    # then it is filed on the order's timeline, nothing received yet
    assert filed.status_code == 201, filed.json()
    data = filed.json()
    assert data["status"] == "filed" and data["reason"] == "damaged" and data["units"] == 2
    assert data["ref"].startswith("SR") and data["order_ref"] == order_a.ref
    assert data["store_code"] == "A01" and data["filed_by"] == "alice"
    assert [(row["sku"], row["quantity"]) for row in data["lines"]] == [("TEA", 2)]
    assert data["note"] == "Crushed in transit" and data["inbound_sheet"] is None
    assert OrderEvent.objects.filter(order=order_a, kind="return_filed").count() == 1
    # when a warehouse clerk receives it into a bin of the order's warehouse
    before = _on_hand()
    url = f"{URL}{data['id']}/receive/"
    received = clerk.post(url, {"bin": alloc.bin.pk}, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    # then the 2 units are back in stock through a posted inbound sales-return sheet
    assert received.status_code == 200, received.json()
    out = received.json()
    assert out["status"] == "received" and out["received_by"] == "clerk"
    sheet = InboundSheet.objects.get(pk=out["inbound_sheet"])
    assert sheet.type == InboundSheet.Type.SALES_RETURN and sheet.status == "posted"
    assert _on_hand() == before + 2
    # the same key replays the answer; receiving again is refused, nothing posted twice
    replay = clerk.post(url, {"bin": alloc.bin.pk}, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    assert_error_body(clerk.post(url, {"bin": alloc.bin.pk}, format="json"), 409, "invalid_state")
    assert _on_hand() == before + 2
    assert OrderEvent.objects.filter(order=order_a, kind="return_received").count() == 1


def test_returns_are_read_within_the_users_stores(alloc):
    order_a, order_b = _orders(alloc)
    mine = _file(alloc.api["alice"], order_a).json()
    bobs = _file(alloc.api["bob"], order_b, 1).json()
    # a store manager lists and reads his own stores' returns; another store's is a 404
    listed = alloc.api["alice"].get(URL).json()["results"]
    assert [r["id"] for r in listed] == [mine["id"]] and listed[0]["units"] == 2
    assert_error_body(alloc.api["alice"].get(f"{URL}{bobs['id']}/"), 404)
    assert alloc.api["alice"].get(f"{URL}{mine['id']}/").json()["lines"][0]["quantity"] == 2
    # the warehouse sees every store's, filtered by store, order and status
    clerk = alloc.api["clerk"]
    assert {r["id"] for r in clerk.get(URL).json()["results"]} == {mine["id"], bobs["id"]}
    by_store = clerk.get(URL, {"store": alloc.store_b.pk}).json()["results"]
    assert [r["id"] for r in by_store] == [bobs["id"]]
    by_order = clerk.get(URL, {"order": order_a.pk}).json()["results"]
    assert [r["id"] for r in by_order] == [mine["id"]]
    assert clerk.get(URL, {"status": "received"}).json()["results"] == []
    assert_error_body(clerk.get(URL, {"status": "lost"}), 400, "invalid")
    assert_error_body(clerk.get(f"{URL}999999/"), 404)


def test_filing_refusals_answer_in_the_one_body_and_write_nothing(alloc):
    order_a, order_b = _orders(alloc)
    alice = alloc.api["alice"]
    # another store's order reads as missing
    assert_error_body(_file(alice, order_b), 404)
    # more than arrived, nothing at all
    assert_error_body(_file(alice, order_a, 11), 400, "invalid_quantity")
    assert_error_body(_file(alice, order_a, 0), 400, "invalid_quantity")
    # a line of another order
    other_line = {"order": order_a.pk, "lines": _lines(order_b, 1), "reason": "damaged"}
    assert_error_body(alice.post(URL, other_line, format="json"), 409, "not_allowed")
    # malformed input: a reason not on the list, a line twice, a fraction, an unknown field
    assert_error_body(_file(alice, order_a, reason="bored"), 400, "invalid")
    twice = {"order": order_a.pk, "lines": _lines(order_a, 1) * 2, "reason": "damaged"}
    assert_error_body(alice.post(URL, twice, format="json"), 400, "invalid")
    assert_error_body(_file(alice, order_a, 1.5), 400, "invalid")
    assert_error_body(_file(alice, order_a, extra_field=1), 400, "invalid")
    assert_error_body(_file(alice, order_a, note="x" * 256), 400, "invalid")
    assert not StoreReturn.objects.exists()
    assert not OrderEvent.objects.filter(kind="return_filed").exists()


def test_an_order_not_received_yet_takes_no_return(alloc):
    order_a, _order_b = _orders(alloc, receive=False)
    assert_error_body(_file(alloc.api["alice"], order_a), 409, "invalid_state")
    assert not StoreReturn.objects.exists()


def test_filing_and_receiving_need_the_screens_permissions(alloc):
    order_a, _order_b = _orders(alloc)
    # a warehouse clerk does not file returns (no add_storereturn)
    assert_error_body(_file(alloc.api["clerk"], order_a), 403, "permission_denied")
    filed = _file(alloc.api["alice"], order_a).json()
    url = f"{URL}{filed['id']}/receive/"
    # a store manager does not receive at the warehouse (no receive_return)
    refused = alloc.api["alice"].post(url, {"bin": alloc.bin.pk}, format="json")
    assert_error_body(refused, 403, "permission_denied")
    # another store's manager is refused before the return is looked up
    assert_error_body(alloc.api["bob"].post(url, {"bin": alloc.bin.pk}, format="json"), 403)
    assert StoreReturn.objects.get().status == "filed"


def test_receiving_into_a_wrong_bin_is_refused_and_posts_nothing(alloc):
    order_a, _order_b = _orders(alloc)
    filed = _file(alloc.api["alice"], order_a).json()
    url = f"{URL}{filed['id']}/receive/"
    clerk = alloc.api["clerk"]
    before = _on_hand()
    elsewhere = BinFactory()  # a bin of another warehouse
    closed = BinFactory(zone=alloc.bin.zone, is_active=False)
    for bin_id in (elsewhere.pk, closed.pk, 999_999):
        body = assert_error_body(clerk.post(url, {"bin": bin_id}, format="json"), 400, "invalid")
        assert list(body["fields"]) == ["bin"]
    assert_error_body(clerk.post(url, {"bin": "A-01"}, format="json"), 400, "invalid")
    assert_error_body(clerk.post(f"{URL}999999/receive/", {"bin": alloc.bin.pk}), 404)
    assert StoreReturn.objects.get().status == "filed"
    assert _on_hand() == before and not InboundSheet.objects.filter(type="sales_return").exists()


def test_filing_with_the_same_key_files_once(alloc):
    order_a, _order_b = _orders(alloc)
    alice = alloc.api["alice"]
    first = _file(alice, order_a, 2, key="ret-1")
    again = _file(alice, order_a, 2, key="ret-1")
    assert first.status_code == 201 and again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert_error_body(_file(alice, order_a, 3, key="ret-1"), 409, "idempotency_conflict")
    assert StoreReturn.objects.count() == 1


def test_the_return_list_costs_the_same_queries_for_more_returns(alloc):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    order_a, order_b = _orders(alloc)
    clerk = alloc.api["clerk"]
    clerk.get("/api/v1/stores/")  # the token's last use recorded

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert clerk.get(URL).status_code == 200
        return len(queries.captured_queries)

    _file(alloc.api["alice"], order_a, 1)
    one = cost()
    _file(alloc.api["alice"], order_a, 1)
    _file(alloc.api["bob"], order_b, 1)
    assert cost() == one
