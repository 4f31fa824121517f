"""Concurrency stress test of the ledger on real PostgreSQL (issue 4).

8 worker threads, each with its own database connection, run 2,000 random receipts, shipments,
transfers, count adjustments, reserves/unreserves and freezes/releases on 50 goods in one
warehouse. Afterwards: no balance breaks the laws, every refusal was a domain error (a deadlock,
SQLSTATE 40P01, or a CHECK constraint firing is a failure, not something to retry), and
``wms_reconcile`` reports zero drift.
"""

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connections

from inventory import ledger
from inventory.exceptions import StockError
from inventory.models import StockBalance, StockMovement
from inventory.tests.factories import BatchFactory, GoodsFactory
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

Kind = StockMovement.Kind
WORKERS = 8
OPERATIONS = 2_000
GOODS = 50


def random_operation(rng: random.Random, world: dict, worker: int, n: int) -> str:
    """Run one random operation; return its name. Domain refusals propagate as StockError."""
    goods = rng.choice(world["goods"])
    bins = world["bins"]
    batch = rng.choice(world["batches"][goods] + [None])
    doc = ledger.Document(type="other", ref=f"S{worker}-{n}")
    roll = rng.random()
    if roll < 0.25:
        ledger.receive(
            kind=rng.choice([Kind.INBOUND_PURCHASE, Kind.INBOUND_SALES_RETURN]),
            lines=[
                ledger.Receipt(goods, rng.choice(bins), rng.randint(1, 20), batch)
                for _ in range(rng.randint(1, 3))
            ],
            document=doc,
        )
        return "receive"
    if roll < 0.50:
        balance = _some_balance(rng, goods)
        named = balance is not None and rng.random() < 0.5
        ledger.issue(
            kind=Kind.OUTBOUND_ORDER_SHIPMENT,
            warehouse_id=world["warehouse"],
            lines=[
                ledger.Pick(goods, rng.randint(1, 15), balance_id=balance.pk if named else None)
            ],
            document=doc,
            idempotency_key=f"ship-{worker}-{n}",
        )
        return "ship"
    if roll < 0.65:
        src, dst = rng.sample(bins, 2)
        other = rng.choice(world["goods"])
        ledger.transfer(
            moves=[
                ledger.Move(goods, src, dst, rng.randint(1, 10), batch),
                ledger.Move(other, dst, src, rng.randint(1, 5), None),
            ],
            document=doc,
        )
        return "transfer"
    if roll < 0.72:
        ledger.adjust(
            warehouse_id=world["warehouse"],
            lines=[ledger.Count(goods, rng.choice(bins), rng.randint(0, 40), batch)],
            document=doc,
            reason="stress count",
        )
        return "adjust"
    balance = _some_balance(rng, goods)
    if balance is None:
        return "skipped: no balance yet"
    quantity = rng.randint(1, 6)
    hold = [ledger.Hold(balance.pk, quantity)]
    if roll < 0.80:
        ledger.reserve(holds=hold, document=doc)
        return "reserve"
    if roll < 0.86:
        if not balance.reserved:
            return "skipped: nothing reserved"
        ledger.unreserve(
            holds=[ledger.Hold(balance.pk, min(quantity, balance.reserved or 1))], document=doc
        )
        return "unreserve"
    if roll < 0.94:
        ledger.freeze(holds=hold, document=doc)
        return "freeze"
    if not balance.frozen:
        return "skipped: nothing frozen"
    ledger.unfreeze(
        holds=[ledger.Hold(balance.pk, min(quantity, balance.frozen or 1))], document=doc
    )
    return "unfreeze"


def _some_balance(rng: random.Random, goods_id: int):
    rows = list(StockBalance.objects.filter(goods_id=goods_id).only("pk", "frozen", "reserved"))
    return rng.choice(rows) if rows else None


def test_parallel_random_postings_keep_every_law_and_reconcile_to_zero_drift(
    capsys, record_property
):
    # given
    first = BinFactory()
    bins = [first] + [BinFactory(zone=first.zone) for _ in range(4)]
    goods = [GoodsFactory() for _ in range(GOODS)]
    world = {
        "warehouse": first.warehouse_id,
        "bins": [b.pk for b in bins],
        "goods": [g.pk for g in goods],
        "batches": {
            g.pk: [BatchFactory(goods=g).pk] if i % 3 == 0 else [] for i, g in enumerate(goods)
        },
    }
    outcomes: Counter = Counter()
    failures: list[str] = []
    lock = threading.Lock()
    per_worker = OPERATIONS // WORKERS

    def worker(index: int) -> None:
        rng = random.Random(1000 + index)
        try:
            for n in range(per_worker):
                try:
                    name = random_operation(rng, world, index, n)
                    result = name if name.startswith("skipped") else f"{name}:ok"
                except StockError as exc:
                    result = f"refused:{type(exc).__name__}"
                except Exception as exc:  # noqa: BLE001 - every other error is a failure
                    code = getattr(getattr(exc, "__cause__", None), "pgcode", None)
                    with lock:
                        failures.append(f"{type(exc).__name__} {code}: {exc}")
                    continue
                with lock:
                    outcomes[result] += 1
        finally:
            connections.close_all()

    # when
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(worker, range(WORKERS)))
    elapsed = time.monotonic() - started

    # then
    assert failures == []
    assert sum(outcomes.values()) == OPERATIONS
    assert outcomes["receive:ok"] > 100 and outcomes["ship:ok"] > 100
    assert outcomes["transfer:ok"] > 20 and outcomes["adjust:ok"] > 20
    assert StockBalance.objects.filter(on_hand__lt=0).count() == 0
    for row in StockBalance.objects.all():
        assert row.frozen >= 0 and row.reserved >= 0 and row.frozen + row.reserved <= row.on_hand
    call_command("wms_reconcile")
    assert "0 drift" in capsys.readouterr().out
    assert elapsed < 60, f"stress test took {elapsed:.1f}s"
    record_property("elapsed_seconds", round(elapsed, 1))
    record_property("outcomes", dict(outcomes))
