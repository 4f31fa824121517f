"""Order pull from eBay (Fulfillment API), Kogan (seller API) and the merchant's own REST shop,
each against its local fake: overlapping pulls give one order and one reservation, an older
version never overwrites a newer one, a cancellation releases the stock (Kogan: an order that
left the open list is re-read), and the fulfilment is reported once."""

from decimal import Decimal

import pytest

from channels_sync.adapters.orders import order_source_for
from channels_sync.fakes import FakeServer
from channels_sync.fakes.marketplace_orders import (
    FakeEbayOrders,
    FakeKoganOrders,
    FakeRestShopOrders,
)
from channels_sync.models import Order
from channels_sync.services import order_pages
from channels_sync.services.orders import orders_pull
from channels_sync.tests.conftest import no_sleep
from channels_sync.tests.factories import BindingFactory, ListingFactory, ShopFactory
from channels_sync.tests.order_helpers import MELBOURNE, SYDNEY, reserved
from inventory.models import StockMovement
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory, WarehouseFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SYDNEY_ADDRESS = ("Mia Chen", "12 George St", "Sydney", "NSW", "2000", "AU")
PLATFORMS = ["ebay", "kogan", "rest"]


def _fake(platform: str):
    if platform == "ebay":
        return FakeEbayOrders(), {"oauth_token": "ebay_test"}
    if platform == "kogan":
        return FakeKoganOrders(pending_first=True), {
            "seller_id": "seller-1",
            "seller_token": "kogan_test",
        }
    return FakeRestShopOrders(), {"api_token": "rest_test"}


def _listing_refs(platform: str, fake, sku: str) -> tuple[str, str]:
    """(variant_ref, item_ref) as the platform's product sync stores them."""
    if platform == "ebay":
        offer = fake.add_item(sku)
        return f"{sku}#{offer}", f"{sku}#{offer}"
    if platform == "kogan":
        fake.add_product(sku)
        return sku, sku
    fake.add_product(sku)
    return fake.variant_of(sku), sku


@pytest.fixture(params=PLATFORMS)
def world(request):
    platform = request.param
    fake, credentials = _fake(platform)
    with FakeServer(fake) as server:
        shop = ShopFactory(
            platform=platform,
            api_base_url=server.url,
            credentials=credentials,
            is_order_pull_enabled=True,
        )
        wh_syd = WarehouseFactory(latitude=SYDNEY[0], longitude=SYDNEY[1])
        wh_mel = WarehouseFactory(latitude=MELBOURNE[0], longitude=MELBOURNE[1])
        BindingFactory(shop=shop, warehouse=wh_mel, priority=1)
        BindingFactory(shop=shop, warehouse=wh_syd, priority=2)
        goods = GoodsFactory(sku="A", weight=Decimal("0.5"))
        variant, item = _listing_refs(platform, fake, "A")
        ListingFactory(shop=shop, goods=goods, sku="A", variant_ref=variant, item_ref=item)
        receive_stock(goods, BinFactory(warehouse=wh_syd), 10)
        receive_stock(goods, BinFactory(warehouse=wh_mel), 10)
        yield platform, fake, shop, goods, wh_syd


def _pull(shop):
    return orders_pull(shop.pk, source=order_source_for(shop, sleep=no_sleep))


def test_overlapping_pulls_give_one_order_and_one_reservation(world):
    # given
    _platform, fake, shop, goods, wh_syd = world
    fake.add_order([("A", 3)], address=SYDNEY_ADDRESS, price="12.50")

    # when
    first = _pull(shop)
    second = _pull(shop)

    # then
    assert (first.status, first.new, first.failed) == ("done", 1, 0), first.message
    assert (second.status, second.new, second.unchanged) == ("done", 0, 1), second.message
    order = Order.objects.get()
    assert order.status == Order.Status.RESERVED and order.warehouse == wh_syd
    assert (order.postcode, order.country, str(order.weight)) == ("2000", "AU", "1.500")
    assert order.lines.get().listing is not None
    assert reserved(goods) == 3
    assert StockMovement.objects.filter(kind="reserve").count() == 1


def test_an_older_version_never_overwrites_a_newer_one(world):
    # given: a version read before the edit
    _platform, fake, shop, goods, _wh = world
    placed = fake.add_order([("A", 4)], address=SYDNEY_ADDRESS)
    source = order_source_for(shop, sleep=no_sleep)
    old_page = next(source.iter_order_pages(None))
    fake.edit_order(placed.ref, sku="A", quantity=1)
    _pull(shop)
    assert reserved(goods) == 1

    # when
    result = order_pages.order_upsert(shop=shop, incoming=old_page[0])

    # then
    assert result == "unchanged"
    assert Order.objects.get().lines.get().quantity == 1
    assert reserved(goods) == 1


def test_a_cancellation_on_the_platform_releases_the_reservation(world):
    # given
    _platform, fake, shop, goods, _wh = world
    placed = fake.add_order([("A", 2)], address=SYDNEY_ADDRESS)
    kept = fake.add_order([("A", 1)], address=SYDNEY_ADDRESS)
    _pull(shop)
    assert reserved(goods) == 3

    # when
    fake.cancel_order(placed.ref)
    pull = _pull(shop)

    # then
    assert pull.status == "done" and pull.updated == 1, pull.message
    cancelled = Order.objects.get(platform_order_id=placed.ref)
    assert cancelled.status == Order.Status.CANCELLED and cancelled.cancelled_on_platform
    assert Order.objects.get(platform_order_id=kept.ref).status == Order.Status.RESERVED
    assert reserved(goods) == 1


def test_the_fulfilment_is_reported_once(world):
    # given
    platform, fake, shop, _goods, _wh = world
    placed = fake.add_order([("A", 1)], address=SYDNEY_ADDRESS)
    _pull(shop)
    source = order_source_for(shop, sleep=no_sleep)

    # when
    first = source.report_fulfilment(
        order_ref=placed.ref, carrier="Australia Post", tracking_number="AP123"
    )
    again = source.report_fulfilment(
        order_ref=placed.ref, carrier="Australia Post", tracking_number="AP123"
    )

    # then
    assert not first.already_reported and again.already_reported
    if platform == "ebay":
        assert [f["shippingCarrierCode"] for f in placed.fulfilments] == ["AustraliaPost"]
    elif platform == "kogan":
        assert {d["Carrier"] for d in fake.dispatched[placed.ref]} == {"AUP"}
    else:
        assert len(fake.fulfilments) == 1
