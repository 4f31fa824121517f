"""End to end on a phone (390 px) in headless Chromium: a clerk receives, picks (one wrong scan
refused with a sound and a red flash), moves and counts, all by scan: the codes are typed as a
hardware scanner types them (fast keystrokes and Enter into the focused box)."""

import re

import pytest
from playwright.sync_api import expect

from conftest import ARTIFACTS, TEST_PASSWORD, browser_login
from inventory.models import (
    InboundSheet,
    OutboundSheet,
    StockBalance,
    StockCount,
    StockCountLine,
)
from inventory.services import scanning
from inventory.services import stock as services
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory, ZoneFactory

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
EAN = "4006381333931"

# Count the beeps the page plays (WebAudio oscillators started, and at which pitch).
BEEP_SPY = """
(() => {
  window.__beeps = [];
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  const create = Ctx.prototype.createOscillator;
  Ctx.prototype.createOscillator = function () {
    const osc = create.call(this);
    const start = osc.start.bind(osc);
    osc.start = (...args) => { window.__beeps.push(osc.frequency.value); return start(...args); };
    return osc;
  };
})();
"""


@pytest.fixture
def clerk(chromium, live_server, make_user):
    context = chromium.new_context(base_url=live_server.url, viewport=PHONE, has_touch=True)
    context.set_default_timeout(15_000)
    context.add_init_script(BEEP_SPY)
    page = context.new_page()
    user = make_user("staff")
    browser_login(page, user.username, TEST_PASSWORD)
    yield page, user
    context.close()


def scanner(page, code: str, delay: float = 2) -> None:
    """What a keyboard-wedge scanner does: the code's keystrokes in a burst, then Enter, into
    whatever has the focus (the scan box keeps it)."""
    page.keyboard.type(code, delay=delay)
    page.keyboard.press("Enter")


def scan_twice_at_once(page, code: str, quantity: str | None = None) -> None:
    """A scanner bounce: the same code submitted twice in one go inside the page (with
    ``quantity`` typed for each), so it is a bounce whatever the load on the test machine."""
    page.evaluate(
        """([code, quantity]) => {
            const form = document.querySelector("[data-scan-form]");
            for (let i = 0; i < 2; i++) {
                if (quantity !== null) form.querySelector("#id_quantity").value = quantity;
                form.querySelector("#id_code").value = code;
                form.requestSubmit();
            }
        }""",
        [code, quantity],
    )


def expect_outcome(page, status: str, text: str = "") -> None:
    panel = page.locator("#scan-panel")
    expect(panel).to_have_attribute("data-outcome", status)
    if text:
        expect(panel.locator(".scan-outcome")).to_contain_text(text)


def test_clerk_receives_picks_moves_and_counts_by_scan(clerk, make_user):
    page, user = clerk
    zone = ZoneFactory(warehouse__code="SYD")
    a = BinFactory(zone=zone, code="A-01")
    b = BinFactory(zone=zone, code="B-01")
    mask = GoodsFactory(sku="MASK-BOX-50", name="Masks", barcode=EAN)
    glove = GoodsFactory(sku="GLOVE-M", name="Gloves")
    receive_stock(glove, b, 5)

    # --- receive: bin, then goods; a repeat adds one; a bounce is asked about ---
    sheet = services.inbound_sheet_create(warehouse=zone.warehouse, type="purchase", user=user)
    page.goto(f"/inventory/scan/receive/{sheet.pk}/")
    expect(page.locator("#id_code")).to_be_focused()
    scanner(page, "SYD/A-01")
    expect_outcome(page, "ok", "A-01")
    scanner(page, EAN)
    expect_outcome(page, "ok", "MASK-BOX-50")
    expect(page.locator(".scan-line[data-sku='MASK-BOX-50'] [data-qty]")).to_have_text("1")
    page.wait_for_timeout(400)
    scanner(page, EAN)
    expect(page.locator(".scan-line[data-sku='MASK-BOX-50'] [data-qty]")).to_have_text("2")
    page.wait_for_timeout(400)
    scan_twice_at_once(page, EAN)  # the scanner bounced: the same code again at once
    expect_outcome(page, "bounce", "scanned twice")
    expect(page.locator(".scan-line[data-sku='MASK-BOX-50'] [data-qty]")).to_have_text("3")
    page.get_by_role("button", name="Yes, add another").click()
    expect(page.locator(".scan-line[data-sku='MASK-BOX-50'] [data-qty]")).to_have_text("4")
    page.get_by_role("button", name="Post the sheet").click()
    expect(page.locator("h1")).to_contain_text(sheet.number)
    assert InboundSheet.objects.get(pk=sheet.pk).status == "posted"
    assert StockBalance.objects.get(goods=mask, bin=a).on_hand == 4

    # --- pick from the pick list: a wrong scan is refused at once, with a beep and a flash ---
    out = services.outbound_sheet_create(warehouse=zone.warehouse, type="order_shipment", user=user)
    services.outbound_line_add(sheet=out, goods=mask, quantity=2)
    services.outbound_line_add(sheet=out, goods=glove, quantity=1)
    page.goto(f"/inventory/outbound/{out.pk}/")
    page.get_by_role("link", name="Pick by scan").click()
    expect(page.locator("#id_code")).to_be_focused()  # the scanner types into the scan box
    expect(page.locator(".scan-line")).to_have_count(2)
    scanner(page, "A-01")
    expect_outcome(page, "ok", "MASK-BOX-50 × 2")
    page.evaluate("window.__beeps = []")
    scanner(page, "GLOVE-M")  # wrong goods for this bin
    expect_outcome(page, "refused", "pick GLOVE-M from B-01")
    expect(page.locator("body")).to_have_class(re.compile(r"\bscan-flash-refused\b"))
    page.wait_for_function("window.__beeps.length > 0")
    assert page.evaluate("window.__beeps")[0] < 400  # the low refusal tone
    scanner(page, EAN)
    expect_outcome(page, "ok")
    page.wait_for_timeout(400)
    scanner(page, EAN)
    expect(page.locator(".scan-line[data-sku='MASK-BOX-50'] [data-picked]")).to_have_text("2 / 2")
    scanner(page, "B-01")
    scanner(page, "GLOVE-M")
    expect_outcome(page, "done")
    page.get_by_role("button", name="Ship the sheet").click()
    expect(page.locator("h1")).to_contain_text(out.number)
    assert OutboundSheet.objects.get(pk=out.pk).status == "posted"
    assert StockBalance.objects.get(goods=mask, bin=a).on_hand == 2
    assert StockBalance.objects.get(goods=glove, bin=b).on_hand == 4

    # --- move: from A-01, the goods, into B-01 ---
    page.goto("/inventory/transfers/")
    page.get_by_role("link", name="Move by scan").click()
    expect(page.locator("#id_code")).to_be_focused()
    scanner(page, "A-01")
    expect_outcome(page, "ok", "A-01")
    scanner(page, EAN)
    expect_outcome(page, "ok", "carrying 1")
    scanner(page, "B-01")
    expect_outcome(page, "ok", "Moved 1 units from A-01 to B-01")
    assert StockBalance.objects.get(goods=mask, bin=a).on_hand == 1
    assert StockBalance.objects.get(goods=mask, bin=b).on_hand == 1

    # --- count B-01, blind (the supervisor's choice: the clerk is not offered the switch) ---
    count = services.count_create(warehouse=zone.warehouse, reason="cycle count", user=user)
    scanning.count_set_blind(count=count, blind=True, user=make_user("manager"))
    page.goto(f"/inventory/counts/{count.pk}/")
    page.get_by_role("link", name="Count by scan").click()
    expect(page.locator("#id_code")).to_be_focused()
    expect(page.locator("[data-blind]")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Blind count"))).to_have_count(0)
    scanner(page, "B-01")
    expect_outcome(page, "ok", "B-01")
    for _unit in range(3):
        scanner(page, "GLOVE-M")
        page.wait_for_timeout(350)
    expect(page.locator(".scan-line[data-sku='GLOVE-M'] [data-qty]")).to_have_text("3")
    expect(page.locator("[data-expected]")).to_have_count(0)  # blind: nothing expected shown
    line = StockCountLine.objects.get(count=count, goods=glove)
    assert (line.bin_id, line.counted_quantity) == (b.pk, 3)
    assert StockCount.objects.get(pk=count.pk).is_draft  # a manager posts it
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "scan-count-390.png"), full_page=True)
    # the page fits the phone: nothing wider than the viewport
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_add_another_after_a_bounce_adds_the_quantity_typed_for_it(clerk):
    page, user = clerk
    zone = ZoneFactory(warehouse__code="SYD")
    a = BinFactory(zone=zone, code="A-01")
    mask = GoodsFactory(sku="MASK-BOX-50", barcode=EAN)
    sheet = services.inbound_sheet_create(warehouse=zone.warehouse, type="purchase", user=user)
    page.goto(f"/inventory/scan/receive/{sheet.pk}/")
    scanner(page, "A-01")
    expect_outcome(page, "ok", "A-01")
    # given the clerk typed 5 for a scan, and 5 again for the same code scanned at once after it
    scan_twice_at_once(page, EAN, quantity="5")
    expect_outcome(page, "bounce", "add another 5?")
    expect(page.locator(".scan-line[data-sku='MASK-BOX-50'] [data-qty]")).to_have_text("5")
    expect(page.locator("#id_quantity")).to_have_value("1")
    # when the clerk says yes
    page.get_by_role("button", name="Yes, add another").click()
    # then the 5 typed for the bounced scan are added, not 1
    expect_outcome(page, "ok", "+5 MASK-BOX-50")
    expect(page.locator(".scan-line[data-sku='MASK-BOX-50'] [data-qty]")).to_have_text("10")
    assert sheet.lines.get(goods=mask, bin=a).quantity == 10


def test_camera_library_is_served_from_our_static_files(clerk):
    page, _user = clerk
    zone = ZoneFactory()
    sheet = InboundSheet.objects.create(warehouse=zone.warehouse, created_by=_user)
    page.goto(f"/inventory/scan/receive/{sheet.pk}/")
    url = page.locator("[data-scan-form]").get_attribute("data-camera-library")
    assert url.startswith("/static/")
    response = page.request.get(url)
    assert response.status == 200
    assert "Html5Qrcode" in response.text()
    # only the named file of the package is served, nothing else of node_modules
    assert page.request.get("/static/vendor/package.json").status == 404
