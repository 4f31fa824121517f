"""The screens: a store manager grabs from his phone, follows requests and orders, receives and
files a return; the warehouse opens, closes, picks, ships and receives; another store's
manager gets 404 on every URL of an object that is not his."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from allocation.models import GrabRequest, GrabWindow, ReplenishmentOrder, StoreReturn
from allocation.services import close, grabs, orders, returns, windows

pytestmark = pytest.mark.django_db


def _closed_order_of_store_a(world, *, quantity: int) -> ReplenishmentOrder:
    """Store A grabs ``quantity`` in an open window and the window closes: its order."""
    window = world.open_window()
    grabs.grab_request_submit(
        user=world.alice,
        store=world.store_a,
        window=window,
        goods_id=world.goods.pk,
        quantity=quantity,
    )
    close.window_close(window_id=window.pk)
    return ReplenishmentOrder.objects.get()


def test_a_store_manager_grabs_on_the_phone_screens(client, world):
    window = world.open_window()
    client.force_login(world.alice)
    home = client.get(reverse("allocation:grab-home"))
    assert home.status_code == 200 and b"Monday tea" in home.content
    partial = client.get(reverse("allocation:grab-home"), HTTP_HX_REQUEST="true")
    assert b"every 5s" in partial.content and b"<html" not in partial.content
    page = client.get(reverse("allocation:grab", args=[window.pk]))
    assert page.status_code == 200
    key = page.context["form"].initial["client_key"]
    data = {"store": world.store_a.pk, "goods": world.goods.pk, "quantity": 30, "client_key": key}
    response = client.post(reverse("allocation:grab", args=[window.pk]), data)
    assert response.status_code == 302
    client.post(reverse("allocation:grab", args=[window.pk]), data)  # double tap
    assert GrabRequest.objects.get().granted == 30
    bad = client.post(reverse("allocation:grab", args=[window.pk]), {**data, "quantity": "0"})
    assert bad.status_code == 422
    requests = client.get(reverse("allocation:my-requests"))
    assert b"30" in requests.content


def test_the_warehouse_closes_picks_ships_and_the_store_receives_and_returns(client, world):
    window = world.open_window()
    grabs.grab_request_submit(
        user=world.alice, store=world.store_a, window=window, goods_id=world.goods.pk, quantity=20
    )
    client.force_login(world.manager)
    assert client.get(reverse("allocation:window-detail", args=[window.pk])).status_code == 200
    client.post(reverse("allocation:window-close", args=[window.pk]))
    order = ReplenishmentOrder.objects.get()
    assert client.get(reverse("allocation:window-pick-list", args=[window.pk])).status_code == 200
    client.post(reverse("allocation:order-pick", args=[order.pk]))
    assert client.get(reverse("allocation:order-pick-list", args=[order.pk])).status_code == 200
    client.post(reverse("allocation:order-ship", args=[order.pk]))
    report = client.get(reverse("allocation:window-report", args=[window.pk]))
    assert b"100.0%" in report.content
    assert (
        client.get(
            reverse("allocation:window-report", args=[window.pk]) + "?format=csv"
        ).status_code
        == 200
    )
    client.force_login(world.alice)
    line = order.lines.first()
    client.post(
        reverse("allocation:order-receive", args=[order.pk]),
        {f"received_{line.pk}": str(line.quantity - 1), f"damaged_{line.pk}": "0"},
    )
    order.refresh_from_db()
    assert order.status == ReplenishmentOrder.Status.RECEIVED
    client.post(
        reverse("allocation:return-file", args=[order.pk]),
        {f"return_{line.pk}": "2", "reason": "damaged", "note": "box crushed"},
    )
    store_return = StoreReturn.objects.get()
    client.force_login(world.manager)
    response = client.post(
        reverse("allocation:return-receive", args=[store_return.pk]), {"bin": world.bin.code}
    )
    assert response.status_code == 302
    store_return.refresh_from_db()
    assert store_return.status == StoreReturn.Status.RECEIVED


def test_every_url_of_another_stores_data_is_404(client, world):
    window = world.open_window(scope=GrabWindow.Scope.LIST, stores=[world.store_b])
    request = grabs.grab_request_submit(
        user=world.bob, store=world.store_b, window=window, goods_id=world.goods.pk, quantity=5
    )
    close.window_close(window_id=window.pk)
    order = ReplenishmentOrder.objects.get()
    orders.order_ship(order_id=order.pk, user=world.manager)
    orders.order_receive(order_id=order.pk, user=world.bob, received={})
    line = order.lines.first()
    store_return = returns.return_file(
        user=world.bob, order_id=order.pk, lines={line.pk: 1}, reason="surplus"
    )
    client.force_login(world.alice)
    gets = [
        reverse("allocation:grab", args=[window.pk]),
        reverse("allocation:order-detail", args=[order.pk]),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [
        reverse("allocation:request-cancel", args=[request.pk]),
        reverse("allocation:order-receive", args=[order.pk]),
        reverse("allocation:return-file", args=[order.pk]),
    ]
    for url in posts:
        assert client.post(url, {"reason": "surplus"}).status_code == 404, url
    # warehouse-only screens are forbidden to a store manager
    for url in [
        reverse("allocation:window-detail", args=[window.pk]),
        reverse("allocation:window-report", args=[window.pk]),
        reverse("allocation:order-pick-list", args=[order.pk]),
        reverse("allocation:return-receive", args=[store_return.pk]),
        reverse("allocation:window-create"),
    ]:
        assert client.get(url).status_code == 403, url
    assert b"B01" not in client.get(reverse("allocation:order-list")).content
    assert b"B01" not in client.get(reverse("allocation:my-requests")).content
    assert client.get(reverse("allocation:grab", args=["99999999999999999999"])).status_code == 404


def test_the_window_form_opens_a_window_and_refuses_bad_input(client, world):
    client.force_login(world.manager)
    now = timezone.localtime()
    data = {
        "name": "Flash",
        "warehouse": world.warehouse.pk,
        "policy": world.policy.pk,
        "mode": "first_come",
        "opens_at": (now - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "scope": "all",
        "goods_0": world.goods.sku,
        "quantity_0": "500",
    }
    response = client.post(reverse("allocation:window-create"), data)
    assert response.status_code == 422 and not GrabWindow.objects.exists()
    data["quantity_0"] = "50"
    response = client.post(reverse("allocation:window-create"), data)
    assert response.status_code == 302
    assert GrabWindow.objects.get().status == GrabWindow.Status.OPEN
    for url in [
        "allocation:window-list",
        "allocation:store-list",
        "allocation:policy-list",
        "allocation:return-list",
        "allocation:order-list",
    ]:
        assert client.get(reverse(url)).status_code == 200, url
    ranking = client.get(
        reverse("allocation:policy-detail", args=[world.policy.pk]), {"goods": world.goods.sku}
    )
    assert b"A01" in ranking.content


def test_stores_get_managers_and_policies_are_edited_on_screens(client, world):
    client.force_login(world.manager)
    url = reverse("allocation:store-edit", args=[world.store_a.pk])
    assert client.get(url).status_code == 200
    data = {"code": "A01", "name": "Renamed", "managers": [world.alice.pk, world.bob.pk]}
    assert client.post(url, data).status_code == 302
    assert set(world.store_a.managers.values_list("username", flat=True)) == {"alice", "bob"}
    url = reverse("allocation:policy-edit", args=[world.policy.pk])
    data = {"name": "Weekly", "priority": "fixed_rank", "lookback_days": 14, "share": "lottery"}
    data |= {"cycle": "weekly", "weekdays": "0", "min_sales": 0, "is_active": "on"}
    assert client.post(url, data).status_code == 302
    world.policy.refresh_from_db()
    assert (world.policy.share, world.policy.lookback_days) == ("lottery", 14)
    client.force_login(world.alice)
    assert client.get(reverse("allocation:store-edit", args=[world.store_a.pk])).status_code == 403


def test_the_reports_explain_every_decision_and_follow_stores_over_time(client, world):
    window = world.open_window(offers=[windows.Offer(world.goods, 10)])
    grabs.grab_request_submit(
        user=world.alice, store=world.store_a, window=window, goods_id=world.goods.pk, quantity=8
    )
    grabs.grab_request_submit(
        user=world.bob, store=world.store_b, window=window, goods_id=world.goods.pk, quantity=8
    )
    client.force_login(world.manager)
    page = client.get(reverse("allocation:window-report", args=[window.pk]))
    assert b"Left before 10" in page.content and b"Only 2 were left" in page.content
    page = client.get(reverse("allocation:store-report"))
    assert b"A01" in page.content and b"62.5%" not in page.content
    rows = {row["store"].code: row for row in page.context["rows"]}
    assert (rows["A01"]["fill_rate"], rows["B01"]["fill_rate"]) == (100.0, 25.0)
    client.force_login(world.alice)
    rows = client.get(reverse("allocation:store-report")).context["rows"]
    assert [row["store"].code for row in rows] == ["A01"]
    csv_page = client.get(reverse("allocation:store-report") + "?format=csv")
    assert b"B01" not in csv_page.content


def test_a_recurring_window_schedules_the_next_one_at_its_close(world):
    world.policy.cycle = "daily"
    world.policy.save()
    window = world.open_window(recurs=True)
    close.window_close(window_id=window.pk)
    window.refresh_from_db()
    nxt = window.next_window
    assert nxt.status == GrabWindow.Status.SCHEDULED
    assert nxt.opens_at - window.opens_at == datetime.timedelta(days=1)
    assert list(nxt.pools.values_list("goods_id", "offered")) == [(world.goods.pk, 100)]


def test_the_grab_decisions_export_as_csv_and_xlsx_from_the_window_report(client, world):
    import csv
    import io
    import zipfile

    world.policy.cap_per_goods = 30
    world.policy.save()
    window = world.open_window()
    for user, store, quantity in [
        (world.alice, world.store_a, 40),
        (world.bob, world.store_b, 30),
        (world.carol, world.store_c, 50),
    ]:
        grabs.grab_request_submit(
            user=user, store=store, window=window, goods_id=world.goods.pk, quantity=quantity
        )
    url = reverse("allocation:window-decisions-export", args=[window.pk])
    client.force_login(world.alice)
    assert client.get(url).status_code in (302, 403, 404)
    client.force_login(world.manager)
    report = client.get(reverse("allocation:window-report", args=[window.pk]))
    assert url.encode() in report.content
    response = client.get(url, {"format": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["Decision", "Time", "Request", "Store"]
    by_store = {row[3]: row for row in rows[1:]}
    assert set(by_store) == {"A01", "B01", "C01"}
    assert by_store["A01"][9] == "30" and "30" in by_store["A01"][10]  # capped at 30
    assert by_store["C01"][9] == "30"  # only 30 were left
    assert '"requested": 50' in by_store["C01"][11]
    xlsx = client.get(url, {"format": "xlsx"})
    assert xlsx.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(xlsx.streaming_content))) as book:
        assert b"C01" in book.read("xl/worksheets/sheet1.xml")
    assert client.get(url, {"format": "pdf"}).status_code == 404


def test_the_window_report_title_is_plain_text_and_lists_each_decision_once(client, world):
    # given a window with one answered request
    window = world.open_window()
    grabs.grab_request_submit(
        user=world.alice, store=world.store_a, window=window, goods_id=world.goods.pk, quantity=5
    )
    client.force_login(world.manager)
    # when the report is shown
    page = client.get(reverse("allocation:window-report", args=[window.pk])).content.decode()
    # then the browser tab reads "Window report GW..." (no markup) and the decisions show once
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and "&lt;" not in title and window.ref in title
    assert page.count("Granted in full.") == 1


@pytest.mark.parametrize("state", ["closed", "cancelled", "upcoming"])
def test_the_grab_screen_of_a_window_not_open_offers_no_grab_button(client, world, state):
    # given a window that has closed, was cancelled, or has not opened yet
    if state == "upcoming":
        now = timezone.now()
        window = windows.window_create(
            name="Later tea",
            warehouse=world.warehouse,
            policy=world.policy,
            mode=GrabWindow.Mode.FIRST_COME,
            opens_at=now + datetime.timedelta(hours=1),
            closes_at=now + datetime.timedelta(hours=2),
            scope=GrabWindow.Scope.ALL,
            offers=[windows.Offer(world.goods, 10)],
            user=world.manager,
        )
    else:
        window = world.open_window()
        if state == "closed":
            close.window_close(window_id=window.pk)
        else:
            windows.window_cancel(window_id=window.pk, user=world.manager)
    client.force_login(world.alice)
    # when the store manager opens its grab screen (a stale link, the back button)
    page = client.get(reverse("allocation:grab", args=[window.pk])).content.decode()
    # then he is told why, and there is no form that can only fail
    expected = {
        "closed": "This window has closed.",
        "cancelled": "This window was cancelled.",
        "upcoming": "This window is not open yet.",
    }[state]
    assert expected in page
    assert 'name="quantity"' not in page


def test_a_return_note_too_long_says_so_not_choose_a_reason(client, world):
    # given a received order of store A
    order = _closed_order_of_store_a(world, quantity=5)
    orders.order_ship(order_id=order.pk, user=world.manager)
    orders.order_receive(order_id=order.pk, user=world.alice, received={})
    line = order.lines.get()
    client.force_login(world.alice)
    # when a return is filed with a reason and a note over 255 characters
    response = client.post(
        reverse("allocation:return-file", args=[order.pk]),
        {f"return_{line.pk}": "1", "reason": "damaged", "note": "x" * 300},
        follow=True,
    )
    # then the message names the note, and nothing is filed
    text = response.content.decode()
    assert "Choose a reason." not in text and "at most 255 characters" in text
    assert not StoreReturn.objects.exists()


def test_the_pick_list_of_a_cancelled_order_lists_nothing_to_pick(client, world):
    # given an order cancelled before picking (its stock is available again)
    order = _closed_order_of_store_a(world, quantity=5)
    orders.order_cancel(order_id=order.pk, user=world.manager)
    client.force_login(world.manager)
    # when its pick list is opened (a bookmarked or printed link)
    page = client.get(reverse("allocation:order-pick-list", args=[order.pk]))
    # then nobody is sent to pick its stock
    assert page.status_code == 200
    assert page.context["rows"] == [] and b"Nothing to pick." in page.content


def test_closing_a_cancelled_window_says_it_is_not_open(client, world):
    # given a cancelled window (a second tab still shows its "Close now" button)
    window = world.open_window()
    windows.window_cancel(window_id=window.pk, user=world.manager)
    client.force_login(world.manager)
    # when "Close now" is pressed
    response = client.post(reverse("allocation:window-close", args=[window.pk]), follow=True)
    # then the manager is told it cannot be closed, not that orders were made
    text = response.content.decode()
    assert "Only an open window can be closed." in text and "Window closed;" not in text
    window.refresh_from_db()
    assert window.status == GrabWindow.Status.CANCELLED


def test_the_polled_grab_list_costs_the_same_queries_for_more_windows(client, world):
    # given a store manager of three stores and a window open to chosen stores
    world.store_b.managers.add(world.alice)
    world.store_c.managers.add(world.alice)
    offers = [windows.Offer(world.goods, 5)]
    world.open_window(scope=GrabWindow.Scope.LIST, stores=[world.store_a], offers=offers)
    client.force_login(world.alice)
    url = reverse("allocation:grab-home")
    client.get(url, HTTP_HX_REQUEST="true")
    with CaptureQueriesContext(connection) as one:
        client.get(url, HTTP_HX_REQUEST="true")
    # when three more such windows open
    for _ in range(3):
        world.open_window(scope=GrabWindow.Scope.LIST, stores=[world.store_b], offers=offers)
    with CaptureQueriesContext(connection) as four:
        page = client.get(url, HTTP_HX_REQUEST="true")
    # then each poll still costs the same number of queries
    assert page.content.count(b"grab-window") == 4
    assert len(four.captured_queries) == len(one.captured_queries)


def test_the_store_report_gives_each_store_its_cover_in_the_same_queries_for_more_stores(world):
    from allocation.models import StoreSales
    from allocation.selectors import store_report
    from allocation.tests.factories import StoreFactory

    today = timezone.localdate()

    def sales(store, day_ago, sold, on_hand, goods=None):
        StoreSales.objects.create(
            store=store,
            goods=goods or world.goods,
            day=today - datetime.timedelta(days=day_ago),
            units_sold=sold,
            on_hand=on_hand,
        )

    # A01 sold 56 in 28 days (2 a day) and holds 6 + 4 on its latest day (yesterday);
    # B01 last reported on-hand three days ago (7), yesterday only sales
    sales(world.store_a, 1, 28, 6)
    sales(world.store_a, 1, 28, 4, goods=world.other_goods)
    sales(world.store_a, 3, 0, 99)
    sales(world.store_b, 3, 14, 7)
    sales(world.store_b, 1, 14, None)
    store_report(world.manager)  # the manager's permissions cached, as on a second page view
    with CaptureQueriesContext(connection) as few:
        rows = {row["store"].code: row for row in store_report(world.manager)}
    assert (rows["A01"]["cover"], rows["B01"]["cover"], rows["C01"]["cover"]) == (5.0, 7.0, None)
    for n in range(5):  # more stores reporting on other days cost no more queries
        store = StoreFactory(code=f"M{n}")
        sales(store, 2 + n, 5, 3)
    with CaptureQueriesContext(connection) as more:
        store_report(world.manager)
    assert len(more) == len(few) == 5


def test_a_suggestion_row_fills_the_grab_form_with_its_store_goods_and_quantity(client, world):
    from allocation.models import StoreSales
    from allocation.selectors import suggestions

    # given alice, who runs two stores, and a window offering two goods
    window = world.open_window(
        offers=[windows.Offer(world.goods, 100), windows.Offer(world.other_goods, 40)]
    )
    world.store_b.managers.add(world.alice)
    StoreSales.objects.create(
        store=world.store_b,
        goods=world.other_goods,
        day=timezone.localdate() - datetime.timedelta(days=1),
        units_sold=84,
        on_hand=0,
    )
    wanted = suggestions(world.alice, window, [world.store_a, world.store_b])
    expected = wanted[(world.store_b.pk, world.other_goods.pk)]
    assert expected > 1 and expected != wanted[(world.store_a.pk, world.goods.pk)]
    client.force_login(world.alice)
    url = reverse("allocation:grab", args=[window.pk])
    page = client.get(url)
    # of two stores none is chosen for her: she picks (no grab for the wrong store)
    assert "store" not in page.context["form"].initial
    first_goods = window.pools.order_by("pk").first().goods_id
    assert page.context["form"].initial["goods"] == first_goods
    use = f"?store={world.store_b.pk}&amp;goods={world.other_goods.pk}".encode()
    assert use in page.content
    # when she follows the Use link of store B's second goods
    chosen = client.get(url, {"store": world.store_b.pk, "goods": world.other_goods.pk})
    # then the form holds that store, goods and suggested quantity
    initial = chosen.context["form"].initial
    assert (initial["store"], initial["goods"], initial["quantity"]) == (
        world.store_b.pk,
        world.other_goods.pk,
        expected,
    )
    # a store not hers, goods not offered or a tampered value are ignored
    for stray in (
        {"store": world.store_c.pk, "goods": 999999},
        {"store": "²", "goods": "9" * 5000},
    ):
        answer = client.get(url, stray)
        assert answer.status_code == 200
        assert "store" not in answer.context["form"].initial
        assert answer.context["form"].initial["goods"] == first_goods


def test_a_second_phone_of_the_store_is_told_the_first_request_stands(client, world):
    from django.contrib.messages import get_messages

    # given bob's phone grabbed 30 TEA for store B
    window = world.open_window()
    world.store_b.managers.add(world.alice)
    url = reverse("allocation:grab", args=[window.pk])
    client.force_login(world.bob)
    page = client.get(url)
    first = {
        "store": world.store_b.pk,
        "goods": world.goods.pk,
        "quantity": 30,
        "client_key": page.context["form"].initial["client_key"],
    }
    assert client.post(url, first).status_code == 302
    # when alice, on her own phone, asks 50 of the same goods for the same store
    client.force_login(world.alice)
    key = client.get(url).context["form"].initial["client_key"]
    answer = client.post(url, {**first, "quantity": 50, "client_key": key})
    # then one request stands (bob's 30) and she is told hers was not added
    assert answer.status_code == 302
    assert list(GrabRequest.objects.values_list("quantity", "granted")) == [(30, 30)]
    said = [str(m) for m in get_messages(answer.wsgi_request)]
    assert any("already asked" in m and "bob" in m and "50" in m for m in said), said
    # and bob's own double tap is not told that
    client.get(reverse("allocation:my-requests"))  # alice read her messages
    client.force_login(world.bob)
    again = client.post(url, first)
    said = [str(m) for m in get_messages(again.wsgi_request)]
    assert said and not any("already asked" in m for m in said), said


def test_a_double_tap_on_confirm_receipt_says_it_is_received_already_not_an_error(client, world):
    # given: an order shipped to Alice's store
    order = _closed_order_of_store_a(world, quantity=20)
    orders.order_ship(order_id=order.pk, user=world.manager)
    client.force_login(world.alice)
    line = order.lines.first()
    data = {f"received_{line.pk}": str(line.quantity), f"damaged_{line.pk}": "0"}

    # when: Alice taps Confirm receipt twice
    client.post(reverse("allocation:order-receive", args=[order.pk]), data)
    second = client.post(reverse("allocation:order-receive", args=[order.pk]), data, follow=True)

    # then: the second tap is told the order is received already, as information, not an error
    shown = [(m.level_tag, str(m)) for m in second.context["messages"]]
    assert ("info", f"Order {order.ref} is already received: nothing more to do.") in shown
    assert not [text for level, text in shown if level == "error"], shown
    order.refresh_from_db()
    assert order.status == ReplenishmentOrder.Status.RECEIVED
    assert order.lines.get().received == line.quantity


def test_a_refused_action_on_an_order_in_another_state_is_still_an_error(client, world):
    # given: an order not shipped yet
    order = _closed_order_of_store_a(world, quantity=20)
    client.force_login(world.alice)

    # when: the store manager tries to receive it
    line = order.lines.first()
    response = client.post(
        reverse("allocation:order-receive", args=[order.pk]),
        {f"received_{line.pk}": str(line.quantity)},
        follow=True,
    )

    # then
    levels = [m.level_tag for m in response.context["messages"]]
    assert levels == ["error"]
    order.refresh_from_db()
    assert order.status != ReplenishmentOrder.Status.RECEIVED


def test_a_double_tap_on_receiving_a_return_says_it_is_received_already(client, world):
    # given: a return filed by Alice's store on a received order
    order = _closed_order_of_store_a(world, quantity=20)
    orders.order_ship(order_id=order.pk, user=world.manager)
    orders.order_receive(order_id=order.pk, user=world.alice, received={})
    line = order.lines.first()
    store_return = returns.return_file(
        user=world.alice, order_id=order.pk, lines={line.pk: 2}, reason="surplus"
    )
    client.force_login(world.manager)
    url = reverse("allocation:return-receive", args=[store_return.pk])

    # when: the warehouse taps Receive twice
    first = client.post(url, {"bin": world.bin.code})
    second = client.post(url, {"bin": world.bin.code}, follow=True)

    # then: received once; the second tap is told so, as information
    assert first.status_code == 302
    shown = [(m.level_tag, str(m)) for m in second.context["messages"]]
    assert ("info", f"Return {store_return.ref} is already received: nothing more to do.") in shown
    assert not [text for level, text in shown if level == "error"], shown
    store_return.refresh_from_db()
    assert store_return.status == StoreReturn.Status.RECEIVED
