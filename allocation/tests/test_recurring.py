"""Recurring windows follow the policy's cycle in the merchant's time zone (``TIME_ZONE``): the
weekdays a policy names and the opening hour are the stores' local ones, whatever UTC says."""

import datetime
import zoneinfo

import pytest

from allocation.models import GrabWindow, Policy
from allocation.services import windows

pytestmark = pytest.mark.django_db

SYDNEY = zoneinfo.ZoneInfo("Australia/Sydney")


def _window(world, opens_at, *, cycle, weekdays=""):
    world.policy.cycle = cycle
    world.policy.weekdays = weekdays
    world.policy.save()
    window = GrabWindow.objects.create(
        name="Monday tea",
        warehouse=world.warehouse,
        policy=world.policy,
        mode=GrabWindow.Mode.FIRST_COME,
        opens_at=opens_at,
        closes_at=opens_at + datetime.timedelta(minutes=30),
        scope=GrabWindow.Scope.ALL,
        seed=1,
        recurs=True,
    )
    return GrabWindow.objects.select_related("policy").get(pk=window.pk)  # as the close reads it


def test_a_weekly_window_on_monday_morning_repeats_on_the_policys_local_weekday(world, settings):
    # given: Sydney stores, a policy repeating on Monday and Thursday, a window opening
    # Monday 09:00 in Sydney (Sunday 22:00 UTC)
    settings.TIME_ZONE = "Australia/Sydney"
    monday = datetime.datetime(2031, 3, 3, 9, 0, tzinfo=SYDNEY)
    window = _window(world, monday, cycle=Policy.Cycle.WEEKLY, weekdays="0,3")
    # when
    nxt = windows.window_schedule_next(window)
    # then: Thursday 09:00 in Sydney, not Tuesday (Monday in UTC)
    assert nxt.opens_at.astimezone(SYDNEY) == datetime.datetime(2031, 3, 6, 9, 0, tzinfo=SYDNEY)
    assert nxt.closes_at - nxt.opens_at == datetime.timedelta(minutes=30)


def test_a_daily_window_keeps_its_local_hour_across_the_change_of_daylight_saving(world, settings):
    # given: a daily window opening at 09:00 in Sydney the day before daylight saving ends
    settings.TIME_ZONE = "Australia/Sydney"
    saturday = datetime.datetime(2031, 4, 5, 9, 0, tzinfo=SYDNEY)
    window = _window(world, saturday, cycle=Policy.Cycle.DAILY)
    # when
    nxt = windows.window_schedule_next(window)
    # then: Sunday 09:00 local (23 hours later in UTC), not 08:00
    assert nxt.opens_at.astimezone(SYDNEY) == datetime.datetime(2031, 4, 6, 9, 0, tzinfo=SYDNEY)
    assert nxt.closes_at - nxt.opens_at == datetime.timedelta(minutes=30)


def _upcoming_recurring(world, offers):
    from django.utils import timezone

    world.policy.cycle = Policy.Cycle.DAILY
    world.policy.save()
    now = timezone.now()
    window = windows.window_create(
        name="Daily tea",
        warehouse=world.warehouse,
        policy=world.policy,
        mode=GrabWindow.Mode.FIRST_COME,
        opens_at=now + datetime.timedelta(minutes=5),
        closes_at=now + datetime.timedelta(minutes=35),
        scope=GrabWindow.Scope.ALL,
        offers=offers,
        user=world.manager,
        recurs=True,
    )
    # its opening time comes and the beat opens it with what it can reserve
    GrabWindow.objects.filter(pk=window.pk).update(opens_at=now - datetime.timedelta(seconds=1))
    return windows.window_open(window_id=window.pk)


def test_a_short_day_does_not_shrink_the_next_windows_of_a_series(world):
    from allocation.services import close

    # given a daily window planned at 200 units of tea, opened on a day only 160 were there
    window = _upcoming_recurring(world, [windows.Offer(world.goods, 200)])
    assert window.pools.get().offered == 160
    # when it closes
    close.window_close(window_id=window.pk)
    # then tomorrow's window offers the plan again, not what today could reserve
    window.refresh_from_db()
    assert window.next_window.pools.get().offered == 200


def test_a_day_with_no_stock_at_all_does_not_end_the_series(world):
    from inventory.tests.factories import GoodsFactory

    # given a daily window of goods that has no stock on the day it opens
    empty = GoodsFactory(sku="SOLDOUT")
    window = _upcoming_recurring(world, [windows.Offer(empty, 20)])
    # then today's window is cancelled (nothing to grab) but tomorrow's is planned as usual
    assert window.status == GrabWindow.Status.CANCELLED
    assert window.next_window is not None
    assert window.next_window.status == GrabWindow.Status.SCHEDULED
    assert list(window.next_window.pools.values_list("goods_id", "offered")) == [(empty.pk, 20)]
