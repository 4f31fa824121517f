"""The layout in headless Chromium (issue 14): a side navigation always visible on a desktop with
the current page marked, tables using the whole width; on a phone (390 px) the menu behind one
button, the stock query's filters folded behind one button with the active ones as removable
chips, and its rows as cards leading with goods, bin, available and frozen. Screenshots of the
stock query at both sizes are saved in test-artifacts/."""

import pytest
from playwright.sync_api import expect

from conftest import ARTIFACTS
from freezes.models import Reason
from freezes.scope import Scope
from freezes.services.freezing import freeze_create
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def stock(make_user):
    """Three goods in two bins; 4 units of one frozen as damaged."""
    manager = make_user("manager")
    a = BinFactory(code="A-01-01", zone__warehouse__code="MEL-01")
    b = BinFactory(code="A-01-02", zone=a.zone)
    mask = GoodsFactory(sku="MASK-BOX-50", name="Face masks, box of 50")
    receive_stock(mask, a, 12)
    receive_stock(GoodsFactory(sku="GLOVE-M", name="Nitrile gloves M"), b, 30)
    receive_stock(GoodsFactory(sku="SOAP-1L", name="Hand soap 1 L"), b, 8)
    freeze_create(
        scope=Scope(goods_id=mask.pk), reason=Reason.DAMAGED, operator=manager, quantity=4
    )
    return mask


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None
    return box


def test_the_stock_query_on_a_desktop_has_the_side_navigation_and_a_full_width_table(
    page, login_as, stock
):
    # given
    login_as("staff")
    page.set_viewport_size({"width": 1366, "height": 900})

    # when
    page.goto("/inventory/stock/?group=bin")

    # then: the side navigation shows, the menu button does not, the page is marked
    nav = page.locator("#sidenav")
    expect(nav).to_be_visible()
    expect(page.locator(".menu-button")).to_be_hidden()
    current = nav.locator('a[aria-current="page"]')
    expect(current).to_have_count(1)
    expect(current).to_have_text("Stock query")
    # the filters are all there, the fold button and chips are not
    expect(page.locator("form.filters")).to_be_visible()
    expect(page.locator(".filter-toggle")).to_be_hidden()
    # the table fills the content column: from the side navigation to the window's edge
    table = _box(page.locator("table.stock-table"))
    side = _box(nav)
    assert table["x"] >= side["x"] + side["width"]
    assert table["width"] >= 1366 - side["width"] - 80
    # rows are rows, not cards
    row = page.locator("#results tbody tr", has_text="MASK-BOX-50")
    assert row.evaluate("tr => getComputedStyle(tr).display") == "table-row"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "stock_query_1366.png"), full_page=True)


def test_the_stock_query_on_a_phone_folds_filters_and_shows_cards(page, login_as, stock):
    # given
    login_as("staff")
    page.set_viewport_size({"width": 390, "height": 844})

    # when: a clerk opens the stock query filtered to goods with frozen units
    page.goto("/inventory/stock/?group=bin&has_frozen=true")

    # then: no side navigation until the menu button opens it
    nav = page.locator("#sidenav")
    expect(nav).to_be_hidden()
    expect(page.locator(".menu-button")).to_be_visible()
    # the filters are folded behind one button, the active one is a chip
    filters = page.locator("form.filters")
    expect(filters).to_be_hidden()
    toggle = page.locator(".filter-toggle")
    expect(toggle).to_have_text("Filters (1)")
    chip = page.locator(".filter-chips .chip")
    expect(chip).to_have_count(1)
    expect(chip).to_contain_text("Frozen stock: Has frozen units")
    # the row is a card leading with goods, bin, available and frozen, all on screen
    card = page.locator("#results tbody tr", has_text="MASK-BOX-50")
    expect(card).to_have_count(1)
    assert card.evaluate("tr => getComputedStyle(tr).display") == "flex"
    expect(page.locator("#results tbody tr")).to_have_count(1)
    title = _box(card.locator("td.card-title"))
    cells = {
        "bin": card.locator("td.card-key"),
        "available": card.locator("td.available"),
        "frozen": card.locator("td.card-frozen"),
    }
    for name, cell in cells.items():
        box = _box(cell)
        assert box["x"] + box["width"] <= 390, name
        assert box["y"] > title["y"], name
    expect(cells["available"]).to_have_attribute("data-label", "Available")
    expect(cells["available"]).to_contain_text("8")
    expect(cells["frozen"]).to_contain_text("4")
    ranks = {
        name: cell.evaluate("td => Number(getComputedStyle(td).order)")
        for name, cell in cells.items()
    }
    on_hand = card.locator("td.on-hand").evaluate("td => Number(getComputedStyle(td).order)")
    assert ranks["bin"] < ranks["available"] < ranks["frozen"] < on_hand
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "stock_query_390.png"), full_page=True)

    # when: the chip is removed
    chip.click()

    # then: the filter is off, the list shows every row again
    expect(page.locator(".filter-chips .chip")).to_have_count(0)
    expect(page.locator("#results tbody tr")).to_have_count(3)
    expect(toggle).to_have_text("Filters")

    # when: the clerk unfolds the filters, then opens the menu
    toggle.click()
    expect(filters).to_be_visible()
    page.locator(".menu-button").click()
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Stock query")).to_have_attribute("aria-current", "page")


def test_the_top_bar_scan_box_opens_what_was_scanned(page, login_as, stock):
    # given
    login_as("staff")
    page.goto("/")

    # when: a scanner types the SKU and Enter into the top bar
    page.locator("#topbar-scan-code").fill("MASK-BOX-50")
    page.locator("#topbar-scan-code").press("Enter")

    # then: the goods opens
    expect(page.locator("h1")).to_contain_text("MASK-BOX-50")


def test_the_other_big_lists_become_cards_with_folded_filters_on_a_phone(page, login_as, stock):
    # given: a draft inbound sheet besides the stock and its freeze
    from inventory.models import InboundSheet
    from warehouses.models import Warehouse

    admin = login_as("admin")
    InboundSheet.objects.create(warehouse=Warehouse.objects.get(code="MEL-01"), created_by=admin)
    page.set_viewport_size({"width": 390, "height": 844})

    for url in ("/inventory/goods/", "/freezes/", "/inventory/inbound/"):
        # when
        page.goto(url)

        # then: filters folded behind their button, rows as cards inside the screen
        expect(page.locator(".filter-toggle")).to_be_visible()
        expect(page.locator("form.filters")).to_be_hidden()
        row = page.locator("table.cards tbody tr").first
        assert row.evaluate("tr => getComputedStyle(tr).display") == "flex", url
        box = _box(row)
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, url
        name = url.strip("/").replace("/", "_")
        page.screenshot(path=str(ARTIFACTS / f"{name}_390.png"), full_page=True)
