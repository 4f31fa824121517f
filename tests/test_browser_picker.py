"""End to end in headless Chromium: the picker on the scan box is driven by keyboard only."""

import pytest
from playwright.sync_api import expect

from inventory.tests.factories import GoodsFactory

pytestmark = pytest.mark.browser


def test_type_arrows_and_enter_pick_goods_then_open_them(page, login_as):
    # given
    GoodsFactory(sku="PICK-A", name="Alpha")
    GoodsFactory(sku="PICK-B", name="Bravo")
    login_as("staff")
    page.goto("/scan/")
    box = page.locator("#id_code")
    # when: a few letters, the second option, Enter
    box.press_sequentially("pick")
    options = page.locator("#id_code-options [role=option]")
    expect(options).to_have_count(2)
    box.press("ArrowDown")
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    # then: the field holds the SKU and the list is closed; Enter again opens the goods
    expect(box).to_have_value("PICK-B")
    expect(page.locator("#id_code-options")).to_be_hidden()
    box.press("Enter")
    expect(page.locator("h1")).to_contain_text("PICK-B")


def test_a_scanner_code_and_enter_open_at_once(page, login_as):
    GoodsFactory(sku="SCN-1", barcode="4006381333931")
    login_as("staff")
    page.goto("/scan/")
    page.locator("#id_code").press_sequentially("4006381333931\n", delay=5)
    expect(page.locator("h1")).to_contain_text("SCN-1")
