import base64
import hashlib
import hmac
import json

import pytest
from django.urls import reverse

from channels_sync.models import Order, OrderPull, ShopOrderSettings
from channels_sync.services import order_pages
from channels_sync.services.orders import orders_pull
from channels_sync.tests.order_helpers import order_world, reserved, source
from inventory.models import StockMovement

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SYDNEY_ADDRESS = ("Mia Chen", "12 George St", "Sydney", "NSW", "2000", "AU")
MELBOURNE_ADDRESS = ("Liam Smith", "5 Collins St", "Melbourne", "VIC", "3000", "AU")


def test_pull_creates_orders_reserved_in_the_nearest_warehouse(fake_shop_orders):
    shop, wh_syd, wh_mel, *_rest, goods = order_world(fake_shop_orders)
    fake_shop_orders.add_order([("A", 2), ("B", 1)], address=SYDNEY_ADDRESS, price="12.50")
    fake_shop_orders.add_order([("A", 1)], address=MELBOURNE_ADDRESS)
    pull = orders_pull(shop.pk, source=source(shop))
    assert (pull.status, pull.new, pull.updated, pull.unchanged, pull.failed) == (
        "done",
        2,
        0,
        0,
        0,
    )
    sydney_order = Order.objects.get(name="#5001")
    assert sydney_order.status == Order.Status.RESERVED
    assert sydney_order.warehouse == wh_syd
    assert sydney_order.filled_complete
    assert str(sydney_order.weight) == "1.500"
    assert str(sydney_order.total) == "37.50"
    assert (sydney_order.country, sydney_order.postcode) == ("AU", "2000")
    assert Order.objects.get(name="#5002").warehouse == wh_mel
    assert reserved(goods["A"], wh_syd) == 2 and reserved(goods["A"], wh_mel) == 1
    assert ShopOrderSettings.objects.get(shop=shop).last_pull_at is not None


def test_same_order_in_two_overlapping_pulls_is_one_order_one_reservation(fake_shop_orders):
    shop, _syd, _mel, *_rest, goods = order_world(fake_shop_orders)
    fake_shop_orders.add_order([("A", 3)], address=SYDNEY_ADDRESS)
    first = orders_pull(shop.pk, source=source(shop))
    second = orders_pull(shop.pk, source=source(shop))  # since = last pull - overlap: same order
    assert first.new == 1 and second.new == 0 and second.unchanged == 1, second.message
    assert Order.objects.count() == 1
    assert reserved(goods["A"]) == 3
    assert StockMovement.objects.filter(kind="reserve").count() == 1


def test_pull_crashing_half_way_then_rerun_leaves_one_order_one_reservation(
    fake_shop_orders, monkeypatch
):
    # given: routing the second order crashes (the whole page is then retried order by order)
    shop, _syd, _mel, *_rest, goods = order_world(fake_shop_orders)
    for _n in range(3):
        fake_shop_orders.add_order([("A", 1)], address=SYDNEY_ADDRESS)
    real = order_pages.orders_route

    def crash_on_second(**kwargs):
        if any(o.name == "#5002" for o in kwargs["orders"]):
            raise RuntimeError("worker died")
        return real(**kwargs)

    # when
    monkeypatch.setattr(order_pages, "orders_route", crash_on_second)
    crashed = orders_pull(shop.pk, source=source(shop))

    # then: the other two are stored and reserved, the second is not stored at all
    assert crashed.status == "failed" and crashed.failed == 1 and crashed.new == 2
    assert "#5002: worker died" in crashed.message
    assert not Order.objects.filter(name="#5002").exists()
    assert ShopOrderSettings.objects.get(shop=shop).last_pull_at is None  # cursor not moved
    monkeypatch.setattr(order_pages, "orders_route", real)
    rerun = orders_pull(shop.pk, source=source(shop))
    assert (rerun.status, rerun.new, rerun.unchanged) == ("done", 1, 2)
    assert Order.objects.count() == 3
    assert reserved(goods["A"]) == 3
    assert StockMovement.objects.filter(kind="reserve").count() == 3


def test_an_older_version_never_overwrites_a_newer_one(fake_shop_orders):
    shop, *_rest, goods = order_world(fake_shop_orders)
    order = fake_shop_orders.add_order([("A", 3)], address=SYDNEY_ADDRESS)
    old_page = next(source(shop).iter_order_pages(None))
    fake_shop_orders.edit_order(order.number, sku="A", quantity=1)
    orders_pull(shop.pk, source=source(shop))
    assert reserved(goods["A"]) == 1
    result = order_pages.order_upsert(shop=shop, incoming=old_page[0])
    assert result == "unchanged"
    assert Order.objects.get().lines.get().quantity == 1
    assert reserved(goods["A"]) == 1


def test_edit_and_cancel_on_the_platform_adjust_and_release_the_reservation(fake_shop_orders):
    shop, *_rest, goods = order_world(fake_shop_orders)
    order = fake_shop_orders.add_order([("A", 4)], address=SYDNEY_ADDRESS)
    orders_pull(shop.pk, source=source(shop))
    assert reserved(goods["A"]) == 4
    fake_shop_orders.edit_order(order.number, sku="A", quantity=2)
    pull = orders_pull(shop.pk, source=source(shop))
    assert pull.updated == 1 and reserved(goods["A"]) == 2
    fake_shop_orders.cancel_order(order.number)
    orders_pull(shop.pk, source=source(shop))
    local = Order.objects.get()
    assert local.status == Order.Status.CANCELLED and local.cancelled_on_platform
    assert reserved(goods["A"]) == 0


def test_order_moving_between_pages_while_paging_is_not_duplicated(fake_shop_orders):
    shop, *_rest, goods = order_world(fake_shop_orders, sydney=500)
    numbers = [
        fake_shop_orders.add_order([("A", 1)], address=SYDNEY_ADDRESS).number for _ in range(150)
    ]
    pages = source(shop).iter_order_pages(None)
    first = next(pages)
    fake_shop_orders.edit_order(numbers[0], sku="A", quantity=2)  # moves to the last page
    rest = [o for page in pages for o in page]
    assert len(first) == 25 and len(rest) == 126
    for incoming in first + rest:
        order_pages.order_upsert(shop=shop, incoming=incoming)
    assert Order.objects.count() == 150
    assert reserved(goods["A"]) == 151


def test_a_second_pull_of_the_same_shop_at_once_does_nothing(fake_shop_orders):
    from wms.locks import advisory_lock

    shop, *_rest = order_world(fake_shop_orders)
    with advisory_lock(f"channels_sync.orders_pull:{shop.pk}") as acquired:
        assert acquired
        import threading

        result = {}

        def other():
            from django.db import connection

            result["pull"] = orders_pull(shop.pk, source=source(shop))
            connection.close()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert result["pull"] is None
    assert not OrderPull.objects.exists()


def _webhook(client, shop, body: dict, secret: str, topic="orders/create", tamper=False):
    raw = json.dumps(body).encode()
    digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    if tamper:
        raw = raw.replace(b'"quantity": 2', b'"quantity": 9')
    return client.post(
        reverse("channels_sync:order-webhook", args=[shop.pk]),
        data=raw,
        content_type="application/json",
        HTTP_X_SHOPIFY_HMAC_SHA256=digest,
        HTTP_X_SHOPIFY_TOPIC=topic,
        HTTP_X_SHOPIFY_SHOP_DOMAIN=shop.domain,
    )


def _webhook_body(variant_number: int, *, updated="2026-11-29T10:00:00Z", cancelled=None):
    return {
        "id": 820982911946154508,
        "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
        "name": "#9999",
        "email": "jon@example.com",
        "created_at": "2026-11-29T09:59:00Z",
        "updated_at": updated,
        "cancelled_at": cancelled,
        "total_price": "20.00",
        "currency": "AUD",
        "customer": {"first_name": "Jon", "last_name": "Snow"},
        "shipping_address": {
            "name": "Jon Snow",
            "address1": "1 Pitt St",
            "city": "Sydney",
            "province_code": "NSW",
            "zip": "2000",
            "country_code": "AU",
        },
        "line_items": [
            {
                "id": 466157049,
                "admin_graphql_api_id": "gid://shopify/LineItem/466157049",
                "variant_id": variant_number,
                "sku": "A",
                "title": "A",
                "quantity": 2,
                "price": "10.00",
            }
        ],
    }


def test_webhook_verified_by_hmac_reserves_within_the_request_and_dedupes_with_the_pull(
    fake_shop_orders, client
):
    shop, wh_syd, *_rest, goods = order_world(fake_shop_orders)
    shop.credentials = {"access_token": "shpat_test", "webhook_secret": "hush"}
    shop.save()
    variant = next(v for v in fake_shop_orders.variants.values() if v.sku == "A")
    body = _webhook_body(variant.number)
    assert _webhook(client, shop, body, "wrong").status_code == 401
    assert _webhook(client, shop, body, "hush", tamper=True).status_code == 401
    assert not Order.objects.exists()
    assert _webhook(client, shop, body, "hush").status_code == 200
    assert _webhook(client, shop, body, "hush").status_code == 200  # delivered twice
    order = Order.objects.get()
    assert order.warehouse == wh_syd and reserved(goods["A"]) == 2
    cancelled = _webhook_body(
        variant.number, updated="2026-11-29T10:05:00Z", cancelled="2026-11-29T10:05:00Z"
    )
    assert _webhook(client, shop, cancelled, "hush", topic="orders/cancelled").status_code == 200
    assert Order.objects.get().status == Order.Status.CANCELLED
    assert reserved(goods["A"]) == 0
    assert OrderPull.objects.filter(trigger="webhook").count() == 3


def test_a_webhook_for_a_shop_whose_order_pull_is_off_is_acknowledged_and_ignored(
    fake_shop_orders, client
):
    # given: the merchant switched the shop's orders off; Shopify still delivers
    shop, *_rest, goods = order_world(fake_shop_orders)
    shop.credentials = {"access_token": "shpat_test", "webhook_secret": "hush"}
    shop.is_order_pull_enabled = False
    shop.save()
    variant = next(v for v in fake_shop_orders.variants.values() if v.sku == "A")
    body = _webhook_body(variant.number)

    # then: an unsigned delivery is still refused; a signed one is acknowledged, nothing written
    assert _webhook(client, shop, body, "wrong").status_code == 401
    response = _webhook(client, shop, body, "hush")
    assert response.status_code == 200 and response.json() == {"ignored": "order pull is off"}
    assert not Order.objects.exists() and not OrderPull.objects.exists()
    assert reserved(goods["A"]) == 0


def test_a_pull_queued_before_the_order_pull_was_switched_off_pulls_nothing(fake_shop_orders):
    # given: a pull queued for a shop whose order pull is then switched off
    shop, *_rest, goods = order_world(fake_shop_orders)
    fake_shop_orders.add_order([("A", 1)], address=SYDNEY_ADDRESS)
    shop.is_order_pull_enabled = False
    shop.save()

    # when: the worker runs it
    pull = orders_pull(shop.pk, source=source(shop))

    # then
    assert pull is None
    assert not Order.objects.exists() and not OrderPull.objects.exists()
    assert reserved(goods["A"]) == 0


def test_an_order_with_more_lines_than_a_page_holds_is_read_whole(fake_shop_orders):
    skus = tuple(f"S{n:02d}" for n in range(23))
    shop, *_rest, goods = order_world(fake_shop_orders, skus=skus, melbourne=0)
    fake_shop_orders.add_order([(sku, 1) for sku in skus], address=SYDNEY_ADDRESS)
    pull = orders_pull(shop.pk, source=source(shop))
    assert pull.new == 1
    order = Order.objects.get()
    assert order.lines.count() == 23 and order.status == Order.Status.RESERVED
    assert sum(reserved(g) for g in goods.values()) == 23


def test_the_same_order_upserted_at_once_on_many_connections_is_one_order_one_reservation(
    fake_shop_orders,
):
    import threading

    from django.db import connections

    from channels_sync.adapters.shopify_orders import parse_webhook_order

    # given: one webhook delivery arriving eight times at once, while a pull runs too
    shop, wh_syd, *_rest, goods = order_world(fake_shop_orders)
    variant = next(v for v in fake_shop_orders.variants.values() if v.sku == "A")
    incoming = parse_webhook_order(_webhook_body(variant.number))
    fake_shop_orders.add_order([("A", 1)], address=SYDNEY_ADDRESS)
    start = threading.Barrier(9)
    results, errors = [], []

    def deliver():
        try:
            start.wait(10)
            results.append(order_pages.order_upsert(shop=shop, incoming=incoming))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connections.close_all()

    def pull():
        try:
            start.wait(10)
            orders_pull(shop.pk, source=source(shop))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    threads.append(threading.Thread(target=pull))

    # when
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    # then
    assert errors == []
    assert sorted(results) == ["new"] + ["unchanged"] * 7
    assert Order.objects.filter(platform_order_id=incoming.order_ref).count() == 1
    assert Order.objects.count() == 2
    assert reserved(goods["A"], wh_syd) == 3
    assert StockMovement.objects.filter(kind="reserve").count() == 2


@pytest.mark.parametrize(
    "body",
    [
        ["not", "an", "order"],
        "just a string",
        {"id": 1, "updated_at": "2026-11-29T10:00:00Z", "total_price": "twenty"},
        {"id": 1, "updated_at": "2026-11-29T10:00:00Z", "line_items": [None]},
        {"id": 1, "updated_at": "not a time"},
    ],
)
def test_a_signed_but_unreadable_webhook_body_is_a_400_not_a_500(fake_shop_orders, client, body):
    shop, *_rest = order_world(fake_shop_orders)
    shop.credentials = {"access_token": "shpat_test", "webhook_secret": "hush"}
    shop.save()
    assert _webhook(client, shop, body, "hush").status_code == 400
    assert not Order.objects.exists()


def test_a_webhook_order_that_cannot_be_saved_is_logged_as_a_failed_pull(fake_shop_orders):
    from channels_sync.adapters.shopify_orders import parse_webhook_order
    from channels_sync.services.orders import order_webhook_receive

    # given: an order whose total does not fit the column (the database refuses it)
    shop, *_rest = order_world(fake_shop_orders)
    variant = next(v for v in fake_shop_orders.variants.values() if v.sku == "A")
    body = _webhook_body(variant.number)
    body["total_price"] = "123456789012345.00"
    incoming = parse_webhook_order(body)

    # when
    with pytest.raises(Exception):  # noqa: B017, PT011 - the webhook answers 500: redelivered
        order_webhook_receive(shop=shop, incoming=incoming)

    # then: the sync log shows a failed webhook pull with the reason, not one running forever
    pull = OrderPull.objects.get()
    assert pull.status == OrderPull.Status.FAILED and pull.failed == 1
    assert pull.finished_at is not None and "#9999" in pull.message
    assert not Order.objects.exists()


def test_an_order_refunded_in_full_on_the_platform_releases_and_is_not_a_short_order(
    fake_shop_orders,
):
    from channels_sync.services.orders import short_orders_reroute

    # given: an order reserved, then every unit refunded (Shopify: currentQuantity 0) without
    # the order being cancelled
    shop, *_rest, goods = order_world(fake_shop_orders)
    order = fake_shop_orders.add_order([("A", 3), ("B", 1)], address=SYDNEY_ADDRESS)
    orders_pull(shop.pk, source=source(shop))
    assert reserved(goods["A"]) == 3 and reserved(goods["B"]) == 1

    # when
    fake_shop_orders.edit_order(order.number, sku="A", quantity=0)
    fake_shop_orders.edit_order(order.number, sku="B", quantity=0)
    orders_pull(shop.pk, source=source(shop))

    # then: the stock is given back; nothing is left to ship, so the order is not SHORT (not
    # counted against the short-order rate, not re-routed every minute)
    local = Order.objects.get()
    assert reserved(goods["A"]) == 0 and reserved(goods["B"]) == 0
    assert local.status == Order.Status.CANCELLED and not local.was_short
    assert "Nothing left to ship" in local.message
    assert short_orders_reroute() == 0
    assert not Order.objects.filter(status=Order.Status.SHORT).exists()


def test_a_removed_line_whose_listing_is_not_linked_no_longer_keeps_the_order_short(
    fake_shop_orders,
):
    # given: an order SHORT only because of a line not linked to goods
    shop, *_rest, goods = order_world(fake_shop_orders)
    fake_shop_orders.add_variant("NOT-IN-WMS")
    order = fake_shop_orders.add_order([("A", 1), ("NOT-IN-WMS", 1)], address=SYDNEY_ADDRESS)
    orders_pull(shop.pk, source=source(shop))
    assert Order.objects.get().status == Order.Status.SHORT

    # when: that line is removed on the platform
    fake_shop_orders.edit_order(order.number, sku="NOT-IN-WMS", quantity=0)
    orders_pull(shop.pk, source=source(shop))

    # then: the rest is reserved
    assert Order.objects.get().status == Order.Status.RESERVED
    assert reserved(goods["A"]) == 1


def test_an_orders_edited_webhook_is_acknowledged_not_refused(fake_shop_orders, client):
    # given: Shopify's orders/edited body describes the edit, not the order (orders/updated,
    # sent for the same edit, carries the whole order)
    shop, *_rest = order_world(fake_shop_orders)
    shop.credentials = {"access_token": "shpat_test", "webhook_secret": "hush"}
    shop.save()
    body = {
        "order_edit": {
            "id": 78912328,
            "app_id": None,
            "created_at": "2026-11-29T10:00:00Z",
            "committed_at": "2026-11-29T10:00:05Z",
            "notify_customer": False,
            "order_id": 820982911946154508,
            "staff_note": "",
            "user_id": None,
            "line_items": {"additions": [], "removals": [{"id": 466157049, "delta": 1}]},
        }
    }

    # when
    response = _webhook(client, shop, body, "hush", topic="orders/edited")

    # then: a 2xx (a refusal would have Shopify retry it and drop the subscription)
    assert response.status_code == 200
    assert not Order.objects.exists()
