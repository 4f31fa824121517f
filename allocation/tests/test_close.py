"""Sharing at close (strict priority, pro-rata, seeded lottery), cancelling a pending request,
store returns received as sales returns."""

import datetime

import pytest
from django.utils import timezone

from allocation import reasons, sharing
from allocation.exceptions import InvalidQuantity, InvalidState, NotAllowed
from allocation.models import (
    GrabRequest,
    GrabWindow,
    Policy,
    ReplenishmentLine,
    ReplenishmentOrder,
    StoreSales,
)
from allocation.services import close, grabs, orders, returns, windows
from allocation.tasks import windows_due_task
from inventory.models import InboundSheet, StockBalance

pytestmark = pytest.mark.django_db
AT_CLOSE = GrabWindow.Mode.AT_CLOSE


def grab(world, user, store, window, quantity):
    return grabs.grab_request_submit(
        user=user, store=store, window=window, goods_id=world.goods.pk, quantity=quantity
    )


def test_pro_rata_rounds_down_and_gives_the_rest_to_the_largest_remainders():
    # 10 units for 3+3+4 asked twice over: 10*6/20=3, 10*6/20=3, 10*8/20=4
    assert sharing.pro_rata(10, [(1, 6), (2, 6), (3, 8)]) == {1: 3, 2: 3, 3: 4}
    # 10 for three equal asks of 5: 3.33 each; the one left goes to the first in policy order
    assert sharing.pro_rata(10, [(7, 5), (8, 5), (9, 5)]) == {7: 4, 8: 3, 9: 3}
    assert sharing.pro_rata(10, [(1, 4), (2, 5)]) == {1: 4, 2: 5}


def test_the_lottery_is_reproducible_from_its_seed():
    asks = [(i, 10) for i in range(1, 21)]
    first = sharing.lottery(50, asks, seed=42, goods_id=3)
    assert first == sharing.lottery(50, list(reversed(asks)), seed=42, goods_id=3)
    assert sum(first.values()) == 50
    assert first != sharing.lottery(50, asks, seed=43, goods_id=3)


def _sales(store, goods, units):
    StoreSales.objects.create(
        store=store,
        goods=goods,
        day=timezone.localdate() - datetime.timedelta(days=1),
        units_sold=units,
        on_hand=5,
    )


def test_strict_priority_by_sales_serves_the_best_seller_first(world):
    world.policy.share = Policy.Share.STRICT_PRIORITY
    world.policy.save()
    _sales(world.store_a, world.goods, 5)
    _sales(world.store_b, world.goods, 50)
    window = world.open_window(mode=AT_CLOSE)
    a = grab(world, world.alice, world.store_a, window, 80)
    b = grab(world, world.bob, world.store_b, window, 80)
    assert a.status == GrabRequest.Status.PENDING
    close.window_close(window_id=window.pk)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (b.granted, a.granted) == (80, 20)
    assert a.reason_code == reasons.PARTIAL_SHARE


def test_the_close_writes_answers_decisions_and_orders_with_their_lines_and_events(world):
    world.policy.share = Policy.Share.STRICT_PRIORITY
    world.policy.save()
    _sales(world.store_a, world.goods, 5)
    _sales(world.store_b, world.goods, 50)
    window = world.open_window(mode=AT_CLOSE)  # 100 of the tea: 60 soon, then 40 late
    a = grab(world, world.alice, world.store_a, window, 80)
    b = grab(world, world.bob, world.store_b, window, 80)
    window = close.window_close(window_id=window.pk, user=world.manager)
    a.refresh_from_db()
    b.refresh_from_db()
    method = "strict_priority"  # the share's code: the reason is read in the reader's language
    assert (b.status, b.granted, b.reason_code, b.reason_params) == ("granted", 80, "granted", {})
    assert (a.status, a.granted, a.reason_code, a.reason_params) == (
        "partial",
        20,
        reasons.PARTIAL_SHARE,
        {"method": method},
    )
    assert a.answered_at == b.answered_at == window.closed_at
    decisions = [(r.decisions.get(), r) for r in (a, b)]
    for decision, request in decisions:
        assert (decision.rule, decision.result, decision.granted) == (
            "strict_priority",
            request.status,
            request.granted,
        )
        assert decision.created_at == window.closed_at
    # the figures behind each share: why b (50 sold) went before a (5 sold)
    figures = {request.store_id: decision.figures for decision, request in decisions}
    assert set(figures[world.store_a.pk]) == {
        "requested", "seed", "sales", "avg_daily", "on_hand", "cover", "offered", "counted",
        "place", "of",
    }  # fmt: skip
    picked = ("requested", "seed", "sales", "offered", "counted", "place", "of")
    assert [tuple(figures[s.pk][k] for k in picked) for s in (world.store_b, world.store_a)] == [
        (80, window.seed, 50, 100, 80, 1, 2),
        (80, window.seed, 5, 100, 80, 2, 2),
    ]
    # orders in store order; lines first-expiry-first, requests in request order (a first)
    lines = [
        (line.order.store_id, line.balance_id, line.quantity, line.damaged)
        for line in ReplenishmentLine.objects.order_by("pk")
    ]
    assert lines == [
        (world.store_a.pk, world.balance_soon.pk, 20, 0),
        (world.store_b.pk, world.balance_soon.pk, 40, 0),
        (world.store_b.pk, world.balance_late.pk, 40, 0),
    ]
    orders_ = list(ReplenishmentOrder.objects.order_by("pk"))
    assert [o.store_id for o in orders_] == [world.store_a.pk, world.store_b.pk]
    for order in orders_:
        assert (order.window_id, order.warehouse_id, order.status) == (
            window.pk,
            world.warehouse.pk,
            ReplenishmentOrder.Status.CREATED,
        )
        event = order.events.get()
        assert (event.kind, event.actor_id, event.note, event.details, event.created_at) == (
            "created",
            world.manager.pk,
            "",
            {},
            window.closed_at,
        )
    assert sum(b.reserved for b in StockBalance.objects.all()) == 100


def test_pro_rata_at_close_and_the_per_window_cap(world):
    world.policy.share = Policy.Share.PRO_RATA
    world.policy.cap_per_window = 30
    world.policy.save()
    window = world.open_window(mode=AT_CLOSE, offers=[windows.Offer(world.goods, 40)])
    a = grab(world, world.alice, world.store_a, window, 60)
    b = grab(world, world.bob, world.store_b, window, 20)
    close.window_close(window_id=window.pk)
    a.refresh_from_db()
    b.refresh_from_db()
    # a's ask is capped at 30: 40 * 30/50 = 24, 40 * 20/50 = 16
    assert (a.granted, b.granted) == (24, 16)
    assert sum(b.reserved for b in StockBalance.objects.all()) == 40


def test_a_pending_request_can_be_cancelled_before_the_close_only(world):
    window = world.open_window(mode=AT_CLOSE)
    request = grab(world, world.alice, world.store_a, window, 10)
    with pytest.raises(NotAllowed):
        grabs.grab_request_cancel(user=world.bob, request_id=request.pk)
    grabs.grab_request_cancel(user=world.alice, request_id=request.pk)
    request.refresh_from_db()
    assert request.status == GrabRequest.Status.CANCELLED
    again = grab(world, world.alice, world.store_a, window, 5)
    close.window_close(window_id=window.pk)
    with pytest.raises(InvalidState):
        grabs.grab_request_cancel(user=world.alice, request_id=again.pk)


def test_the_beat_task_closes_due_windows_and_opens_scheduled_ones(world):
    window = world.open_window(mode=AT_CLOSE)
    grab(world, world.alice, world.store_a, window, 10)
    GrabWindow.objects.filter(pk=window.pk).update(
        closes_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    later = windows.window_create(
        name="later",
        warehouse=world.warehouse,
        policy=world.policy,
        mode=AT_CLOSE,
        opens_at=timezone.now() + datetime.timedelta(hours=1),
        closes_at=timezone.now() + datetime.timedelta(hours=2),
        scope=GrabWindow.Scope.ALL,
        offers=[windows.Offer(world.other_goods, 5)],
        user=world.manager,
    )
    assert later.status == GrabWindow.Status.SCHEDULED
    windows_due_task.delay()
    windows_due_task.delay()
    window.refresh_from_db()
    assert window.status == GrabWindow.Status.CLOSED
    assert ReplenishmentOrder.objects.count() == 1
    GrabWindow.objects.filter(pk=later.pk).update(opens_at=timezone.now())
    windows_due_task.delay()
    later.refresh_from_db()
    assert later.status == GrabWindow.Status.OPEN


def test_a_return_is_filed_and_received_as_a_sales_return(world):
    window = world.open_window()
    grab(world, world.alice, world.store_a, window, 10)
    close.window_close(window_id=window.pk)
    order = ReplenishmentOrder.objects.get()
    with pytest.raises(InvalidState):
        returns.return_file(user=world.alice, order_id=order.pk, lines={}, reason="damaged")
    orders.order_ship(order_id=order.pk, user=world.manager)
    orders.order_receive(order_id=order.pk, user=world.alice, received={})
    line = order.lines.first()
    with pytest.raises(NotAllowed):
        returns.return_file(user=world.bob, order_id=order.pk, lines={line.pk: 1}, reason="damaged")
    with pytest.raises(InvalidQuantity):
        returns.return_file(
            user=world.alice, order_id=order.pk, lines={line.pk: 11}, reason="damaged"
        )
    filed = returns.return_file(
        user=world.alice, order_id=order.pk, lines={line.pk: 2}, reason="damaged", note="crushed"
    )
    received = returns.return_receive(return_id=filed.pk, bin=world.bin, user=world.manager)
    assert received.inbound_sheet.type == InboundSheet.Type.SALES_RETURN
    with pytest.raises(InvalidState):
        returns.return_receive(return_id=filed.pk, bin=world.bin, user=world.manager)
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds[-2:] == ["return_filed", "return_received"]
    assert sum(b.on_hand for b in StockBalance.objects.filter(goods=world.goods)) == 152
