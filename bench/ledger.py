"""Ledger postings under concurrency: the service versus the same postings in raw SQL.

``ledger_post_distinct``: 20,000 one-unit shipments (scale 1.0) by 4 worker processes, each on
its own 50 goods, through ``inventory.ledger.issue`` (a named balance: the conditional-UPDATE
fast path; an idempotency key per posting), versus the same postings written with psycopg2:
``UPDATE ... SET on_hand = on_hand - 1 WHERE id = %s AND on_hand - frozen - reserved >= 1``,
``INSERT`` of the movement (same columns, same key), one transaction each. Bar: ratio <= 2.5.

``ledger_post_hot``: the same with every worker on one balance row holding 100 units (0.5%)
fewer than the postings: ratio <= 2.0, and zero oversell (the row ends at exactly 0, exactly 100 postings
refused, no more movements than units).

Both sides run in the same process tree, on the same tables (indexes, triggers, deferred foreign
keys), alternately, each twice on fresh balances; the faster of each side's runs is reported.
Workers are forked processes with their own connections, started together on a barrier; the
time is the wall time from the barrier to the last worker's end. DEBUG is off, as in production.
"""

from __future__ import annotations

import multiprocessing
import time

from django.db import connections

from bench.common import check, raw_connection, report, scaled

WORKERS = 4
GOODS_PER_WORKER = 50
ROUNDS = 2

MOVEMENT_INSERT = """
INSERT INTO inventory_stockmovement
    (kind, balance_id, goods_id, warehouse_id, bin_id, batch_id, from_bin_id, to_bin_id,
     quantity, on_hand_delta, frozen_delta, reserved_delta, document_type, document_id,
     document_ref, operator_id, reason, idempotency_key, created_at)
VALUES ('out_order_shipment', %s, %s, %s, %s, NULL, %s, NULL, 1, -1, 0, 0, 'outbound', NULL,
        %s, NULL, '', %s, now())
"""
BALANCE_UPDATE = (
    "UPDATE inventory_stockbalance SET on_hand = on_hand - 1 "
    "WHERE id = %s AND on_hand - frozen - reserved >= 1"
)


def _world() -> dict:
    from warehouses.models import Bin, Warehouse, Zone

    warehouse, _ = Warehouse.objects.get_or_create(code="BENCH", defaults={"name": "Bench"})
    zone, _ = Zone.objects.get_or_create(warehouse=warehouse, code="Z", defaults={"name": "Zone"})
    bin, _ = Bin.objects.get_or_create(warehouse=warehouse, zone=zone, code="B-01")
    return {"warehouse": warehouse.pk, "bin": bin.pk}


def _stock(world: dict, tag: str, goods_count: int, units_each: int) -> list[tuple[int, int]]:
    """Fresh goods, each with one balance of ``units_each`` units received through the ledger;
    returns (goods id, balance id) pairs."""
    from inventory import ledger
    from inventory.models import Goods, StockBalance

    goods = Goods.objects.bulk_create(
        [Goods(sku=f"{tag}-{i:05d}", name=f"{tag} {i}") for i in range(goods_count)]
    )
    ledger.receive(
        kind="in_purchase",
        lines=[ledger.Receipt(g.pk, world["bin"], units_each) for g in goods],
        document=ledger.Document(type="other", ref=f"SETUP-{tag}"),
    )
    ids = dict(StockBalance.objects.filter(goods__in=goods).values_list("goods_id", "pk"))
    return [(g.pk, ids[g.pk]) for g in goods]


def _app_worker(barrier, tasks, world, tag, queue) -> None:
    from inventory import ledger
    from inventory.exceptions import InsufficientStock

    connections["default"].ensure_connection()
    ok = refused = 0
    failures: list[str] = []
    barrier.wait()
    for n, (goods_id, balance_id) in tasks:
        try:
            ledger.issue(
                kind="out_order_shipment",
                warehouse_id=world["warehouse"],
                lines=[ledger.Pick(goods_id=goods_id, quantity=1, balance_id=balance_id)],
                document=ledger.Document(type="outbound", ref=f"B-{n}"),
                idempotency_key=f"{tag}-{n}",
            )
            ok += 1
        except InsufficientStock:
            refused += 1
        except Exception as exc:  # noqa: BLE001 - reported as a failure of the run
            failures.append(f"{type(exc).__name__}: {exc}")
    connections.close_all()
    queue.put((ok, refused, failures))


def _raw_worker(barrier, tasks, world, tag, queue) -> None:
    ok = refused = 0
    failures: list[str] = []
    with raw_connection() as conn:
        cursor = conn.cursor()
        barrier.wait()
        for n, (goods_id, balance_id) in tasks:
            try:
                cursor.execute(BALANCE_UPDATE, [balance_id])
                if cursor.rowcount == 1:
                    cursor.execute(
                        MOVEMENT_INSERT,
                        [
                            balance_id,
                            goods_id,
                            world["warehouse"],
                            world["bin"],
                            world["bin"],
                            f"B-{n}",
                            f"{tag}-{n}",
                        ],
                    )
                    ok += 1
                else:
                    refused += 1
                conn.commit()
            except Exception as exc:  # noqa: BLE001 - reported as a failure of the run
                conn.rollback()
                failures.append(f"{type(exc).__name__}: {exc}")
    queue.put((ok, refused, failures))


def _run(worker, plan: list[list], world: dict, tag: str) -> tuple[float, int, int, list[str]]:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(plan) + 1)
    queue = context.Queue()
    connections.close_all()  # children open their own connections
    processes = [
        context.Process(target=worker, args=(barrier, tasks, world, tag, queue)) for tasks in plan
    ]
    for process in processes:
        process.start()
    barrier.wait()
    start = time.perf_counter()
    results = [queue.get() for _ in processes]
    elapsed = time.perf_counter() - start
    for process in processes:
        process.join()
    ok = sum(r[0] for r in results)
    refused = sum(r[1] for r in results)
    failures = [f for r in results for f in r[2]]
    return elapsed, ok, refused, failures


def _distinct_plan(pairs: list[tuple[int, int]], operations: int, offset: int) -> list[list]:
    """Worker w ships, round robin, only its own GOODS_PER_WORKER goods."""
    plan: list[list] = [[] for _ in range(WORKERS)]
    for n in range(operations):
        worker = n % WORKERS
        own = pairs[worker * GOODS_PER_WORKER : (worker + 1) * GOODS_PER_WORKER]
        plan[worker].append((offset + n, own[(n // WORKERS) % len(own)]))
    return plan


def _hot_plan(pair: tuple[int, int], operations: int, offset: int) -> list[list]:
    plan: list[list] = [[] for _ in range(WORKERS)]
    for n in range(operations):
        plan[n % WORKERS].append((offset + n, pair))
    return plan


def _check_distinct(side: str, pairs: list[tuple[int, int]], plan: list[list], units: int) -> None:
    """Every balance lost exactly the units shipped from it, each shipment is one movement, and
    the ledger still reconciles: read from the database, not from the workers' own counts."""
    from collections import Counter

    from inventory.models import StockBalance, StockMovement

    shipped = Counter(pair[1] for tasks in plan for _n, pair in tasks)
    balance_ids = [balance_id for _goods, balance_id in pairs]
    on_hand = dict(StockBalance.objects.filter(pk__in=balance_ids).values_list("pk", "on_hand"))
    wrong = [pk for pk in balance_ids if on_hand.get(pk) != units - shipped[pk]]
    check(
        not wrong,
        f"{side}: {len(wrong)} of {len(balance_ids)} balances hold the wrong quantity "
        f"(e.g. balance {wrong[:1]}: {on_hand.get(wrong[0]) if wrong else ''}, "
        f"expected {units - shipped[wrong[0]] if wrong else ''})",
    )
    movements = StockMovement.objects.filter(
        balance_id__in=balance_ids, kind="out_order_shipment"
    ).count()
    operations = sum(shipped.values())
    check(movements == operations, f"{side}: {movements} shipment movements, {operations} posted")


def ledger_post_distinct(scale: float) -> None:
    operations = scaled(20_000, scale, minimum=200)
    world = _world()
    goods_count = WORKERS * GOODS_PER_WORKER
    units = operations // goods_count + 10
    best = {"app": float("inf"), "raw": float("inf")}
    failures: list[str] = []
    offset = 0
    for round_ in range(ROUNDS):
        for side, worker in (("raw", _raw_worker), ("app", _app_worker)):
            pairs = _stock(world, f"D{round_}{side}", goods_count, units)
            plan = _distinct_plan(pairs, operations, offset)
            offset += operations
            elapsed, ok, refused, errors = _run(worker, plan, world, f"dist-{side}")
            failures += errors
            if ok != operations or refused:
                failures.append(f"{side}: {ok} posted, {refused} refused of {operations}")
            _check_distinct(side, pairs, plan, units)
            best[side] = min(best[side], elapsed)
    report(
        "ledger_post_distinct",
        best["app"],
        best["raw"],
        postings=operations,
        workers=WORKERS,
        app_per_s=f"{operations / best['app']:.0f}",
        raw_per_s=f"{operations / best['raw']:.0f}",
        failures=len(failures),
    )
    for failure in failures[:5]:
        check(False, f"posting failed: {failure}")
    check(not failures, f"{len(failures)} postings failed or were refused")


def ledger_post_hot(scale: float) -> None:
    from inventory.models import StockBalance, StockMovement

    operations = scaled(20_000, scale, minimum=200)
    world = _world()
    short = max(1, operations // 200)  # 100 at full size
    best = {"app": float("inf"), "raw": float("inf")}
    oversold: list[str] = []
    offset = 0
    for round_ in range(ROUNDS):
        for side, worker in (("raw", _raw_worker), ("app", _app_worker)):
            [pair] = _stock(world, f"H{round_}{side}", 1, operations - short)
            plan = _hot_plan(pair, operations, offset)
            offset += operations
            elapsed, ok, refused, errors = _run(worker, plan, world, f"hot-{side}")
            balance = StockBalance.objects.get(pk=pair[1])
            check(balance.on_hand >= 0, f"{side}: on_hand went below zero: {balance.on_hand}")
            shipped = StockMovement.objects.filter(
                balance_id=pair[1], kind="out_order_shipment"
            ).count()
            if (
                errors
                or balance.on_hand != 0
                or ok != operations - short
                or refused != short
                or shipped != ok
            ):
                oversold.append(
                    f"{side}: on_hand={balance.on_hand} posted={ok} refused={refused} "
                    f"movements={shipped} errors={errors[:2]}"
                )
            best[side] = min(best[side], elapsed)
    report(
        "ledger_post_hot",
        best["app"],
        best["raw"],
        postings=operations,
        workers=WORKERS,
        refused_as_expected=short,
        app_per_s=f"{operations / best['app']:.0f}",
        raw_per_s=f"{operations / best['raw']:.0f}",
        oversell=0 if not oversold else "FAILED",
    )
    for line in oversold:
        check(False, f"oversell or unexpected failure: {line}")


BENCHMARKS = {"ledger_post_distinct": ledger_post_distinct, "ledger_post_hot": ledger_post_hot}
