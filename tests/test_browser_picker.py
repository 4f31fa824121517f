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


def test_inbound_line_and_bin_transfer_by_keyboard_pickers(page, login_as):
    # given the same bin codes in two warehouses, stock in one bin
    from inventory.models import InboundSheet, StockBalance
    from inventory.tests.factories import BatchFactory, receive_stock
    from warehouses.tests.factories import BinFactory

    first = BinFactory(code="K-01", zone__warehouse__code="KEY-1")
    BinFactory(code="K-02", zone=first.zone)
    BinFactory(code="K-03", zone__warehouse__code="KEY-2")
    goods = GoodsFactory(sku="KBD-7", name="Keyboard tea")
    batch = BatchFactory(goods=goods, batch_no="LOT-A")
    receive_stock(goods, first, 9, batch=batch)
    user = login_as("staff")
    sheet = InboundSheet.objects.create(warehouse=first.warehouse, created_by=user)

    # when: on the draft sheet, goods and bin picked with type, arrows, Enter
    page.goto(f"/inventory/inbound/{sheet.pk}/")
    page.locator("#id_goods").press_sequentially("kbd")
    expect(page.locator("#id_goods-options [role=option]")).to_have_count(1)
    page.locator("#id_goods").press("ArrowDown")
    page.locator("#id_goods").press("Enter")
    expect(page.locator("#id_goods")).to_have_value("KBD-7")
    page.locator("#id_bin").press_sequentially("k-")
    bins = page.locator("#id_bin-options [role=option]")
    expect(bins).to_have_count(2)  # only this warehouse's K-01 and K-02
    expect(bins.first).to_contain_text("KBD-7 × 9")  # what the bin holds
    page.locator("#id_bin").press("ArrowDown")
    page.locator("#id_bin").press("ArrowDown")
    page.locator("#id_bin").press("Enter")
    expect(page.locator("#id_bin")).to_have_value("K-02")
    page.locator("#id_batch_no").press_sequentially("lot")
    expect(page.locator("#id_batch_no-options [role=option]")).to_contain_text("LOT-A")
    page.locator("#id_batch_no").press("ArrowDown")
    page.locator("#id_batch_no").press("Enter")
    page.fill("#id_quantity", "3")
    page.get_by_role("button", name="Add line").click()
    # then
    expect(page.locator("#lines table")).to_contain_text("KBD-7")
    expect(page.locator("#lines table")).to_contain_text("K-02")
    line = sheet.lines.get()
    assert (line.bin.code, line.batch_id, line.quantity) == ("K-02", batch.pk, 3)

    # when: the bin transfer form limits bins to the warehouse chosen in it
    page.goto("/inventory/transfers/bin/")
    page.select_option("#id_warehouse", str(first.warehouse_id))
    page.locator("#id_from_bin").press_sequentially("k")
    expect(page.locator("#id_from_bin-options [role=option]")).to_have_count(2)
    page.locator("#id_from_bin").press("ArrowDown")
    page.locator("#id_from_bin").press("Enter")
    page.locator("#id_to_bin").press_sequentially("k-02")
    page.locator("#id_to_bin").press("ArrowDown")
    page.locator("#id_to_bin").press("Enter")
    page.fill("#id_goods", "KBD-7")
    page.fill("#id_batch_no", "LOT-A")
    page.fill("#id_quantity", "4")
    page.get_by_role("button", name="Move stock").click()
    # then
    expect(page.locator(".messages")).to_be_visible()
    moved = StockBalance.objects.get(goods=goods, bin__code="K-02", bin__warehouse=first.warehouse)
    assert moved.on_hand == 4
