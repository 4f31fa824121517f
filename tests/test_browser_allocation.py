"""The "Done when" story of issue 10 in headless Chromium on phone viewports (390 px), in
English and in Chinese: a warehouse manager opens a first-come window; three store managers grab
on their phones (granted in full, partly, refused with the reason), the pool's "left" updating
live on a phone that does not reload; the order is picked, shipped and received with one
shortage; a return is filed and received frozen (the returns auto-freeze rule); the report shows
the success rate and the pool's distribution."""

import datetime

import pytest
from playwright.sync_api import expect

from allocation.models import GrabRequest, ReplenishmentOrder, StoreReturn, StoreSales
from allocation.tests.factories import PolicyFactory, StoreFactory
from conftest import TEST_PASSWORD, browser_login
from freezes.models import FreezeRule, Reason, ReleaseMode
from freezes.services import rules
from inventory.models import StockBalance
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

WORDS = {
    "en": {
        "grab": "Grab",
        "save_window": "Save window",
        "close_now": "Close now",
        "start_picking": "Start picking",
        "ship": "Ship",
        "confirm": "Confirm receipt",
        "file_return": "File return",
        "receive": "Receive",
        "granted_full": "granted in full",
        "partly": "30 granted",
        "refused": "Nothing is left in the pool",
        "success": "Grab success rate",
    },
    "zh-hans": {
        "grab": "抢单",
        "save_window": "保存时段",
        "close_now": "立即结束",
        "start_picking": "开始拣货",
        "ship": "发出",  # the root catalogue's word for the verb, shared by the stock screens
        "confirm": "确认签收",
        "file_return": "提交退货",
        "receive": "收货",
        "granted_full": "已全部批准",
        "partly": "批准 30 件",
        "refused": "货池已抢完",
        "success": "抢单成功率",
    },
}


@pytest.fixture
def phone(chromium, live_server):
    """``phone(language)``: a new phone-sized page (its own cookies) in that language."""
    contexts = []

    def _open(language: str):
        context = chromium.new_context(base_url=live_server.url, viewport=PHONE)
        context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def _fits_the_phone(page) -> None:
    page.wait_for_load_state()  # a form just posted may still be navigating (no document yet)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_grab_ship_receive_return_and_report_on_phones(phone, make_user, language):
    w = WORDS[language]
    # given: 100 units in the warehouse, three stores with a manager each, the returns rule on
    bin = BinFactory(code="R-01")
    goods = GoodsFactory(sku="TEA-1", name="Green tea")
    receive_stock(goods, bin, 100)
    manager = make_user("manager", "wm")
    rules.rule_set_active(
        rule=rules.rule_create(
            operator=manager,
            name="Freeze returns",
            kind=FreezeRule.Kind.SALES_RETURN,
            reason=Reason.AFTER_SALES_RETURN,
            release_mode=ReleaseMode.MANUAL,
        ),
        operator=manager,
        active=True,
    )
    policy = PolicyFactory(name="Weekly")
    people = {}
    for code in ("A01", "B01", "C01"):
        user = make_user("store", f"mgr-{code.lower()}")
        StoreFactory(code=code).managers.add(user)
        people[code] = user

    # when: the warehouse manager opens a first-come window of 50 units on his phone
    office = phone(language)
    browser_login(office, "wm", TEST_PASSWORD)
    office.goto("/allocation/windows/new/")
    office.fill("#id_name", "Monday tea")
    office.select_option("#id_warehouse", str(bin.warehouse_id))
    office.select_option("#id_policy", str(policy.pk))
    office.select_option("#id_mode", "first_come")
    office.select_option("#id_scope", "all")
    office.fill("#id_goods_0", goods.sku)
    office.fill("#id_quantity_0", "50")
    office.get_by_role("button", name=w["save_window"]).click()
    expect(office.locator("#pools")).to_contain_text("50")

    # when: three store managers grab on their phones; B's page shows what is left, live
    shops = {}
    for code, user in people.items():
        shops[code] = phone(language)
        browser_login(shops[code], user.username, TEST_PASSWORD)
        shops[code].goto("/allocation/grab/")
    expect(shops["B01"].locator("#windows")).to_contain_text("Monday tea")
    _fits_the_phone(shops["B01"])

    def grab(code: str, quantity: int) -> None:
        page = shops[code]
        page.goto("/allocation/grab/")
        page.locator(".grab-window a.button").click()
        _fits_the_phone(page)
        page.fill("#id_quantity", str(quantity))
        page.get_by_role("button", name=w["grab"], exact=True).click()

    grab("A01", 20)
    expect(shops["A01"].locator(".messages")).to_contain_text(w["granted_full"])
    shops["C01"].goto("/allocation/grab/")  # C watches without reloading from here on
    expect(shops["C01"].locator("#windows")).to_contain_text("30")
    grab("B01", 40)
    expect(shops["B01"].locator(".messages")).to_contain_text(w["partly"])
    expect(shops["C01"].locator("#windows tbody strong")).to_have_text("0", timeout=12_000)
    grab("C01", 5)
    expect(shops["C01"].locator(".messages")).to_contain_text(w["refused"])
    expect(shops["C01"].locator(".request").first).to_contain_text(w["refused"])
    _fits_the_phone(shops["C01"])
    granted = dict(GrabRequest.objects.values_list("store__code", "granted"))
    assert granted == {"A01": 20, "B01": 30, "C01": 0}

    # when: the window closes; A's order is picked and shipped
    office.goto(office.url)
    office.get_by_role("button", name=w["close_now"]).click()
    order = ReplenishmentOrder.objects.get(store__code="A01")
    office.goto(f"/allocation/orders/{order.pk}/")
    office.get_by_role("button", name=w["start_picking"]).click()
    office.goto(f"/allocation/orders/{order.pk}/pick-list/")
    expect(office.locator("table")).to_contain_text("R-01")
    office.goto(f"/allocation/orders/{order.pk}/")
    office.get_by_role("button", name=w["ship"], exact=True).click()
    order.refresh_from_db()
    assert order.status == ReplenishmentOrder.Status.SHIPPED

    # when: A receives it with one unit short, then returns 2 damaged units
    shop = shops["A01"]
    shop.goto(f"/allocation/orders/{order.pk}/")
    _fits_the_phone(shop)
    line = order.lines.get()
    shop.fill(f"#received_{line.pk}", "19")
    shop.get_by_role("button", name=w["confirm"]).click()
    line.refresh_from_db()
    assert (line.received, line.shortage) == (19, 1)
    shop.fill(f"#return_{line.pk}", "2")
    shop.select_option("#id_reason", "damaged")
    shop.fill("#id_note", "Crushed box")
    shop.get_by_role("button", name=w["file_return"]).click()
    store_return = StoreReturn.objects.get()

    # then: the warehouse receives the return, and it arrives frozen
    office.goto(f"/allocation/returns/{store_return.pk}/receive/")
    office.fill("#id_bin", bin.code)
    office.get_by_role("button", name=w["receive"], exact=True).click()
    balance = StockBalance.objects.get(goods=goods, bin=bin)
    assert balance.frozen == 2
    shop.goto(f"/allocation/orders/{order.pk}/")
    expect(shop.locator(".timeline li")).to_have_count(6)

    # then: the report shows the success rate and how the pool was shared
    office.goto(f"/allocation/windows/{order.window_id}/report/")
    expect(office.locator("#success-rate")).to_have_text("66.7%")
    expect(office.locator("body")).to_contain_text(w["success"])
    expect(office.locator("svg.chart-svg rect")).to_have_count(3)  # one bar per store
    expect(office.locator("svg.chart-svg")).to_contain_text("A01")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_store_manager_screen_fits_the_phone(phone, make_user, language):
    # given a store manager with a week of sales entered for a goods with a long SKU
    user = make_user("store", "shop-mgr")
    store = StoreFactory(code="S-PARRAMATTA")
    store.managers.add(user)
    goods = GoodsFactory(sku="CHARGER-USB-C-20W-WHITE", name="Charger")
    today = datetime.date.today()
    for days in range(7):
        StoreSales.objects.create(
            store=store,
            goods=goods,
            day=today - datetime.timedelta(days=days),
            units_sold=8,
            on_hand=38,
        )
    page = phone(language)
    browser_login(page, user.username, TEST_PASSWORD)
    # when he opens each of his screens, then none is wider than the phone
    for url in [
        "/allocation/grab/",
        "/allocation/requests/",
        "/allocation/orders/",
        "/allocation/returns/",
        "/allocation/sales/",
        "/allocation/reports/stores/",
    ]:
        page.goto(url)
        _fits_the_phone(page)
