"""Shops, listings, bindings (request, preview, confirm by a second person, rollback), sync
records and platform orders (confirm) over the API: the channels_sync services, the screens'
permissions, the one error body, nothing written on a refusal."""

from __future__ import annotations

import pytest

from api.tests.test_foundations import assert_error_body
from channels_sync.models import (
    Binding,
    BindingChange,
    Listing,
    ListingLinkEvent,
    LogisticsRule,
    Order,
    SyncRecord,
)
from channels_sync.services.orders import orders_pull
from channels_sync.tests.conftest import _local_platforms_only, fake_shop_orders  # noqa: F401
from channels_sync.tests.factories import BindingFactory, ListingFactory, ShopFactory
from channels_sync.tests.order_helpers import order_world, source
from inventory.tests.factories import GoodsFactory
from warehouses.tests.factories import WarehouseFactory


@pytest.fixture
def shop(db):
    shop = ShopFactory(requires_review=True, credentials={"access_token": "shpat_secret"})
    shop.warehouse = WarehouseFactory(code="SYD")
    BindingFactory(shop=shop, warehouse=shop.warehouse, priority=1)
    return shop


def test_shops_never_show_credentials(client_for, shop):
    operator = client_for("channel")
    listed = operator.get("/api/v1/shops/")
    assert listed.status_code == 200
    assert "shpat_secret" not in listed.content.decode()
    assert operator.get(f"/api/v1/shops/{shop.pk}/").json()["name"] == shop.name
    assert_error_body(client_for("store").get("/api/v1/shops/"), 403, "permission_denied")
    assert_error_body(operator.get("/api/v1/shops/999999/"), 404)


def test_listing_link_and_unlink(client_for, shop):
    operator = client_for("channel")
    listing = ListingFactory(shop=shop, goods=None, matched_by="")
    goods = GoodsFactory(sku="TEA-1")
    queue = operator.get(f"/api/v1/listings/?shop={shop.pk}&is_matched=false").json()
    assert [row["id"] for row in queue["results"]] == [listing.pk]
    url = f"/api/v1/listings/{listing.pk}/"
    linked = operator.post(url + "link/", {"goods": goods.pk}, format="json")
    assert linked.status_code == 200 and linked.json()["goods_sku"] == "TEA-1"
    assert linked.json()["matched_by"] == "manual"
    unlinked = operator.post(url + "unlink/")
    assert unlinked.status_code == 200 and unlinked.json()["goods"] is None
    assert ListingLinkEvent.objects.filter(listing=listing).count() == 2


def test_listing_refusals_write_nothing(client_for, shop):
    operator = client_for("channel")
    listing = ListingFactory(shop=shop, goods=None, matched_by="")
    url = f"/api/v1/listings/{listing.pk}/"
    inactive = GoodsFactory(is_active=False)
    refused = assert_error_body(
        operator.post(url + "link/", {"goods": inactive.pk}, format="json"), 400, "channel_error"
    )
    assert "goods" in refused["fields"]
    assert_error_body(operator.post(url + "link/", {"goods": 999999}, format="json"), 400)
    assert_error_body(operator.post(url + "link/", {"goods": "x"}, format="json"), 400)
    assert_error_body(operator.post(url + "unlink/"), 409, "channel_error")
    # the warehouse manager reads listings but does not link them
    manager = client_for("manager")
    assert_error_body(manager.post(url + "link/", {"goods": GoodsFactory().pk}, format="json"), 403)
    assert_error_body(client_for("store").get("/api/v1/listings/"), 403)
    listing.refresh_from_db()
    assert listing.goods_id is None
    assert not ListingLinkEvent.objects.exists()


def test_binding_change_needs_a_second_person_and_rolls_back(client_for, shop):
    operator, manager = client_for("channel"), client_for("manager")
    melbourne = WarehouseFactory(code="MEL")
    body = {"op": "bind", "warehouse": melbourne.pk, "priority": 2}
    preview = operator.post(f"/api/v1/shops/{shop.pk}/binding-changes/preview/", body, "json")
    assert preview.status_code == 200 and preview.json() == []
    requested = operator.post(f"/api/v1/shops/{shop.pk}/binding-changes/", body, format="json")
    assert requested.status_code == 201, requested.json()
    change = requested.json()
    assert change["status"] == "pending"
    assert Binding.objects.filter(shop=shop).count() == 1
    url = f"/api/v1/binding-changes/{change['id']}/"
    # the requester may not confirm his own change, and an operator lacks confirm_binding
    assert_error_body(operator.post(url + "confirm/"), 403)
    confirmed = manager.post(url + "confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "applied"
    state = operator.get(f"/api/v1/shops/{shop.pk}/bindings/").json()
    assert {w["warehouse"] for w in state["warehouses"]} == {shop.warehouse.pk, melbourne.pk}
    assert_error_body(manager.post(url + "confirm/"), 409, "channel_error")
    rollback = operator.post(url + "rollback/")
    assert rollback.status_code == 201 and rollback.json()["action"] == "rollback"
    history = operator.get(f"/api/v1/shops/{shop.pk}/binding-changes/?status=pending").json()
    assert [c["id"] for c in history["results"]] == [rollback.json()["id"]]


def test_binding_change_refusals_write_nothing(client_for, shop):
    operator = client_for("channel")
    url = f"/api/v1/shops/{shop.pk}/binding-changes/"
    same = {"op": "bind", "warehouse": shop.warehouse.pk, "priority": 1}
    assert_error_body(operator.post(url, same, format="json"), 409, "channel_error")
    assert_error_body(operator.post(url, {"op": "bind", "warehouse": 999999}, "json"), 400)
    assert_error_body(operator.post(url, {"op": "explode", "warehouse": 1}, "json"), 400)
    exception = {"op": "exception", "warehouse": shop.warehouse.pk, "mode": "allotment"}
    assert_error_body(operator.post(url, exception, format="json"), 400)
    assert_error_body(client_for("manager").post(url, same, format="json"), 403)
    assert_error_body(client_for("channel", "op2").post("/api/v1/shops/999/binding-changes/"), 404)
    assert not BindingChange.objects.exists()


def test_sync_records_are_listed_with_filters(client_for, shop):
    listing = ListingFactory(shop=shop)
    for state in ("success", "failure"):
        SyncRecord.objects.create(
            shop=shop,
            listing=listing,
            goods=listing.goods,
            quantity=3,
            inputs={},
            trigger="auto",
            status=state,
            message="" if state == "success" else "HTTP 500",
        )
    manager = client_for("manager")
    failed = manager.get(f"/api/v1/sync-records/?shop={shop.pk}&status=failure").json()
    assert [r["message"] for r in failed["results"]] == ["HTTP 500"]
    assert_error_body(manager.get("/api/v1/sync-records/?status=lost"), 400, "invalid")
    assert_error_body(client_for("staff").get("/api/v1/sync-records/"), 403)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_platform_order_is_confirmed_once(client_for, fake_shop_orders):  # noqa: F811
    # given a reserved order pulled from the shop, and a local delivery rule
    shop, *_rest = order_world(fake_shop_orders)
    fake_shop_orders.add_order(
        [("A", 1)], address=("Mia", "1 George St", "Sydney", "NSW", "2000", "AU")
    )
    orders_pull(shop.pk, source=source(shop))
    order = Order.objects.get()
    assert order.status == "reserved"
    LogisticsRule.objects.create(name="Local", priority=1, method="local_delivery")
    operator = client_for("channel")
    # a store manager cannot reach orders; a warehouse clerk cannot confirm
    assert_error_body(client_for("store").get("/api/v1/orders/"), 403)
    assert_error_body(client_for("staff").post(f"/api/v1/orders/{order.pk}/confirm/"), 403)
    # when confirmed (the booking task runs eagerly)
    url = f"/api/v1/orders/{order.pk}/confirm/"
    confirmed = operator.post(url, HTTP_IDEMPOTENCY_KEY="confirm-1")
    # then
    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json()["status"] in {"confirmed", "shipped"}
    assert confirmed.json()["shipment"]["method"] == "local_delivery"
    assert operator.post(url, HTTP_IDEMPOTENCY_KEY="confirm-1")["Idempotent-Replayed"] == "true"
    refused = assert_error_body(operator.post(url), 409, "channel_error")
    assert "only reserved orders" in refused["message"]
    # nothing failed: there is nothing to retry
    retry = f"/api/v1/orders/{order.pk}/shipment-retry/"
    assert_error_body(operator.post(retry), 409, "channel_error")
    assert_error_body(client_for("staff", "staff2").post(retry), 403)
    listed = operator.get(f"/api/v1/orders/?shop={shop.pk}").json()["results"]
    assert [o["id"] for o in listed] == [order.pk]
    assert Listing.objects.filter(shop=shop).count() == 2


def test_list_queries_do_not_grow_with_the_rows(client_for, shop):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    operator = client_for("channel")
    for _ in range(3):
        listing = ListingFactory(shop=shop)
        SyncRecord.objects.create(
            shop=shop,
            listing=listing,
            goods=listing.goods,
            quantity=1,
            inputs={},
            trigger="auto",
            status="failure",
        )

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert operator.get(url).status_code == 200
        return len(queries.captured_queries)

    operator.get("/api/v1/shops/")  # the token's first use records its time: one query more
    few = {url: count(url) for url in ("/api/v1/listings/", "/api/v1/sync-records/")}
    for _ in range(10):
        listing = ListingFactory(shop=shop)
        SyncRecord.objects.create(
            shop=shop,
            listing=listing,
            goods=listing.goods,
            quantity=1,
            inputs={},
            trigger="auto",
            status="failure",
        )
    assert {url: count(url) for url in few} == few


def test_allotment_cap_is_the_ledger_maximum_as_on_the_screen(client_for, shop):
    # given the bindings screen accepts an allotment up to the ledger's MAX_QUANTITY
    from inventory.ledger import MAX_QUANTITY

    operator = client_for("channel")
    url = f"/api/v1/shops/{shop.pk}/binding-changes/"
    goods = GoodsFactory(sku="BIG-1")
    body = {"op": "exception", "warehouse": shop.warehouse.pk, "goods": goods.pk}
    # when the API is sent one unit past the cap, then it is refused with nothing written
    over = {**body, "mode": "allotment", "allotment": MAX_QUANTITY + 1}
    refused = assert_error_body(operator.post(url, over, format="json"), 400)
    assert "allotment" in refused["fields"]
    assert not BindingChange.objects.exists()
    # when it is sent the cap itself, then it is requested like on the screen
    at_cap = {**body, "mode": "allotment", "allotment": MAX_QUANTITY}
    requested = operator.post(url, at_cap, format="json")
    assert requested.status_code == 201, requested.json()
    assert BindingChange.objects.count() == 1


def test_shops_are_listed_in_the_order_the_schema_documents(client_for, db):
    # given two shops, the newer named first in the alphabet
    older, newer = ShopFactory(name="Zebra shop"), ShopFactory(name="Apple shop")
    operator = client_for("channel")
    # when listed, then newest first, as the schema documents it
    listed = operator.get("/api/v1/shops/").json()["results"]
    assert [s["id"] for s in listed] == [newer.pk, older.pk]
    schema = operator.get("/api/schema/?format=json").json()
    assert "newest first" in schema["paths"]["/api/v1/shops/"]["get"]["description"]
