"""End to end in headless Chromium (issue 5): a clerk freezes a batch with a reason; the stock
query shows it in blue and shipping it is refused; the clerk asks for its release and cannot
approve it; the manager approves; the stock ships."""

import datetime

import pytest
from playwright.sync_api import expect

from inventory.models import StockBalance, StockMovement
from inventory.tests.factories import BatchFactory, GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = pytest.mark.browser

FROZEN_BLUE = "rgb(28, 111, 209)"  # --frozen in wms.css


def _log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/**")


def _ship(page, warehouse, reference: str) -> None:
    page.goto("/inventory/outbound/new/")
    page.select_option("#id_warehouse", str(warehouse.pk))
    page.select_option("#id_type", "order_shipment")
    page.fill("#id_reference", reference)
    page.get_by_role("button", name="Create and add lines").click()
    page.fill("#id_goods", "SNK-1")
    page.fill("#id_quantity", "5")
    page.fill("#id_bin", "F-01")
    page.get_by_role("button", name="Add line").click()
    expect(page.locator("#lines table")).to_contain_text("SNK-1")
    page.get_by_role("button", name="Post sheet").click()


def test_freeze_a_batch_see_it_blue_refuse_shipping_then_release_with_approval_and_ship(
    page, login_as
):
    # given: 5 units of one batch in bin F-01
    bin = BinFactory(code="F-01", zone__warehouse__code="MEL-01")
    warehouse = bin.warehouse
    goods = GoodsFactory(sku="SNK-1", name="Rice crackers")
    batch = BatchFactory(
        goods=goods,
        batch_no="2024-03",
        expiry_date=datetime.date.today() + datetime.timedelta(days=300),
    )
    receive_stock(goods, bin, 5, batch=batch)
    clerk = login_as("staff")

    # when: the clerk freezes the batch with a reason, after the preview
    page.goto("/freezes/new/")
    page.fill("#id_goods", "snk-1")
    page.fill("#id_batch", "2024-03")
    page.select_option("#id_reason", "qc_hold")
    page.fill("#id_note", "Torn packaging on arrival")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".preview")).to_contain_text("5 units would be frozen")
    page.get_by_role("button", name="Confirm: freeze 5 units").click()

    # then
    expect(page.locator(".messages")).to_contain_text("created")
    expect(page.locator("h1")).to_contain_text("FRZ-")
    freeze_url = page.url
    expect(page.locator(".timeline")).to_contain_text("Frozen")

    # then: the stock query shows the frozen units in blue, linked to who holds them and why
    page.goto("/inventory/stock/?q=SNK-1")
    frozen_cell = page.locator("#results tbody tr td.frozen").first
    expect(frozen_cell.locator("a").first).to_have_text("5")
    expect(frozen_cell).to_contain_text("QC hold")  # reason and operator load into the row
    expect(frozen_cell).to_contain_text(clerk.username)
    assert frozen_cell.evaluate("cell => getComputedStyle(cell).color") == FROZEN_BLUE
    expect(page.locator("#results tbody tr td.available")).to_have_text("0")
    frozen_cell.locator("a").first.click()
    expect(page.locator(".freeze-holds")).to_contain_text("QC hold")
    expect(page.locator(".freeze-holds")).to_contain_text(clerk.username)

    # when / then: shipping it is refused
    _ship(page, warehouse, "ORDER-1")
    # the refusal names the freeze holding the stock and links to its release request
    refusal = page.locator(".messages")
    freeze_number = freeze_url.rstrip("/").rsplit("/", 1)[-1]
    expect(refusal).to_contain_text("Not enough SNK-1: 5 requested, 0 available: 5 on hand")
    expect(refusal).to_contain_text(f"5 frozen by FRZ-{int(freeze_number):06d} (QC hold)")
    expect(refusal.locator("a.release-link")).to_have_attribute(
        "href", f"/freezes/{freeze_number}/release/"
    )
    expect(page.locator("h1")).not_to_contain_text("Posted")

    # when: the clerk asks for the release, straight from the refusal's link
    refusal.locator("a.release-link").click()
    page.fill("#id_reason", "QC recheck passed")
    page.get_by_role("button", name="Request release").click()
    expect(page.locator(".messages")).to_contain_text("an approver will decide")

    # then: the same clerk cannot approve it
    page.goto("/freezes/releases/")
    expect(page.locator("article.request")).to_contain_text("QC recheck passed")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    decide_url = page.evaluate(
        "() => document.querySelector('article.request').id.replace('request-', '')"
    )
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    refused = page.request.post(
        f"/freezes/releases/{decide_url}/decide/",
        form={"decision": "approve", "comment": "self-approval"},
        headers={"X-CSRFToken": token, "Referer": page.url},
    )
    assert refused.status == 403

    # when: the manager approves with a comment
    _log_out(page)
    login_as("manager")
    page.goto("/freezes/releases/")
    page.locator("article.request textarea").fill("Checked the batch myself")
    page.get_by_role("button", name="Approve").click()

    # then: released, on the timeline, and the stock ships
    expect(page.locator(".messages")).to_contain_text("5 units")
    page.goto(freeze_url)
    expect(page.locator(".timeline")).to_contain_text("Release approved")
    expect(page.locator("h1")).to_contain_text("Closed")
    _ship(page, warehouse, "ORDER-2")
    expect(page.locator(".messages")).to_contain_text("posted")
    balance = StockBalance.objects.get(goods=goods)
    assert (balance.on_hand, balance.frozen) == (0, 0)
    shipped = StockMovement.objects.filter(goods=goods, kind="out_order_shipment")
    assert list(shipped.values_list("quantity", flat=True)) == [5]
