"""End to end in headless Chromium (issue 11 "Done when"): a channel operator binds the demo shop
to two warehouses, runs a full product sync, links an unmatched listing by hand; received stock
shows in the sync log and on the (local, fake) platform; a freeze lowers it; unbinding a
warehouse (requested by the operator, confirmed by a manager) drops it to the other
warehouse's stock, and rolling back restores it."""

import pytest
from playwright.sync_api import expect

from channels_sync.demo import load as load_demo_shop
from channels_sync.fakes import FakeServer
from channels_sync.fakes.demo import seed
from channels_sync.fakes.shopify import FakeShopify
from channels_sync.models import Shop
from conftest import TEST_PASSWORD, browser_login
from inventory import ledger
from inventory.models import StockBalance
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.fixture
def demo_platform():
    from channels_sync.fakes.demo import DEMO_TOKEN

    fake = FakeShopify(token=DEMO_TOKEN)
    seed(fake)
    with FakeServer(fake) as server:
        load_demo_shop()
        Shop.objects.filter(name="Demo Shopify shop").update(
            api_base_url=server.url, requires_review=False
        )
        yield fake


def _wait_quantity(fake, sku, quantity, page):
    """Wait for the platform to show ``quantity``; meanwhile play the beat's outbox drain (every
    5 seconds in production): a push asked for within a second of another is left to it."""
    from channels_sync.tasks import outbox_drain_task

    for n in range(50):
        if fake.quantity_of(sku) == quantity:
            return
        if n % 10 == 5:
            outbox_drain_task.delay()
        page.wait_for_timeout(100)
    assert fake.quantity_of(sku) == quantity


def _switch_user(page, username):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    browser_login(page, username, TEST_PASSWORD)


def _bind(page, code, priority):
    page.select_option("#bind-wh", label=f"{code} · Warehouse {code}")
    page.fill("#bind-p", str(priority))
    page.get_by_role("button", name="Bind warehouse").click()
    expect(page.locator("h1")).to_contain_text("Preview of the change")
    page.get_by_role("button", name="Save this change").click()
    expect(page.locator(".messages")).to_contain_text("Bindings saved")


def test_bind_sync_link_push_freeze_unbind_with_review_and_roll_back(
    page, make_user, demo_platform
):
    fake = demo_platform
    # given: two warehouses, the goods the demo listings sell, an operator and a manager
    syd, mel = (
        BinFactory(zone__warehouse__code="SYD", zone__warehouse__name="Warehouse SYD"),
        BinFactory(zone__warehouse__code="MEL", zone__warehouse__name="Warehouse MEL"),
    )
    GoodsFactory(sku="BEER-CAN-330", barcode="6901234000011")
    lager = GoodsFactory(sku="HB-LAGER", name="Harbour lager single")
    channel = make_user("channel")
    make_user("manager")
    browser_login(page, channel.username, TEST_PASSWORD)

    # when: the operator binds the demo shop to SYD (1) and MEL (2)
    page.goto("/channels/shops/")
    page.get_by_role("link", name="Demo Shopify shop").click()
    page.get_by_role("link", name="Warehouse bindings").click()
    _bind(page, "SYD", 1)
    _bind(page, "MEL", 2)
    expect(page.locator("tr[data-warehouse]")).to_have_count(2)

    # when: a full product sync
    page.get_by_role("link", name="Back to the shop").click()
    page.get_by_role("button", name="Full sync").click()
    expect(page.locator("[data-sync-status]")).to_have_attribute("data-sync-status", "done")
    expect(page.locator("progress.progress")).to_have_attribute("value", "100")

    # when: the unmatched listing is linked by hand
    page.get_by_role("link", name="Matching").click()
    row = page.locator("tr[data-listing='HB-LAGER-SINGLE']")
    row.get_by_placeholder("Goods SKU or barcode").fill("HB-LAGER")
    row.get_by_role("button", name="Link").click()
    expect(page.locator(".messages")).to_contain_text("linked to HB-LAGER")

    # when: stock is received (10 at SYD, 4 at MEL)
    receive_stock(lager, syd, 10)
    receive_stock(lager, mel, 4)

    # then: the platform shows 14, and the sync log says why
    _wait_quantity(fake, "HB-LAGER-SINGLE", 14, page)
    page.goto("/channels/sync-log/?q=HB-LAGER")
    first = page.locator("tr[data-record='HB-LAGER-SINGLE']").first
    expect(first).to_contain_text("14")
    expect(first).to_contain_text("SYD")

    # when: 3 units at SYD are frozen
    balance = StockBalance.objects.get(goods=lager, bin=syd)
    ledger.freeze(
        holds=[ledger.Hold(balance_id=balance.pk, quantity=3)],
        document=ledger.Document(type="other", ref="qc"),
    )
    _wait_quantity(fake, "HB-LAGER-SINGLE", 11, page)

    # when: the shop now requires two-person review (the operator may switch it on, only a
    # supervisor off), and the operator unbinds SYD
    page.goto("/channels/shops/")
    page.get_by_role("link", name="Demo Shopify shop").click()
    page.get_by_role("link", name="Edit").click()
    page.check("#id_requires_review")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Warehouse bindings").click()
    page.locator("tr[data-warehouse='SYD']").get_by_role("button", name="Unbind").click()
    preview = page.locator("tr[data-listing='HB-LAGER-SINGLE']")
    expect(preview).to_contain_text("11")
    expect(preview).to_contain_text("4")
    page.get_by_role("button", name="Request this change").click()
    expect(page.locator(".messages")).to_contain_text("a supervisor must confirm it")
    assert fake.quantity_of("HB-LAGER-SINGLE") == 11

    # when: the manager reviews the effect and confirms
    _switch_user(page, "manager")
    page.goto("/channels/shops/")
    page.get_by_role("link", name="Demo Shopify shop").click()
    page.get_by_role("link", name="Warehouse bindings").click()
    page.get_by_role("link", name="Review").click()
    review = page.locator("tr[data-listing='HB-LAGER-SINGLE']")
    expect(review).to_contain_text("11")
    expect(review).to_contain_text("4")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".messages")).to_contain_text("confirmed and applied")
    _wait_quantity(fake, "HB-LAGER-SINGLE", 4, page)

    # when: the operator rolls back to before the unbinding; the manager confirms
    _switch_user(page, channel.username)
    page.goto("/channels/shops/")
    page.get_by_role("link", name="Demo Shopify shop").click()
    page.get_by_role("link", name="Warehouse bindings").click()
    page.locator("tr[data-change]").filter(has_text="Unbind SYD").get_by_role(
        "link", name="Roll back to before this change"
    ).click()
    rollback = page.locator("tr[data-listing='HB-LAGER-SINGLE']")
    expect(rollback).to_contain_text("4")
    expect(rollback).to_contain_text("11")
    page.get_by_role("button", name="Request this rollback").click()
    expect(page.locator(".messages")).to_contain_text("Rollback requested")
    _switch_user(page, "manager")
    page.goto("/channels/shops/")
    page.get_by_role("link", name="Demo Shopify shop").click()
    page.get_by_role("link", name="Warehouse bindings").click()
    page.get_by_role("link", name="Review").click()
    page.get_by_role("button", name="Confirm").click()
    _wait_quantity(fake, "HB-LAGER-SINGLE", 11, page)
    expect(page.locator("tr[data-warehouse]")).to_have_count(2)
