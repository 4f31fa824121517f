"""Store allocation benchmarks (issue 10), the app beside plain code, same run, same database.

* ``grab_hot_pool``: 10,000 first-come grabs (1-3 units each) by 16 concurrent clients on one
  pool, through ``grabs.grab_request_submit`` (its checks, the conditional pool UPDATE, the
  request and its decision) versus raw SQL doing the same writes (``UPDATE pool SET granted =
  granted + n WHERE id = %s AND granted + n <= offered`` plus the request row), each in its own
  transaction. Also the throughput at 32 clients against 8 for both (``scaling`` = grabs/s at 32
  / grabs/s at 8), each over as many grabs as the main run (runs of 2,500 grabs, a few seconds
  on 2 cores, moved the app's figure between 0.69 and 0.93 from run to run). Checks: every
  request answered with one decision, the pool counter equals the sum granted (requests and
  decisions) and the offer exactly (no oversell: everyone can be served, the pool ends empty),
  no grant above its ask, the reservation equals the pool's lines, and the baseline's own pool
  and rows are exact too.
* ``allocate_at_close_10k``: priority at close (strict, by sales volume) of 10,000 requests from
  1,000 stores over 50 goods: ``close.window_close`` (shares, set-based answers, decisions, one
  order per store with its lines, the rest unreserved) versus a plain SQL/Python baseline that
  computes the same shares from the same tables (its own ranking query and fill loop) and writes
  the answers and the orders with plain SQL into scratch tables. Check: the shares are equal,
  request by request.
* ``import_store_sales_1m``: 1,000,000 daily sales rows (100 stores x 100 goods x 100 days, CSV)
  through the import engine (``run_import``, commit) in a subprocess (its peak RSS is its own)
  versus a plain loader (csv reader + batched ``execute_values`` inserts). Checks: 1,000,000 rows
  in the table after each, peak RSS <= 300 MiB.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from django.db import connection, connections
from django.utils import timezone

from bench.common import check, peak_rss_mib, raw_connection, report, scaled, timed

# --- shared setup -----------------------------------------------------------------------------


def _world(goods_count: int, units: int):
    from inventory.tests.factories import GoodsFactory, receive_stock
    from warehouses.tests.factories import BinFactory

    bin = BinFactory()
    goods = [GoodsFactory(sku=f"BENCH-{i:04d}") for i in range(goods_count)]
    for g in goods:
        receive_stock(g, bin, units)
    return bin, goods


def _stores(count: int, manager_names: list[str]):
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from allocation.models import Store, StoreManager
    from wms.roles import STORE_MANAGER, sync_roles

    sync_roles(apps)
    group = Group.objects.get(name=STORE_MANAGER)
    users = []
    for name in manager_names:
        user = get_user_model().objects.create_user(username=name)
        user.groups.add(group)
        users.append(user)
    stores = Store.objects.bulk_create(
        [Store(code=f"B{i:05d}", name=f"Bench store {i}") for i in range(count)]
    )
    StoreManager.objects.bulk_create(
        [StoreManager(store=s, user=users[i % len(users)]) for i, s in enumerate(stores)]
    )
    return users, stores


def _window(bin, offers, mode, policy):
    from django.contrib.auth import get_user_model

    from allocation.services import windows

    manager = get_user_model().objects.create_user(username=f"wm-{time.monotonic_ns()}")
    now = timezone.now()
    return windows.window_create(
        name="bench",
        warehouse=bin.warehouse,
        policy=policy,
        mode=mode,
        opens_at=now - datetime.timedelta(seconds=1),
        closes_at=now + datetime.timedelta(hours=1),
        scope="all",
        offers=[windows.Offer(g, q) for g, q in offers],
        user=manager,
    )


# --- grab_hot_pool ----------------------------------------------------------------------------


def _clients(work, n_clients: int, count: int) -> float:
    """Run ``work(indices)`` in ``n_clients`` concurrent clients: threads with their own
    connections (default), or forked processes with ``WMS_BENCH_CLIENT_PROCESSES=1``."""
    if os.environ.get("WMS_BENCH_CLIENT_PROCESSES") == "1":
        return _in_processes(work, n_clients, count)
    return _in_threads(work, n_clients, count)


def _in_threads(work, n_clients: int, count: int) -> float:
    from concurrent.futures import ThreadPoolExecutor

    chunks = [list(range(c, count, n_clients)) for c in range(n_clients)]
    failures = []

    def run(chunk):
        try:
            work(chunk)
        except Exception as exc:  # noqa: BLE001 - a failed check below
            failures.append(repr(exc))
        finally:
            connections.close_all()

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n_clients) as executor:
        list(executor.map(run, chunks))
    elapsed = time.perf_counter() - start
    check(not failures, f"client errors: {failures[:3]}")
    return elapsed


def _in_processes(work, n_clients: int, count: int) -> float:
    """Run ``work(indices)`` in ``n_clients`` forked client processes (each with its own
    database connection, as web workers are), released together; seconds until all are done."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    connections.close_all()
    ready = context.Barrier(n_clients + 1)
    chunks = [list(range(c, count, n_clients)) for c in range(n_clients)]

    def run(chunk):
        code = 1
        try:
            ready.wait()
            work(chunk)
            code = 0
        except Exception:  # noqa: BLE001 - reported through the exit code
            traceback.print_exc()
        finally:
            connections.close_all()
            os._exit(code)

    processes = [context.Process(target=run, args=(chunk,)) for chunk in chunks]
    for process in processes:
        process.start()
    ready.wait()
    start = time.perf_counter()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - start
    failed = [p.exitcode for p in processes if p.exitcode != 0]
    check(not failed, f"client processes failed: {failed}")
    return elapsed


def _app_grabs(window, goods, stores, manager_of, asks, n_clients: int, prefix: str) -> float:
    """Every store grabs once from the window's pool through the service; seconds taken."""
    from allocation.services import grabs

    def work(chunk):
        for i in chunk:
            store = stores[i]
            grabs.grab_request_submit(
                user=manager_of[store.pk],
                store=store,
                window=window,
                goods_id=goods.pk,
                quantity=asks[i],
                client_key=f"{prefix}{i}",
            )

    return _clients(work, n_clients, len(stores))


def _raw_grabs(count: int, asks, n_clients: int, pool_id: int) -> float:
    """The baseline: per grab the conditional pool UPDATE and the request INSERT, committed."""

    def work(chunk):
        with raw_connection() as conn, conn.cursor() as cursor:
            for i in chunk:
                cursor.execute(
                    "UPDATE bench_grab_pool SET granted = granted + %s WHERE id = %s "
                    "AND granted + %s <= offered RETURNING granted",
                    [asks[i], pool_id, asks[i]],
                )
                ok = cursor.fetchone() is not None
                cursor.execute(
                    "INSERT INTO bench_grab_request (pool_id, store_id, quantity, granted, status,"
                    " created_at) VALUES (%s, %s, %s, %s, %s, now())",
                    [pool_id, i, asks[i], asks[i] if ok else 0, "granted" if ok else "refused"],
                )
                conn.commit()

    return _clients(work, n_clients, count)


def grab_hot_pool(scale: float) -> None:
    from allocation.models import GrabDecision, GrabPool, GrabPoolLine, GrabRequest, Policy
    from inventory.models import StockBalance

    total = scaled(10_000, scale, minimum=200)
    side = total  # grabs per scaling run: as many as the run above (a short run is noise)
    clients = 16
    bin, (goods,) = _world(1, total * 3 + side * 3 * 2)
    users, stores = _stores(total, [f"m{i:02d}" for i in range(32)])
    manager_of = {s.pk: users[i % len(users)] for i, s in enumerate(stores)}
    policy = Policy.objects.create(name="bench first come", cycle="on_demand")
    rng = random.Random(5)
    asks = [rng.randint(1, 3) for _ in range(total)]
    offer = sum(asks)  # everyone can be served: the pool ends exactly empty
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TABLE IF EXISTS bench_grab_pool, bench_grab_request;"
            "CREATE TABLE bench_grab_pool (id int PRIMARY KEY, offered int, granted int);"
            "CREATE TABLE bench_grab_request (id bigserial PRIMARY KEY, pool_id int, store_id int,"
            " quantity int, granted int, status text, created_at timestamptz)"
        )
        cursor.execute(
            "INSERT INTO bench_grab_pool VALUES (1, %s, 0), (2, %s, 0), (3, %s, 0)",
            [offer, offer, offer],
        )

    window = _window(bin, [(goods, offer)], "first_come", policy)
    baseline = _raw_grabs(total, asks, clients, 1)
    app = _app_grabs(window, goods, stores, manager_of, asks, clients, "main-")
    pool = GrabPool.objects.get(window=window)
    requests = GrabRequest.objects.filter(window=window)
    answered = requests.filter(answered_at__isnull=False).count()
    granted = sum(requests.values_list("granted", flat=True))
    reserved = sum(StockBalance.objects.filter(goods=goods).values_list("reserved", flat=True))
    check(answered == total, f"{answered} of {total} requests answered")
    check(pool.granted == granted == offer, f"pool {pool.granted}, grants {granted}, offer {offer}")
    check(
        reserved == sum(GrabPoolLine.objects.filter(pool=pool).values_list("quantity", flat=True)),
        "the reservation differs from the pool's lines",
    )
    check(requests.filter(granted__gt=models_F("quantity")).count() == 0, "a grant above its ask")
    decided = GrabDecision.objects.filter(request__window=window)
    check(decided.count() == total, f"{decided.count()} decisions for {total} requests")
    check(
        sum(decided.values_list("granted", flat=True)) == offer,
        "the decisions' grants differ from the pool's",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.granted, (SELECT sum(granted) FROM bench_grab_request WHERE pool_id = 1),"
            " (SELECT count(*) FROM bench_grab_request WHERE pool_id = 1)"
            " FROM bench_grab_pool p WHERE p.id = 1"
        )
        raw_pool, raw_granted, raw_count = cursor.fetchone()
    check(
        raw_pool == raw_granted == offer and raw_count == total,
        f"baseline pool {raw_pool}, grants {raw_granted}, rows {raw_count}",
    )
    report(
        "grab_hot_pool",
        app,
        baseline,
        grabs=total,
        clients=clients,
        app_per_s=round(total / app),
        baseline_per_s=round(total / baseline),
    )

    rates = {}
    side_asks = asks[:side]
    side_offer = sum(side_asks)
    for n_clients, pool_id in ((8, 2), (32, 3)):
        window_n = _window(bin, [(goods, side_offer)], "first_come", policy)
        app_t = _app_grabs(
            window_n, goods, stores[:side], manager_of, side_asks, n_clients, f"s{n_clients}-"
        )
        raw_t = _raw_grabs(side, side_asks, n_clients, pool_id)
        rates[n_clients] = (side / app_t, side / raw_t)
        check(
            GrabPool.objects.get(window=window_n).granted == side_offer,
            f"the {n_clients}-client pool was not granted exactly",
        )
    print(
        f"grab_hot_pool_scaling: app_8={rates[8][0]:.0f}/s app_32={rates[32][0]:.0f}/s "
        f"app_32_vs_8={rates[32][0] / rates[8][0]:.2f} baseline_8={rates[8][1]:.0f}/s "
        f"baseline_32={rates[32][1]:.0f}/s baseline_32_vs_8={rates[32][1] / rates[8][1]:.2f}",
        flush=True,
    )


def models_F(name):  # noqa: N802
    from django.db.models import F

    return F(name)


# --- allocate_at_close_10k -------------------------------------------------------------------


def _baseline_close(window_id: int, lookback: int) -> tuple[float, dict[int, int]]:
    """Plain SQL/Python on a copy of the requests (``bench_request``, same indexes): rank by
    sales in the lookback, fill each pool in order, then the same writes as the app: the
    answers (one UPDATE from unnest), a decision per request, one order per store and its
    lines. Returns (seconds, shares)."""
    from psycopg2.extras import execute_values

    today = timezone.localdate()
    with raw_connection() as conn, conn.cursor() as cursor:
        start = time.perf_counter()
        cursor.execute(
            """
            SELECT r.id, r.pool_id, r.quantity, r.store_id, COALESCE(s.total, 0), st.code,
                   r.created_at, p.offered, p.goods_id
            FROM bench_request r
            JOIN allocation_grabpool p ON p.id = r.pool_id
            JOIN allocation_store st ON st.id = r.store_id
            LEFT JOIN (
                SELECT store_id, goods_id, SUM(units_sold) AS total FROM allocation_storesales
                WHERE day >= %s AND day < %s GROUP BY store_id, goods_id
            ) s ON s.store_id = r.store_id AND s.goods_id = p.goods_id
            WHERE r.window_id = %s AND r.status = 'pending'
            """,
            [today - datetime.timedelta(days=lookback), today, window_id],
        )
        by_pool: dict[int, list] = {}
        offered = {}
        goods_of = {}
        for rid, pool_id, qty, store_id, sales, code, created, pool_offered, goods_id in cursor:
            by_pool.setdefault(pool_id, []).append((-sales, code, created, rid, qty, store_id))
            offered[pool_id] = pool_offered
            goods_of[pool_id] = goods_id
        shares: dict[int, int] = {}
        answers = []
        lines = []
        for pool_id, rows in by_pool.items():
            rows.sort()
            left = offered[pool_id]
            for _sales, _code, _created, rid, qty, store_id in rows:
                take = min(qty, left)
                left -= take
                shares[rid] = take
                status = "granted" if take == qty else "partial" if take else "refused"
                answers.append((rid, status, take))
                if take:
                    lines.append((store_id, goods_of[pool_id], take))
        cursor.execute(
            "UPDATE bench_request r SET status = u.status, granted = u.granted, answered_at = now()"
            " FROM unnest(%s::bigint[], %s::text[], %s::int[]) AS u(id, status, granted)"
            " WHERE r.id = u.id",
            [list(col) for col in zip(*answers, strict=True)],
        )
        execute_values(
            cursor,
            "INSERT INTO bench_decision (request_id, result, granted, created_at) VALUES %s",
            [(rid, status, take, timezone.now()) for rid, status, take in answers],
            page_size=5000,
        )
        stores = sorted({store_id for store_id, _g, _q in lines})
        order_of = dict(
            execute_values(
                cursor,
                "INSERT INTO bench_order (store_id) VALUES %s RETURNING store_id, id",
                [(s,) for s in stores],
                page_size=len(stores) or 1,
                fetch=True,
            )
        )
        execute_values(
            cursor,
            "INSERT INTO bench_line (order_id, goods_id, quantity) VALUES %s",
            [(order_of[s], g, q) for s, g, q in lines],
            page_size=5000,
        )
        conn.commit()
        return time.perf_counter() - start, shares


def allocate_at_close_10k(scale: float) -> None:
    from allocation.models import GrabPool, GrabRequest, Policy, ReplenishmentOrder
    from allocation.services import close
    from inventory.models import StockBalance

    store_count = scaled(1_000, scale, minimum=50)
    goods_count = 50
    per_store = 10
    lookback = 7
    bin, goods = _world(goods_count, 100_000)
    _users, stores = _stores(store_count, ["bench-manager"])
    policy = Policy.objects.create(
        name="bench at close",
        cycle="on_demand",
        priority=Policy.Priority.SALES_VOLUME,
        share=Policy.Share.STRICT_PRIORITY,
        lookback_days=lookback,
    )
    rng = random.Random(11)
    today = timezone.localdate()
    sales = [
        (s.pk, g.pk, today - datetime.timedelta(days=d), rng.randint(0, 40))
        for s in stores
        for g in goods
        for d in (1, 2)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO allocation_storesales (store_id, goods_id, day, units_sold) "
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::date[], %s::int[])",
            [list(col) for col in zip(*sales, strict=True)],
        )
        cursor.execute(
            "DROP TABLE IF EXISTS bench_decision, bench_order, bench_line, bench_request;"
            "CREATE TABLE bench_decision (id bigserial PRIMARY KEY, request_id bigint,"
            " result text, granted int, created_at timestamptz);"
            "CREATE TABLE bench_order (id bigserial PRIMARY KEY, store_id bigint);"
            "CREATE TABLE bench_line (id bigserial PRIMARY KEY, order_id bigint, goods_id bigint,"
            " quantity int)"
        )
    asks = {}
    for s in stores:
        for g in rng.sample(goods, per_store):
            asks[(s.pk, g.pk)] = rng.randint(1, 20)
    demand: dict[int, int] = {}
    for (_s, g), q in asks.items():
        demand[g] = demand.get(g, 0) + q
    window = _window(
        bin, [(g, max(1, demand.get(g.pk, 1) // 2)) for g in goods], "at_close", policy
    )
    pool_of = dict(GrabPool.objects.filter(window=window).values_list("goods_id", "pk"))
    now = timezone.now()
    GrabRequest.objects.bulk_create(
        [
            GrabRequest(
                window=window,
                pool_id=pool_of[g],
                store_id=s,
                quantity=q,
                status=GrabRequest.Status.PENDING,
                client_key=f"r{n}",
                created_at=now + datetime.timedelta(microseconds=n),
            )
            for n, ((s, g), q) in enumerate(asks.items())
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        # the baseline answers a copy of the requests, indexed like the real table
        cursor.execute(
            "CREATE TABLE bench_request (LIKE allocation_grabrequest INCLUDING ALL);"
            "INSERT INTO bench_request SELECT * FROM allocation_grabrequest"
        )
        cursor.execute("ANALYZE")  # fresh tables: give both sides the planner's statistics
    baseline, shares = _baseline_close(window.pk, lookback)
    if os.environ.get("WMS_BENCH_PROFILE"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    app, _ = timed(lambda: close.window_close(window_id=window.pk))
    if os.environ.get("WMS_BENCH_PROFILE"):
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    granted = dict(GrabRequest.objects.filter(window=window).values_list("pk", "granted"))
    differing = [rid for rid, units in shares.items() if granted.get(rid) != units]
    check(len(granted) == len(asks), "requests went missing")
    check(not differing, f"{len(differing)} shares differ from the baseline's")
    pools = GrabPool.objects.filter(window=window)
    check(all(p.granted <= p.offered for p in pools), "a pool granted more than it offered")
    reserved = sum(StockBalance.objects.values_list("reserved", flat=True))
    check(reserved == sum(shares.values()), "the reservation differs from the grants")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), (SELECT sum(quantity) FROM bench_line) FROM bench_order")
        baseline_orders, baseline_units = cursor.fetchone()
    orders = ReplenishmentOrder.objects.filter(window=window)
    check(orders.count() == baseline_orders, "the orders differ from the baseline's")
    check(
        sum(orders.values_list("lines__quantity", flat=True)) == baseline_units,
        "the order lines differ from the baseline's",
    )
    report(
        "allocate_at_close_10k",
        app,
        baseline,
        requests=len(asks),
        stores=store_count,
        goods=goods_count,
        orders=baseline_orders,
    )


# --- import_store_sales_1m -------------------------------------------------------------------


def _high_water_mib() -> float:
    """Peak resident memory of this process (VmHWM), in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return peak_rss_mib()


def _sales_csv(path: Path, stores, goods, days: int) -> int:
    today = timezone.localdate()
    dates = [(today - datetime.timedelta(days=d)).isoformat() for d in range(days, 0, -1)]
    rng = random.Random(3)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["store", "sku", "day", "units_sold", "on_hand"])
        for store in stores:
            for g in goods:
                for day in dates:
                    writer.writerow(
                        [store.code, g.sku, day, rng.randint(0, 30), rng.randint(0, 99)]
                    )
                    count += 1
    return count


def _plain_sales_load(path: Path) -> float:
    """The baseline: csv reader, codes looked up in dicts, ``execute_values`` in batches of
    5,000, one transaction."""
    from psycopg2.extras import execute_values

    with raw_connection() as conn, conn.cursor() as cursor:
        start = time.perf_counter()
        cursor.execute("SELECT code, id FROM allocation_store")
        stores = dict(cursor.fetchall())
        cursor.execute("SELECT sku, id FROM inventory_goods")
        goods = dict(cursor.fetchall())
        sql = (
            "INSERT INTO allocation_storesales (store_id, goods_id, day, units_sold, on_hand) "
            "VALUES %s"
        )
        batch = []
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            for store, sku, day, sold, on_hand in reader:
                batch.append(
                    (
                        stores[store],
                        goods[sku],
                        datetime.date.fromisoformat(day),
                        int(sold),
                        int(on_hand) if on_hand else None,
                    )
                )
                if len(batch) == 5000:
                    execute_values(cursor, sql, batch, page_size=5000)
                    batch = []
        if batch:
            execute_values(cursor, sql, batch, page_size=5000)
        conn.commit()
        return time.perf_counter() - start


def import_store_sales_1m(scale: float) -> None:
    from allocation.models import StoreSales

    side = 100
    days = max(2, round(100 * scale))
    _bin, goods = _world(side, 1)
    _users, stores = _stores(side, ["bench-importer"])
    folder = Path(tempfile.mkdtemp(prefix="bench-sales-"))
    path = folder / "sales.csv"
    rows = _sales_csv(path, stores, goods, days)
    baseline = _plain_sales_load(path)
    check(StoreSales.objects.count() == rows, "the plain loader did not load every row")
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE allocation_storesales")
    connection.close()  # the child must see committed data only
    env = {
        **os.environ,
        "WMS_BENCH_DB_NAME": connection.settings_dict["NAME"],
        "WMS_IMPORT_MAX_ROWS": str(rows + 10),  # the default cap is 200,000 data rows
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and module, fixed arguments
        [sys.executable, "-m", "bench.allocation", "import_sales", str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    path.unlink()
    folder.rmdir()
    if not check(done.returncode == 0, f"the import process failed: {done.stderr[-2000:]}"):
        return
    result = json.loads(done.stdout.strip().splitlines()[-1])
    check(result.get("debug") is False, "a benchmark child process ran with DEBUG on")
    check(result["written"], f"the import was not written: {result['summary']}")
    check(StoreSales.objects.count() == rows, "the import did not load every row")
    check(result["peak_mib"] <= 300, f"peak memory {result['peak_mib']:.0f} MiB > 300 MiB")
    report(
        "import_store_sales_1m",
        result["seconds"],
        baseline,
        rows=rows,
        app_rows_per_s=round(rows / result["seconds"]),
        baseline_rows_per_s=round(rows / baseline),
        peak_mib=round(result["peak_mib"]),
    )


def _child(argv: list[str]) -> None:
    """``python -m bench.allocation import_sales <path>``: the import, JSON on stdout."""
    import django

    django.setup()
    connections["default"].settings_dict["NAME"] = os.environ["WMS_BENCH_DB_NAME"]
    from django.conf import settings

    from allocation.imports import StoreSalesResource
    from inventory.imports.engine import run_import
    from inventory.imports.files import open_sheet

    path = argv[1]
    started = time.perf_counter()
    report_ = run_import(StoreSalesResource(), open_sheet(path, Path(path).name), dry_run=False)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "written": report_.written,
                "summary": report_.summary_line() + " " + report_.refused,
                "peak_mib": _high_water_mib(),
                "debug": settings.DEBUG,
            }
        )
    )


BENCHMARKS = {
    "grab_hot_pool": grab_hot_pool,
    "allocate_at_close_10k": allocate_at_close_10k,
    "import_store_sales_1m": import_store_sales_1m,
}


if __name__ == "__main__":
    _child(sys.argv[1:])
