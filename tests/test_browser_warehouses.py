"""End to end in headless Chromium: warehouse staff set up a warehouse and find a bin."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_staff_creates_a_warehouse_zone_and_bins_then_finds_a_bin_in_the_lookup(page, login_as):
    # given
    login_as("staff")

    # when: a warehouse through the list's "New warehouse" form
    page.goto("/warehouses/")
    page.get_by_role("link", name="New warehouse").click()
    page.fill("#id_code", "BNE-01")
    page.fill("#id_name", "Brisbane Eagle Farm")
    page.fill("#id_address", "10 Lavarack Avenue, Eagle Farm QLD 4009, Australia")
    page.fill("#id_latitude", "-27.4310")
    page.fill("#id_longitude", "153.0860")
    page.get_by_role("button", name="Save").click()

    # then: its page
    expect(page.locator("h1")).to_contain_text("BNE-01 · Brisbane Eagle Farm")
    expect(page.locator(".messages")).to_contain_text("Warehouse BNE-01 created.")

    # when: a zone through the inline form (htmx)
    page.fill("#id_zone-code", "PICK")
    page.fill("#id_zone-name", "Forward picking")
    page.select_option("#id_zone-type", "picking")
    page.get_by_role("button", name="Add zone").click()

    # then
    expect(page.locator("#structure")).to_contain_text("Zone PICK added.")
    expect(page.locator("#structure table").first).to_contain_text("Forward picking")

    # when: two bins in that zone
    for code in ("A-01-01", "B-02-01"):
        page.select_option("#id_bin-zone", label="PICK · Forward picking (Picking zone)")
        page.fill("#id_bin-code", code)
        page.get_by_role("button", name="Add bin").click()
        expect(page.locator("#structure")).to_contain_text(f"Bin {code} added.")
    expect(page.locator("#bins")).to_contain_text("2 bins")

    # when: the bin lookup from the side navigation, typing part of the code (live htmx filter)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Bin lookup").click()
    page.fill("#id_code", "a-01")

    # then: only the matching bin, with its warehouse and zone
    results = page.locator("#results tbody tr")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("A-01-01")
    expect(results.first).to_contain_text("BNE-01")
    expect(results.first).to_contain_text("Picking zone")
    expect(page).to_have_url(re.compile(r"/warehouses/bins/\?code=a-01&"))  # shareable filters
