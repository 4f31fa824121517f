"""Grab windows end to end through the services: open reserves, first-come answers, refusals
write nothing, close makes orders and unreserves the rest."""

import datetime

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from allocation import reasons
from allocation.exceptions import InvalidQuantity, InvalidState, NotAllowed, WindowNotOpen
from allocation.models import (
    GrabDecision,
    GrabPool,
    GrabPoolLine,
    GrabRequest,
    GrabWindow,
    OrderEvent,
    ReplenishmentOrder,
)
from allocation.services import close, grabs, orders, windows
from inventory.models import StockBalance

pytestmark = pytest.mark.django_db


def grab(world, user, store, window, quantity, key="", goods=None):
    return grabs.grab_request_submit(
        user=user,
        store=store,
        window=window,
        goods_id=(goods or world.goods).pk,
        quantity=quantity,
        client_key=key,
    )


def test_opening_a_window_reserves_the_pool_first_expiry_first(world):
    # when
    window = world.open_window()
    # then
    assert window.status == GrabWindow.Status.OPEN
    world.balance_soon.refresh_from_db()
    world.balance_late.refresh_from_db()
    assert world.balance_soon.reserved == 60
    assert world.balance_late.reserved == 40
    lines = GrabPoolLine.objects.filter(pool__window=window)
    assert sorted(ln.quantity for ln in lines) == [40, 60]


def test_opening_more_than_is_available_is_refused_and_writes_nothing(world):
    from inventory.exceptions import InsufficientStock

    with pytest.raises(InsufficientStock):
        world.open_window(offers=[windows.Offer(world.goods, 500)])
    assert not GrabWindow.objects.exists()
    assert StockBalance.objects.filter(reserved__gt=0).count() == 0


def test_first_come_grants_in_full_then_partly_then_refuses_with_the_reason(world):
    # given
    window = world.open_window(offers=[windows.Offer(world.goods, 100)])
    # when
    first = grab(world, world.alice, world.store_a, window, 70)
    second = grab(world, world.bob, world.store_b, window, 50)
    third = grab(world, world.carol, world.store_c, window, 10)
    # then
    assert (first.status, first.granted) == (GrabRequest.Status.GRANTED, 70)
    assert (second.status, second.granted) == (GrabRequest.Status.PARTIAL, 30)
    assert "30" in second.reason
    assert (third.status, third.granted, third.reason_code) == (
        GrabRequest.Status.REFUSED,
        0,
        reasons.EXHAUSTED,
    )
    assert GrabPool.objects.get(window=window).granted == 100
    assert GrabDecision.objects.count() == 3


def test_a_double_tap_and_a_second_phone_give_one_request_and_one_grant(world):
    window = world.open_window()
    first = grab(world, world.alice, world.store_a, window, 10, key="tap-1")
    again = grab(world, world.alice, world.store_a, window, 10, key="tap-1")
    other_phone = grab(world, world.alice, world.store_a, window, 10, key="phone-2")
    assert first.pk == again.pk == other_phone.pk
    assert GrabRequest.objects.count() == 1
    assert GrabPool.objects.get(window=window).granted == 10


@pytest.mark.parametrize("quantity", [0, -3, 2.5, "7", True, None])
def test_bad_quantities_are_refused_and_write_nothing(world, quantity):
    window = world.open_window()
    with pytest.raises(InvalidQuantity):
        grab(world, world.alice, world.store_a, window, quantity)
    assert not GrabRequest.objects.exists()


def test_grabbing_for_another_managers_store_is_refused(world):
    window = world.open_window()
    with pytest.raises(NotAllowed):
        grab(world, world.alice, world.store_b, window, 5)
    assert not GrabRequest.objects.exists()


def test_a_first_come_grab_above_the_per_goods_cap_is_granted_up_to_the_cap(world):
    # given: a plain policy (the one-statement path) capping each store at 20 units
    world.policy.cap_per_goods = 20
    world.policy.save()
    window = world.open_window()
    # when
    request = grab(world, world.alice, world.store_a, window, 25)
    # then
    assert (request.status, request.granted, request.reason_code) == (
        GrabRequest.Status.PARTIAL,
        20,
        reasons.PARTIAL_CAP,
    )
    assert "20" in request.reason
    stored = GrabRequest.objects.get()
    assert (stored.granted, stored.reason_code, stored.reason_params) == (
        20,
        reasons.PARTIAL_CAP,
        {"cap": 20},
    )
    decision = stored.decisions.get()
    assert (decision.rule, decision.granted, decision.figures["goods_cap"]) == (
        "cap_per_goods",
        20,
        20,
    )
    assert GrabPool.objects.get(window=window).granted == 20


def test_the_checked_path_also_grants_up_to_the_per_goods_cap(world):
    # given: a per-window cap too, so the grab takes the checked (locked) path
    world.policy.cap_per_goods = 20
    world.policy.cap_per_window = 50
    world.policy.save()
    window = world.open_window()
    # when
    request = grab(world, world.alice, world.store_a, window, 30)
    # then
    request.refresh_from_db()
    assert (request.status, request.granted, request.reason_code) == (
        GrabRequest.Status.PARTIAL,
        20,
        reasons.PARTIAL_CAP,
    )
    assert request.decisions.get().rule == "cap_per_goods"


def test_a_capped_grab_on_a_nearly_empty_pool_says_what_was_left(world):
    world.policy.cap_per_goods = 20
    world.policy.save()
    window = world.open_window()
    GrabPool.objects.filter(window=window).update(granted=90)
    # when: asks 30, capped at 20, only 10 left
    request = grab(world, world.alice, world.store_a, window, 30)
    # then
    assert (request.granted, request.reason_code) == (10, reasons.PARTIAL_LEFT)
    assert GrabPool.objects.get(window=window).granted == 100


def test_at_close_a_request_above_the_per_goods_cap_shares_up_to_the_cap(world):
    world.policy.cap_per_goods = 20
    world.policy.save()
    window = world.open_window(mode=GrabWindow.Mode.AT_CLOSE)
    big = grab(world, world.alice, world.store_a, window, 45)
    small = grab(world, world.bob, world.store_b, window, 10)
    assert big.status == GrabRequest.Status.PENDING
    # when
    close.window_close(window_id=window.pk)
    # then
    big.refresh_from_db()
    small.refresh_from_db()
    assert (big.status, big.granted, big.reason_code) == (
        GrabRequest.Status.PARTIAL,
        20,
        reasons.PARTIAL_CAP,
    )
    assert big.reason_params == {"cap": 20}
    assert (small.status, small.granted) == (GrabRequest.Status.GRANTED, 10)


def test_grab_answered_hooks_run_inside_the_answering_transaction(world):
    from allocation import hooks

    seen = []

    def hook(requests):
        seen.append([(r.pk, r.status, r.granted, connection.in_atomic_block) for r in requests])

    hooks.grab_answered.append(hook)
    try:
        window = world.open_window()
        first = grab(world, world.alice, world.store_a, window, 10)
        at_close = world.open_window(
            mode=GrabWindow.Mode.AT_CLOSE, offers=[windows.Offer(world.other_goods, 10)]
        )
        pending = grab(world, world.bob, world.store_b, at_close, 4, goods=world.other_goods)
        close.window_close(window_id=at_close.pk)
    finally:
        hooks.grab_answered.remove(hook)
    assert seen == [
        [(first.pk, GrabRequest.Status.GRANTED, 10, True)],
        [(pending.pk, GrabRequest.Status.GRANTED, 4, True)],
    ]


def test_a_failing_hook_undoes_the_answer(world):
    from allocation import hooks

    def hook(requests):
        raise RuntimeError("outbox down")

    hooks.grab_answered.append(hook)
    try:
        window = world.open_window()
        with pytest.raises(RuntimeError):
            grab(world, world.alice, world.store_a, window, 10)
    finally:
        hooks.grab_answered.remove(hook)
    assert not GrabRequest.objects.exists()
    assert GrabPool.objects.get(window=window).granted == 0


def test_goods_not_in_the_pool_is_refused(world):
    window = world.open_window()
    with pytest.raises(NotAllowed):
        grab(world, world.alice, world.store_a, window, 5, goods=world.other_goods)


def test_grabbing_from_a_closed_or_cancelled_window_is_refused(world):
    closed = world.open_window()
    close.window_close(window_id=closed.pk)
    with pytest.raises(WindowNotOpen):
        grab(world, world.alice, world.store_a, closed, 5)
    cancelled = world.open_window(offers=[windows.Offer(world.other_goods, 10)])
    windows.window_cancel(window_id=cancelled.pk, user=world.manager)
    with pytest.raises(WindowNotOpen):
        grab(world, world.alice, world.store_a, cancelled, 5, goods=world.other_goods)
    assert not GrabRequest.objects.exists()
    assert StockBalance.objects.filter(reserved__gt=0).count() == 0


def test_a_window_for_a_store_group_refuses_other_stores(world):
    world.store_a.group = "north"
    world.store_a.save()
    window = world.open_window(scope=GrabWindow.Scope.GROUP, store_group="north")
    assert grab(world, world.alice, world.store_a, window, 5).granted == 5
    with pytest.raises(NotAllowed):
        grab(world, world.bob, world.store_b, window, 5)


def test_ineligible_store_is_refused_with_the_figures(world):
    world.policy.min_sales = 10
    world.policy.save()
    window = world.open_window()
    request = grab(world, world.alice, world.store_a, window, 5)
    assert request.status == GrabRequest.Status.REFUSED
    assert request.reason_code == reasons.LOW_SALES
    decision = request.decisions.get()
    assert decision.figures["sales"] == 0


def test_the_close_makes_one_order_per_store_and_unreserves_the_rest(world):
    window = world.open_window()
    grab(world, world.alice, world.store_a, window, 70)
    grab(world, world.bob, world.store_b, window, 10)
    # when
    close.window_close(window_id=window.pk, user=world.manager)
    close.window_close(window_id=window.pk, user=world.manager)  # idempotent
    # then
    assert ReplenishmentOrder.objects.count() == 2
    order_a = ReplenishmentOrder.objects.get(store=world.store_a)
    assert sum(ln.quantity for ln in order_a.lines.all()) == 70
    # the soonest-expiring batch went first
    assert order_a.lines.first().balance_id == world.balance_soon.pk
    assert sum(b.reserved for b in StockBalance.objects.all()) == 80
    call_command("wms_reconcile")


def test_an_order_is_picked_shipped_received_with_a_shortage_and_not_cancelled(world):
    window = world.open_window()
    grab(world, world.alice, world.store_a, window, 70)
    close.window_close(window_id=window.pk)
    order = ReplenishmentOrder.objects.get()
    orders.order_start_picking(order_id=order.pk, user=world.manager)
    orders.order_ship(order_id=order.pk, user=world.manager)
    orders.order_ship(order_id=order.pk, user=world.manager)  # harmless
    assert sum(b.on_hand for b in StockBalance.objects.filter(goods=world.goods)) == 90
    with pytest.raises(InvalidState):
        orders.order_cancel(order_id=order.pk, user=world.manager)
    line = order.lines.first()
    with pytest.raises(InvalidQuantity):
        orders.order_receive(
            order_id=order.pk, user=world.alice, received={line.pk: (line.quantity + 1, 0)}
        )
    with pytest.raises(NotAllowed):
        orders.order_receive(order_id=order.pk, user=world.bob, received={})
    orders.order_receive(
        order_id=order.pk, user=world.alice, received={line.pk: (line.quantity - 2, 1)}
    )
    order.refresh_from_db()
    assert order.status == ReplenishmentOrder.Status.RECEIVED
    line.refresh_from_db()
    assert (line.shortage, line.damaged) == (2, 1)
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds == ["created", "picking", "shipped", "received"]
    call_command("wms_reconcile")


def test_a_receipt_is_told_in_the_readers_language_with_every_shortage(world):
    from django.utils import translation

    # given a shipped order
    window = world.open_window()
    grab(world, world.alice, world.store_a, window, 70)
    close.window_close(window_id=window.pk)
    order = ReplenishmentOrder.objects.get()
    orders.order_ship(order_id=order.pk, user=world.manager)
    line = order.lines.order_by("pk").first()  # the other lines arrive in full
    # when the store manager, working in Chinese, receives it short with a note
    with translation.override("zh-hans"):  # the store manager works in Chinese
        orders.order_receive(
            order_id=order.pk,
            user=world.alice,
            received={line.pk: (line.quantity - 2, 1)},
            note="箱子压坏",
        )
    # then the shortages are data, the note her words, and each reader sees his language
    event = order.events.get(kind=OrderEvent.Kind.RECEIVED)
    assert event.details == {"shortages": [[world.goods.sku, 2, 1]]}
    assert event.note == "箱子压坏"
    with translation.override("en"):
        assert event.note_display() == f"{world.goods.sku} short 2, damaged 1; 箱子压坏"
    with translation.override("zh-hans"):
        assert event.note_display() == f"{world.goods.sku} 短少 2，破损 1; 箱子压坏"
    # a receipt of many lines keeps every shortage (the note column holds 255 characters)
    many = OrderEvent(
        kind=OrderEvent.Kind.RECEIVED,
        details={"shortages": [[f"SKU-{n:04d}-LONG-NAME", 1, 0] for n in range(40)]},
    )
    with translation.override("en"):
        assert many.note_display().count("short 1") == 40
    # an older receipt holds its sentence in the note: shown as written
    assert OrderEvent(kind=OrderEvent.Kind.RECEIVED, note="X short 1").note_display() == (
        "X short 1"
    )


def test_cancelling_an_order_unreserves_its_stock(world):
    window = world.open_window()
    grab(world, world.alice, world.store_a, window, 30)
    close.window_close(window_id=window.pk)
    order = ReplenishmentOrder.objects.get()
    orders.order_cancel(order_id=order.pk, user=world.manager)
    assert sum(b.reserved for b in StockBalance.objects.all()) == 0
    with pytest.raises(InvalidState):
        orders.order_ship(order_id=order.pk, user=world.manager)


@pytest.mark.postgres
def test_grab_decisions_and_order_events_are_append_only(world):
    window = world.open_window()
    grab(world, world.alice, world.store_a, window, 5)
    close.window_close(window_id=window.pk)
    for model in (GrabDecision, OrderEvent):
        with pytest.raises(IntegrityError), transaction.atomic():
            model.objects.all().update(created_at=model.objects.first().created_at)
        with pytest.raises(IntegrityError), transaction.atomic():
            model.objects.all().delete()
    assert connection.vendor == "postgresql"


@pytest.mark.postgres
def test_a_session_that_lost_the_prepared_grab_prepares_it_again(world):
    window = world.open_window(offers=[windows.Offer(world.goods, 100)])
    grab(world, world.alice, world.store_a, window, 10)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as a connection pooler's DISCARD ALL does
    again = grab(world, world.bob, world.store_b, window, 10)
    assert (again.status, again.granted) == (GrabRequest.Status.GRANTED, 10)
    assert GrabPool.objects.get(window=window).granted == 20


def test_a_pending_request_cannot_be_cancelled_past_the_closing_time(client, world):
    # given a pending at-close request, and the closing time passed before the close has run
    window = world.open_window(mode=GrabWindow.Mode.AT_CLOSE)
    request = grab(world, world.alice, world.store_a, window, 10)
    GrabWindow.objects.filter(pk=window.pk).update(
        closes_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    # when the store cancels it
    with pytest.raises(InvalidState):
        grabs.grab_request_cancel(user=world.alice, request_id=request.pk)
    # then it is still the close's to share, and his list offers no cancel button
    request.refresh_from_db()
    assert request.status == GrabRequest.Status.PENDING
    client.force_login(world.alice)
    page = client.get(reverse("allocation:my-requests")).content.decode()
    assert reverse("allocation:request-cancel", args=[request.pk]) not in page
