"""The beat's windows_due job against a manager changing a window's times at the same moment:
the job picks the due windows, then opens or closes each under its row lock; a window whose
times were changed in between is judged by its new times, not closed early or opened late."""

import datetime

import pytest
from django.utils import timezone

from allocation import tasks
from allocation.models import GrabWindow, ReplenishmentOrder
from allocation.services import close, windows

pytestmark = pytest.mark.django_db


def _offers(window):
    return [windows.Offer(p.goods, p.offered) for p in window.pools.select_related("goods")]


def test_the_beat_does_not_close_a_window_whose_closing_time_was_just_moved_later(
    world, monkeypatch
):
    # given: an open window at its closing time, picked by the job as due ...
    window = world.open_window()
    GrabWindow.objects.filter(pk=window.pk).update(
        closes_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    later = timezone.now() + datetime.timedelta(minutes=30)
    real_close = close.window_close

    def manager_extends_then_close(**kwargs):
        # ... when the manager's "30 minutes more" commits before the job closes it
        windows.window_edit(
            window_id=window.pk, user=world.manager, closes_at=later, offers=_offers(window)
        )
        return real_close(**kwargs)

    monkeypatch.setattr(tasks.close, "window_close", manager_extends_then_close)
    # when
    tasks.windows_due_task()
    # then: the window stays open until its new closing time
    window.refresh_from_db()
    assert window.status == GrabWindow.Status.OPEN
    assert window.closes_at == later
    assert not ReplenishmentOrder.objects.exists()


def test_the_beat_does_not_open_a_window_whose_opening_was_just_put_off(world, monkeypatch):
    # given: an upcoming window at its opening time, picked by the job as due ...
    now = timezone.now()
    window = world.open_window(
        opens_at=now + datetime.timedelta(minutes=5), closes_at=now + datetime.timedelta(hours=2)
    )
    GrabWindow.objects.filter(pk=window.pk).update(opens_at=now - datetime.timedelta(seconds=1))
    tomorrow = now + datetime.timedelta(days=1)
    real_open = windows.window_open

    def manager_puts_off_then_open(**kwargs):
        # ... when the manager's new opening time commits before the job opens it
        windows.window_edit(
            window_id=window.pk,
            user=world.manager,
            opens_at=tomorrow,
            closes_at=tomorrow + datetime.timedelta(hours=1),
            offers=_offers(window),
        )
        return real_open(**kwargs)

    monkeypatch.setattr(tasks.windows, "window_open", manager_puts_off_then_open)
    # when
    tasks.windows_due_task()
    # then: nothing is reserved before the new opening time
    window.refresh_from_db()
    assert window.status == GrabWindow.Status.SCHEDULED
    assert window.opens_at == tomorrow
    assert not window.pools.filter(lines__isnull=False).exists()


def test_stock_leaving_while_the_beat_opens_a_window_does_not_stop_the_opening(world, monkeypatch):
    from inventory import ledger
    from inventory.models import StockMovement

    # given an upcoming window of 100 tea (160 in stock), due to open ...
    now = timezone.now()
    window = world.open_window(
        opens_at=now + datetime.timedelta(minutes=5), closes_at=now + datetime.timedelta(hours=2)
    )
    GrabWindow.objects.filter(pk=window.pk).update(opens_at=now - datetime.timedelta(seconds=1))
    real_reserve = windows.ledger.reserve_fefo
    shipped = []

    def an_order_ships_first(**kwargs):
        # ... when 100 units leave on an order after the opening counted what was free
        if not shipped:
            shipped.append(True)
            ledger.issue(
                kind=StockMovement.Kind.OUTBOUND_OTHER,
                warehouse_id=world.warehouse.pk,
                lines=[ledger.Pick(goods_id=world.goods.pk, quantity=100)],
                document=ledger.Document(type="test", id=1, ref="T1"),
                operator=world.manager,
            )
        return real_reserve(**kwargs)

    monkeypatch.setattr(windows.ledger, "reserve_fefo", an_order_ships_first)
    # when the beat opens it
    tasks.windows_due_task()
    # then it opens with what is left (60), as it would have a moment later
    window.refresh_from_db()
    assert window.status == GrabWindow.Status.OPEN
    assert window.pools.get().offered == 60
