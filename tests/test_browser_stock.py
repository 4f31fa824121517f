"""End to end in headless Chromium: a clerk receives goods on an inbound sheet, moves some to
another bin, ships some on an outbound sheet, and the stock query and the ledger agree."""

import re

import pytest
from playwright.sync_api import expect

from inventory.tests.factories import GoodsFactory
from warehouses.tests.factories import BinFactory

pytestmark = pytest.mark.browser


def test_receive_transfer_ship_then_stock_query_and_ledger_match(page, login_as):
    # given
    first = BinFactory(code="A-01", zone__warehouse__code="SYD-09")
    BinFactory(code="A-02", zone=first.zone)
    warehouse = first.warehouse
    GoodsFactory(sku="BRW-1", name="Green tea 100g")
    login_as("staff")

    # when: an inbound purchase sheet with one line, posted
    page.goto("/inventory/inbound/new/")
    page.select_option("#id_warehouse", str(warehouse.pk))
    page.select_option("#id_type", "purchase")
    page.fill("#id_reference", "PO-2026-7")
    page.get_by_role("button", name="Create and add lines").click()
    expect(page.locator("h1")).to_contain_text("IN-")
    page.fill("#id_goods", "brw-1")
    page.fill("#id_bin", "A-01")
    page.fill("#id_quantity", "10")
    page.get_by_role("button", name="Add line").click()
    expect(page.locator("#lines table")).to_contain_text("BRW-1")
    page.get_by_role("button", name="Post sheet").click()

    # then
    expect(page.locator(".messages")).to_contain_text("posted")
    expect(page.locator("h1")).to_contain_text("Posted")

    # when: 4 units moved from in one step
    page.goto("/inventory/transfers/bin/")
    page.select_option("#id_warehouse", str(warehouse.pk))
    page.fill("#id_goods", "BRW-1")
    page.fill("#id_from_bin", "A-01")
    page.fill("#id_to_bin", "a-02")
    page.fill("#id_quantity", "4")
    page.get_by_role("button", name="Move stock").click()

    # then
    expect(page.locator(".messages")).to_contain_text("moved from A-01 to A-02")

    # when: an order shipment of 3 units from A-02, posted
    page.goto("/inventory/outbound/new/")
    page.select_option("#id_warehouse", str(warehouse.pk))
    page.select_option("#id_type", "order_shipment")
    page.fill("#id_reference", "ORDER-1001")
    page.get_by_role("button", name="Create and add lines").click()
    page.fill("#id_goods", "BRW-1")
    page.fill("#id_quantity", "3")
    page.fill("#id_bin", "A-02")
    page.get_by_role("button", name="Add line").click()
    expect(page.locator("#lines table")).to_contain_text("BRW-1")
    page.get_by_role("button", name="Post sheet").click()
    expect(page.locator(".messages")).to_contain_text("posted")

    # then: the stock query shows 6 in A-01 and 1 in A-02
    page.goto("/inventory/stock/?q=BRW-1")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)
    on_hand = {}
    for i in range(2):
        cells = rows.nth(i).locator("td")
        on_hand[cells.nth(3).inner_text().split()[0]] = int(cells.nth(6).inner_text())
    assert on_hand == {"A-01": 6, "A-02": 1}

    # then: per goods it is 7, and the ledger's on-hand changes add up to the same 7
    page.select_option("#id_group", "goods")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results tbody tr td.on-hand")).to_have_text("7")
    expect(page).to_have_url(re.compile(r"group=goods"))
    page.goto("/inventory/ledger/?goods=BRW-1")
    movements = page.locator("#results tbody tr.movement")
    expect(movements).to_have_count(4)
    changes = [int(movements.nth(i).locator("td").nth(8).inner_text()) for i in range(4)]
    assert sorted(changes) == [-4, -3, 4, 10]
    assert sum(changes) == 7
    expect(movements.first).to_contain_text("OUT-")
