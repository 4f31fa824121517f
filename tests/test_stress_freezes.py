"""The ledger's concurrency stress test, extended with freezes and releases (issue 5).

8 worker threads with their own connections run 2,000 random operations: half are the ledger
stress test's own (receipts, half of them sales returns that the switched-on returns rule
freezes inside the receipt; shipments; transfers; counts; direct reserves, freezes and
releases), half are freeze operations (freezes by goods, all or a quantity, some sticky, some
released at a time or on QC pass; release requests approved by a manager; scrap and purchase
return from frozen; QC results; the each-minute release task; stopping sticky freezes).

Afterwards: every refusal was a domain error (a deadlock, a CHECK constraint or any other error
is a failure), ``wms_reconcile`` reports zero drift, no balance's freeze lines hold more than
the balance has frozen, closed freezes hold nothing, and every unit a freeze froze, released or
took out is explained by a movement of its own document or an event naming another document.
"""

import datetime
import random
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.models import Sum
from django.utils import timezone

from freezes.models import Freeze, FreezeEvent, FreezeLine, Reason
from freezes.scope import Scope
from freezes.services.freezing import freeze_create, freeze_ship_out, freeze_stop_sticky
from freezes.services.release import (
    freezes_release_due,
    inspection_record,
    release_request_approve,
    release_request_create,
)
from freezes.services.rules import rule_create, rule_set_active
from inventory.exceptions import StockError
from inventory.models import StockBalance, StockMovement
from inventory.tests.factories import BatchFactory, GoodsFactory
from tests.test_stress_ledger import GOODS, WORKERS, random_operation
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

Kind = StockMovement.Kind
OPERATIONS = 2_000
REASONS = [r for r in Reason.values if r != Reason.OTHER]


def freeze_operation(rng: random.Random, world: dict, people: dict, worker: int, n: int) -> str:
    """Run one random freeze operation; return its name. Refusals propagate as StockError."""
    goods = rng.choice(world["goods"])
    roll = rng.random()
    now = timezone.now()
    if roll < 0.30:
        freeze_create(
            scope=Scope(goods_id=goods, warehouse_id=world["warehouse"]),
            reason=rng.choice(REASONS),
            quantity=rng.choice([None, rng.randint(1, 12)]),
            is_sticky=rng.random() < 0.25,
            release_on_qc_pass=rng.random() < 0.3,
            release_at=now + datetime.timedelta(seconds=1) if rng.random() < 0.2 else None,
            operator=people["clerk"],
            idempotency_key=f"stress-{worker}-{n}",
        )
        return "freeze"
    if roll < 0.40:
        freezes_release_due(now=now + datetime.timedelta(hours=1))
        return "release_due"
    freeze = _some_active_freeze(rng)
    if freeze is None:
        return "skipped: no active freeze"
    if roll < 0.70:
        request = release_request_create(
            freeze=freeze,
            requester=people["clerk"],
            quantity=rng.choice([None, rng.randint(1, 8)]),
            reason="stress release",
        )
        release_request_approve(
            request=request, approver=rng.choice(people["managers"]), comment="approved"
        )
        return "release"
    if roll < 0.82:
        line = FreezeLine.objects.held().filter(freeze=freeze).order_by("?").first()
        if line is None:
            return "skipped: nothing held"
        freeze_ship_out(
            freeze=freeze,
            line=line,
            quantity=rng.randint(1, 4),
            outbound=rng.choice(["scrap", "purchase_return"]),
            operator=people["managers"][0],
            reason="stress disposal",
        )
        return "ship_out"
    if roll < 0.94:
        result = rng.choice(["pass", "fail", "partial"])
        inspection_record(
            inspector=people["qc"],
            freeze=freeze,
            result=result,
            passed=rng.randint(1, 3) if result == "partial" else 0,
            failed=rng.randint(1, 3) if result != "pass" else 0,
        )
        return "qc"
    freeze_stop_sticky(freeze=freeze, operator=people["clerk"])
    return "stop_sticky"


def _some_active_freeze(rng: random.Random) -> Freeze | None:
    ids = list(Freeze.objects.active().values_list("pk", flat=True)[:200])
    return Freeze.objects.filter(pk=rng.choice(ids)).first() if ids else None


def test_parallel_freezes_and_releases_beside_random_postings_keep_every_law(
    capsys, record_property, make_user
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
    people = {
        "clerk": make_user("staff"),
        "qc": make_user("qc"),
        "managers": [make_user("manager", username=f"manager{i}") for i in range(2)],
    }
    rule = rule_create(
        operator=people["managers"][0],
        name="Returns",
        kind="sales_return",
        reason=Reason.AFTER_SALES_RETURN,
    )
    rule_set_active(rule=rule, operator=people["managers"][0], active=True)
    outcomes: Counter = Counter()
    failures: list[str] = []
    lock = threading.Lock()
    per_worker = OPERATIONS // WORKERS

    def worker(index: int) -> None:
        rng = random.Random(5000 + index)
        try:
            for n in range(per_worker):
                try:
                    if rng.random() < 0.5:
                        name = random_operation(rng, world, index, n)
                    else:
                        name = freeze_operation(rng, world, people, index, n)
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

    # then: no failure, enough of each kind of work
    assert failures == [], "\n\n".join(failures)
    assert sum(outcomes.values()) == OPERATIONS
    for name in ("receive", "ship", "freeze", "release", "ship_out", "qc"):
        assert outcomes[f"{name}:ok"] > 10, (name, outcomes)
    assert Freeze.objects.filter(rule=rule).exists()

    # then: the ledger laws and zero drift
    for row in StockBalance.objects.all():
        assert row.frozen >= 0 and row.reserved >= 0 and row.frozen + row.reserved <= row.on_hand
    call_command("wms_reconcile")
    assert "0 drift" in capsys.readouterr().out

    # then: freeze lines never hold more than their balance has frozen
    frozen = dict(StockBalance.objects.values_list("pk", "frozen"))
    held: dict[int, int] = defaultdict(int)
    for line in FreezeLine.objects.all():
        held[line.balance_id] += line.held
    assert all(units <= frozen[balance_id] for balance_id, units in held.items())

    # then: closed freezes hold nothing; every unit is explained
    for freeze in Freeze.objects.all():
        lines = list(freeze.lines.all())
        if freeze.status == Freeze.Status.CLOSED:
            assert sum(line.held for line in lines) == 0, freeze.number
        own = StockMovement.objects.filter(document_type="freeze", document_id=freeze.pk)
        frozen_in = own.filter(kind=Kind.FREEZE).aggregate(units=Sum("quantity"))["units"] or 0
        taken_out = own.exclude(kind=Kind.FREEZE).aggregate(units=Sum("quantity"))["units"] or 0
        outside = (
            FreezeEvent.objects.filter(
                freeze=freeze,
                kind__in=[
                    FreezeEvent.Kind.RELEASED_OUTSIDE,
                    FreezeEvent.Kind.SCRAPPED,
                    FreezeEvent.Kind.RETURNED,
                ],
            )
            .exclude(document_ref__startswith=freeze.number)
            .aggregate(units=Sum("quantity"))["units"]
            or 0
        )
        assert sum(line.quantity for line in lines) == frozen_in, freeze.number
        assert sum(line.released + line.shipped for line in lines) == taken_out + outside
    assert elapsed < 120, f"stress test took {elapsed:.1f}s"
    record_property("elapsed_seconds", round(elapsed, 1))
    record_property("outcomes", dict(outcomes))
