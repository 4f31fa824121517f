"""The allocation beat task through a real ``celery worker`` (subprocess, Redis): a grab
window past its closing time is closed by the worker (shares made, orders created, the rest
unreserved), and running the task again changes nothing."""

from __future__ import annotations

import datetime
import time

import pytest
import redis
from django.utils import timezone

from allocation.models import GrabRequest, GrabWindow, ReplenishmentOrder
from allocation.services import grabs, windows
from allocation.tasks import windows_due_task
from allocation.tests.factories import PolicyFactory, StoreFactory
from inventory.models import StockBalance
from inventory.tests.factories import GoodsFactory, receive_stock
from tests.test_real_worker import own_redis, start_worker, wait_for  # noqa: F401 (fixtures)
from warehouses.tests.factories import BinFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.xdist_group("real_worker"),
    pytest.mark.django_db(transaction=True),
]


def test_a_real_worker_closes_a_due_window_once(make_user, own_redis, start_worker):  # noqa: F811
    # given: an at-close window with two requests, whose closing time has passed
    bin = BinFactory()
    goods = GoodsFactory()
    receive_stock(goods, bin, 50)
    manager = make_user("manager")
    now = timezone.now()
    window = windows.window_create(
        name="due",
        warehouse=bin.warehouse,
        policy=PolicyFactory(share="pro_rata"),
        mode=GrabWindow.Mode.AT_CLOSE,
        opens_at=now - datetime.timedelta(minutes=5),
        closes_at=now + datetime.timedelta(minutes=5),
        scope=GrabWindow.Scope.ALL,
        offers=[windows.Offer(goods, 30)],
        user=manager,
    )
    for code, quantity in (("S1", 30), ("S2", 30)):
        user = make_user("store", f"m-{code}")
        store = StoreFactory(code=code)
        store.managers.add(user)
        grabs.grab_request_submit(
            user=user, store=store, window=window, goods_id=goods.pk, quantity=quantity
        )
    GrabWindow.objects.filter(pk=window.pk).update(closes_at=now - datetime.timedelta(seconds=1))

    # when: the worker runs the task, twice
    worker = start_worker()
    windows_due_task.delay()
    wait_for(
        lambda: GrabWindow.objects.get(pk=window.pk).status == GrabWindow.Status.CLOSED,
        timeout=60,
        what="the window to close",
        worker=worker,
    )
    windows_due_task.delay()
    windows_due_task.delay()

    queue = redis.Redis.from_url(own_redis.url)
    wait_for(lambda: queue.llen("celery") == 0, timeout=30, what="the reruns", worker=worker)
    time.sleep(2)  # let the last delivered run finish

    # then: shared pro-rata (15 + 15), two orders, nothing reserved beyond the grants
    assert sorted(GrabRequest.objects.values_list("granted", flat=True)) == [15, 15]
    assert ReplenishmentOrder.objects.count() == 2
    assert sum(StockBalance.objects.values_list("reserved", flat=True)) == 30
