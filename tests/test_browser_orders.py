"""End to end in headless Chromium (issue 12 "Done when"): the demo shop's order is pulled,
reserved in the nearest warehouse, confirmed, booked with the carrier a logistics rule chose,
shipped with a tracking number and a label, and the fake platform shows it fulfilled; the
stock and the pushed quantity fall accordingly; the fill-rate chart counts it."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from channels_sync.demo import load as load_demo_shop
from channels_sync.fakes import FakeServer
from channels_sync.fakes.auspost import FakeAusPost
from channels_sync.fakes.demo import DEMO_TOKEN, seed
from channels_sync.fakes.shopify_orders import FakeShopifyOrders
from channels_sync.models import Binding, Carrier, Listing, Shop
from channels_sync.tasks import outbox_drain_task
from conftest import TEST_PASSWORD, browser_login
from inventory.models import StockBalance
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

SYDNEY = ("Mia Chen", "12 George St", "Sydney", "NSW", "2000", "AU")


@pytest.fixture
def demo_world():
    shopify = FakeShopifyOrders(token=DEMO_TOKEN, restore_rate=1_000_000.0)
    seed(shopify)
    carrier_fake = FakeAusPost()
    with FakeServer(shopify) as shop_server, FakeServer(carrier_fake) as carrier_server:
        load_demo_shop()
        shop = Shop.objects.get(name="Demo Shopify shop")
        Shop.objects.filter(pk=shop.pk).update(api_base_url=shop_server.url)
        Carrier.objects.filter(kind="auspost").update(api_base_url=carrier_server.url)
        yield shop, shopify, carrier_fake


def test_order_pulled_reserved_nearest_confirmed_booked_shipped_reported_and_counted(
    page, make_user, demo_world
):
    shop, shopify, carrier = demo_world
    syd = BinFactory(
        zone__warehouse__code="SYD",
        zone__warehouse__latitude=Decimal("-33.87"),
        zone__warehouse__longitude=Decimal("151.21"),
    )
    mel = BinFactory(
        zone__warehouse__code="MEL",
        zone__warehouse__latitude=Decimal("-37.81"),
        zone__warehouse__longitude=Decimal("144.96"),
    )
    Binding.objects.create(shop=shop, warehouse=mel.warehouse, priority=1)
    Binding.objects.create(shop=shop, warehouse=syd.warehouse, priority=2)
    beer = GoodsFactory(sku="BEER-CAN-330", weight=Decimal("0.4"))
    variant = next(v for v in shopify.variants.values() if v.sku == "BEER-CAN-330")
    Listing.objects.create(
        shop=shop,
        product_ref=variant.product_id,
        variant_ref=variant.id,
        item_ref=variant.item_id,
        sku="BEER-CAN-330",
        goods=beer,
        matched_by="sku",
    )
    receive_stock(beer, syd, 10)
    receive_stock(beer, mel, 10)
    number = shopify.add_order([("BEER-CAN-330", 2)], address=SYDNEY).number
    channel = make_user("channel")
    browser_login(page, channel.username, TEST_PASSWORD)

    # pull: the order is reserved in Sydney (nearest), not Melbourne (priority 1)
    page.goto("/")
    page.get_by_role("link", name="Platform orders").first.click()
    page.select_option("#id_pull-shop", label=str(shop))
    page.get_by_role("button", name="Pull orders now").click()
    expect(page.locator(".messages")).to_contain_text("Pulling orders")
    page.reload()
    row = page.locator(f"tr[data-order='#{number}']")
    expect(row).to_contain_text("Reserved")
    expect(row).to_contain_text("SYD")
    stock = StockBalance.objects.get(goods=beer, warehouse=syd.warehouse)
    assert (stock.on_hand, stock.reserved) == (10, 2)
    outbox_drain_task.delay()  # what the beat does every 5 seconds: push the outbox
    assert shopify.quantity_of("BEER-CAN-330") == 18

    # confirm from the list: booked with Australia Post by the AU rule, shipped, reported
    row.locator("input[type=checkbox]").check()
    page.get_by_role("button", name="Confirm and ship the ticked orders").click()
    expect(page.locator(".messages")).to_contain_text("1 order(s) confirmed")
    expect(page.locator(f"tr[data-order='#{number}']")).to_contain_text("Shipped")
    page.locator(f"tr[data-order='#{number}'] a").first.click()
    tracking = page.locator("[data-tracking]")
    expect(tracking).to_contain_text("33AB")
    expect(page.locator("[data-shipment]")).to_contain_text("Australia Post")
    label_href = page.get_by_role("link", name="Print label (PDF)").get_attribute("href")
    label = page.request.get(label_href)
    assert label.headers["content-type"] == "application/pdf"
    assert label.body().startswith(b"%PDF")
    fulfilled = shopify.fulfilled(number)
    assert len(fulfilled) == 1
    assert fulfilled[0]["tracking"]["number"] == tracking.inner_text().strip()
    assert carrier.creates == 1
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (8, 0)
    outbox_drain_task.delay()
    assert shopify.quantity_of("BEER-CAN-330") == 18

    # the fill-rate chart counts it
    page.goto("/channels/orders/metrics/")
    expect(page.locator("#fill-shop")).to_contain_text("100%")
    expect(page.locator("#fill-shop")).to_contain_text("1 order")
    expect(page.locator("#fill-warehouse")).to_contain_text("SYD")
