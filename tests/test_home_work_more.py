"""The home page of work, the items of platform sync and store allocation: failed pushes, short
orders and open grab windows, each a count for the roles that act on them, linking to the
filtered list."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from allocation.models import GrabWindow
from allocation.tests.factories import PolicyFactory, StoreFactory
from channels_sync.models import Order, SyncRecord
from channels_sync.tests.factories import ListingFactory
from warehouses.tests.factories import WarehouseFactory

pytestmark = pytest.mark.django_db


def counts(client) -> dict[str, int]:
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return {item.key: item.count for item in response.context["work"]}


def _push(listing, status):
    return SyncRecord.objects.create(
        shop=listing.shop,
        listing=listing,
        goods=listing.goods,
        quantity=1,
        inputs={},
        trigger="auto",
        status=status,
    )


@pytest.fixture
def channel_world():
    """Three listings: one failed (still failing), one failed then pushed fine, one fine; two
    short orders and one reserved."""
    failing, recovered, fine = ListingFactory(), ListingFactory(), ListingFactory()
    _push(failing, "failure")
    _push(recovered, "failure")
    _push(recovered, "success")
    _push(fine, "success")
    now = timezone.now()
    for n, status in enumerate(["short", "short", "reserved"]):
        Order.objects.create(
            shop=failing.shop, platform_order_id=f"#{n}", status=status, platform_updated_at=now
        )
    return failing


def _window(*, status, scope=GrabWindow.Scope.ALL, stores=(), group="", closes_in=2):
    now = timezone.now()
    window = GrabWindow.objects.create(
        name=f"{status} window",
        warehouse=WarehouseFactory(),
        policy=PolicyFactory(),
        mode=GrabWindow.Mode.FIRST_COME,
        status=status,
        opens_at=now - datetime.timedelta(hours=1),
        closes_at=now + datetime.timedelta(hours=closes_in),
        scope=scope,
        store_group=group,
        seed=1,
    )
    window.stores.set(stores)
    return window


def test_a_channel_operator_sees_failed_pushes_and_short_orders(client, make_user, channel_world):
    # given
    client.force_login(make_user("channel"))

    # when
    work = counts(client)

    # then: the recovered listing no longer counts; two orders are short
    assert work["failed_pushes"] == 1
    assert work["short_orders"] == 2
    assert "open_grab_windows" not in work


def test_the_links_open_the_filtered_lists(client, make_user, channel_world):
    client.force_login(make_user("channel"))
    items = {item.key: item for item in client.get(reverse("home")).context["work"]}

    log = client.get(items["failed_pushes"].url)
    orders = client.get(items["short_orders"].url)

    assert log.status_code == 200 and items["failed_pushes"].url.endswith("?status=failure")
    assert orders.status_code == 200
    assert [o.status for o in orders.context["orders"]] == ["short", "short"]


def test_the_old_failures_tile_is_gone(client, make_user, channel_world):
    client.force_login(make_user("channel"))
    body = client.get(reverse("home")).content.decode()
    assert 'id="sync-failures"' not in body
    assert 'data-work="failed_pushes"' in body


def test_a_store_manager_sees_the_windows_open_to_his_stores(client, make_user):
    # given: his two stores (one in the north group); windows open to all, to his store, to
    # the north group, to another store, closed, and one whose time has passed
    store_user = make_user("store")
    mine, north = StoreFactory(), StoreFactory(group="north")
    for store in (mine, north):
        store.managers.add(store_user)
    other = StoreFactory()
    _window(status=GrabWindow.Status.OPEN)
    _window(status=GrabWindow.Status.OPEN, scope=GrabWindow.Scope.LIST, stores=[mine, other])
    _window(status=GrabWindow.Status.OPEN, scope=GrabWindow.Scope.GROUP, group="north")
    _window(status=GrabWindow.Status.OPEN, scope=GrabWindow.Scope.LIST, stores=[other])
    _window(status=GrabWindow.Status.CLOSED)
    _window(status=GrabWindow.Status.OPEN, closes_in=-0.5)
    client.force_login(store_user)

    # when
    items = {item.key: item for item in client.get(reverse("home")).context["work"]}

    # then
    assert items["open_grab_windows"].count == 3
    assert items["open_grab_windows"].url == reverse("allocation:grab-home")
    assert "failed_pushes" not in items and "short_orders" not in items


def test_a_warehouse_manager_sees_every_open_window(client, make_user):
    # given
    _window(status=GrabWindow.Status.OPEN)
    _window(status=GrabWindow.Status.OPEN, scope=GrabWindow.Scope.LIST, stores=[StoreFactory()])
    _window(status=GrabWindow.Status.SCHEDULED)
    client.force_login(make_user("manager"))

    # when
    items = {item.key: item for item in client.get(reverse("home")).context["work"]}

    # then
    assert items["open_grab_windows"].count == 2
    assert client.get(items["open_grab_windows"].url).status_code == 200


def test_warehouse_staff_see_none_of_these(client, make_user, channel_world):
    client.force_login(make_user("staff"))
    work = counts(client)
    assert not {"failed_pushes", "short_orders", "open_grab_windows"} & set(work)
