"""Webhook events of the new domains, written through their hook registries and delivered
signed: ``order.status_changed`` (replenishment orders), ``grab.answered``, ``sync.failed``."""

from __future__ import annotations

import pytest
from django.db import transaction
from werkzeug import Response

from allocation import hooks as allocation_hooks
from allocation.models import GrabRequest, ReplenishmentOrder
from allocation.services import close, grabs
from allocation.tests.conftest import World
from api.models import WebhookDelivery
from api.tests.test_webhooks import LOCAL_RECEIVER_NETWORKS, verify_like_the_readme
from api.webhooks import events
from api.webhooks.delivery import subscription_create
from channels_sync.services.push import shop_push
from channels_sync.tests.conftest import _local_platforms_only, fake_shopify  # noqa: F401
from channels_sync.tests.factories import BindingFactory, ShopFactory, listed_on
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory


@pytest.fixture(autouse=True)
def _local_receivers(settings):
    settings.WMS_WEBHOOKS_ALLOW_HTTP = True
    settings.WMS_WEBHOOKS_ALLOWED_NETWORKS = LOCAL_RECEIVER_NETWORKS


def _receiver(httpserver) -> list:
    received: list = []

    def handler(request):
        received.append((request.headers.get("X-WMS-Signature"), request.get_data()))
        return Response("ok", status=200)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(handler)
    return received


def _pushing_shop(fake, count: int):
    """A shop on the Shopify fake selling ``count`` listings with stock (as test_push sets up)."""
    from channels_sync.adapters.shopify import ShopifyAdapter
    from channels_sync.tests.conftest import no_sleep

    shop = ShopFactory(api_base_url=fake.url)
    bin_a = BinFactory()
    BindingFactory(shop=shop, warehouse=bin_a.warehouse)
    listings = []
    for n in range(count):
        goods = GoodsFactory(sku=f"P-{n}")
        listings.append(listed_on(fake, shop, goods))
        receive_stock(goods, bin_a, 5)
    return shop, listings, ShopifyAdapter(shop, sleep=no_sleep)


def _subscribe(httpserver, user, *codes):
    return subscription_create(url=httpserver.url_for("/hook"), events=list(codes), user=user)


def test_order_status_changes_are_delivered(
    db, make_user, httpserver, django_capture_on_commit_callbacks
):
    # given a first-come window with one grant and a subscriber to order status changes
    world = World(make_user)
    received = _receiver(httpserver)
    subscription = _subscribe(httpserver, world.manager, events.ORDER_STATUS_CHANGED)
    window = world.open_window()
    grabs.grab_request_submit(
        user=world.alice, store=world.store_a, window=window, goods_id=world.goods.pk, quantity=4
    )
    # when the window closes (an order is created) and the order ships
    with django_capture_on_commit_callbacks(execute=True):
        close.window_close(window_id=window.pk, user=world.manager)
    order = ReplenishmentOrder.objects.get()
    from allocation.services import orders

    with django_capture_on_commit_callbacks(execute=True):
        orders.order_ship(order_id=order.pk, user=world.manager)
    # then both changes arrived, signed, in order
    rows = list(WebhookDelivery.objects.filter(event=events.ORDER_STATUS_CHANGED).order_by("pk"))
    assert [r.payload["kind"] for r in rows] == ["created", "shipped"]
    # every change carries the same keys, whichever path wrote it (the close writes in bulk)
    assert set(rows[0].payload) == set(rows[1].payload)
    assert rows[0].payload["details"] == {} and rows[0].payload["note"] == ""
    assert all(r.status == WebhookDelivery.Status.DELIVERED for r in rows)
    envelope = verify_like_the_readme(subscription.secret, *received[-1])
    assert envelope["event"] == "order.status_changed"
    assert envelope["data"]["order_id"] == order.pk and envelope["data"]["status"] == "shipped"
    assert envelope["data"]["store_id"] == world.store_a.pk


def test_a_refused_transition_leaves_no_delivery(db, make_user, httpserver):
    world = World(make_user)
    _subscribe(httpserver, world.manager, events.ORDER_STATUS_CHANGED)
    window = world.open_window()
    grabs.grab_request_submit(
        user=world.alice, store=world.store_a, window=window, goods_id=world.goods.pk, quantity=4
    )
    close.window_close(window_id=window.pk, user=world.manager)
    order = ReplenishmentOrder.objects.get()
    before = WebhookDelivery.objects.count()
    from allocation.exceptions import InvalidState
    from allocation.services import orders

    with pytest.raises(InvalidState):
        orders.order_receive(order_id=order.pk, user=world.alice, received={})
    assert WebhookDelivery.objects.count() == before


def test_grab_answers_are_delivered(db, make_user, httpserver, django_capture_on_commit_callbacks):
    # given an answered first-come grab and a subscriber
    world = World(make_user)
    received = _receiver(httpserver)
    subscription = _subscribe(httpserver, world.manager, events.GRAB_ANSWERED)
    window = world.open_window()
    grab = grabs.grab_request_submit(
        user=world.alice, store=world.store_a, window=window, goods_id=world.goods.pk, quantity=7
    )
    # when the allocation app reports the answer through its hook (in its transaction)
    WebhookDelivery.objects.filter(event=events.GRAB_ANSWERED).delete()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        allocation_hooks.answered([GrabRequest.objects.get(pk=grab.pk)])
    # then the receiver got it, signed
    envelope = verify_like_the_readme(subscription.secret, *received[-1])
    assert envelope["event"] == "grab.answered"
    [answer] = envelope["data"]["requests"]
    assert (answer["request_id"], answer["status"], answer["granted"]) == (grab.pk, "granted", 7)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_failed_pushes_are_delivered(
    make_user,
    httpserver,
    fake_shopify,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    # given a platform that refuses the push and a subscriber to sync failures
    received = _receiver(httpserver)
    subscription = _subscribe(httpserver, make_user("admin"), events.SYNC_FAILED)
    shop, listings, adapter = _pushing_shop(fake_shopify, 2)
    fake_shopify.fail_next("status", status=500, times=4)
    # when the push runs
    summary = shop_push(shop.pk, adapter=adapter)
    # then one sync.failed names both listings (delivered after the records committed)
    assert summary.failed == 2
    row = WebhookDelivery.objects.get(event=events.SYNC_FAILED)
    from api.webhooks import delivery

    delivery.deliver(row.pk)
    envelope = verify_like_the_readme(subscription.secret, *received[-1])
    assert envelope["data"]["shop_id"] == shop.pk
    assert sorted(f["listing_id"] for f in envelope["data"]["failures"]) == sorted(
        listing.pk for listing in listings
    )
    assert all(f["message"] for f in envelope["data"]["failures"])
