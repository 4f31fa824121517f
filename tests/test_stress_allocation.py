"""50 store managers on parallel connections grab from a first-come pool of 100 units of one
goods at the same instant, with random quantities (issue 10).

Checks: total granted == min(100, what the stores asked, each ask counted up to the per-store
cap: a grab above it is granted up to the cap), no store above its cap, every request answered, the pool's reservation equals what was granted plus what is left, and after
the close ``wms_reconcile`` finds no drift."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connections

from allocation.models import GrabPool, GrabPoolLine, GrabRequest
from allocation.services import close, grabs
from allocation.tests.factories import PolicyFactory, StoreFactory
from inventory.models import StockBalance
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MANAGERS = 50
CAP = 8


def test_fifty_managers_grabbing_at_once_never_over_grant(make_user, capsys):
    # given: a pool of 100, 50 stores each run by its own manager, a cap of 8 per store
    from allocation.services import windows as window_services

    bin = BinFactory()
    goods = GoodsFactory()
    receive_stock(goods, bin, 150)
    manager = make_user("manager")
    policy = PolicyFactory(cap_per_goods=CAP)
    people = []
    for i in range(MANAGERS):
        user = make_user("store", f"m{i}")
        store = StoreFactory(code=f"ST{i:03d}")
        store.managers.add(user)
        people.append((user, store))
    from django.utils import timezone

    now = timezone.now()
    window = window_services.window_create(
        name="stress",
        warehouse=bin.warehouse,
        policy=policy,
        mode="first_come",
        opens_at=now,
        closes_at=now + timezone.timedelta(minutes=10),
        scope="all",
        offers=[window_services.Offer(goods, 100)],
        user=manager,
    )
    rng = random.Random(7)
    asks = [rng.randint(1, CAP + 3) for _ in range(MANAGERS)]
    start = threading.Barrier(MANAGERS)
    failures: list[str] = []

    def worker(index: int) -> None:
        user, store = people[index]
        try:
            start.wait()
            grabs.grab_request_submit(
                user=user, store=store, window=window, goods_id=goods.pk, quantity=asks[index]
            )
        except Exception as exc:  # noqa: BLE001 - every other error is a failure
            failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    # when
    with ThreadPoolExecutor(max_workers=MANAGERS) as pool:
        list(pool.map(worker, range(MANAGERS)))

    # then
    assert failures == []
    assert any(a > CAP for a in asks)  # some ask above the cap: granted up to it
    eligible = [min(a, CAP) for a in asks]
    requests = list(GrabRequest.objects.all())
    assert len(requests) == MANAGERS
    assert all(r.answered_at is not None and r.status != "pending" for r in requests)
    assert all(r.granted <= CAP for r in requests)
    pool_row = GrabPool.objects.get(window=window)
    granted = sum(r.granted for r in requests)
    assert granted == pool_row.granted == min(100, sum(eligible))
    reserved = sum(b.reserved for b in StockBalance.objects.filter(goods=goods))
    assert reserved == sum(ln.quantity for ln in GrabPoolLine.objects.all()) == 100
    assert reserved == granted + (pool_row.offered - pool_row.granted)
    close.window_close(window_id=window.pk, user=manager)
    assert sum(b.reserved for b in StockBalance.objects.filter(goods=goods)) == granted
    call_command("wms_reconcile")
    assert "0 drift" in capsys.readouterr().out
