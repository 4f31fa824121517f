"""The REST API's two benchmarks (issue 13).

* ``api_list_balances``: 100,000 balances (scale 1.0) paged through ``/api/v1/balances/`` with
  the cursor, 500 rows a page, through the API stack in process (authentication, permissions,
  throttling, filters, the stock query selector, serialization, JSON). Printed: the first and
  the last page's median time (``last_over_first``: the bar is <= 1.5, keyset pagination, no
  OFFSET), beside the baseline: the last page's rows fetched with one hand-written keyset SQL
  statement through psycopg2. Checked: the walk returned every balance with stock exactly once,
  in order, with the database's total on hand.
* ``api_post_shipments``: 10,000 single-line shipments (``POST /api/v1/shipments/``, each with
  an ``Idempotency-Key``) by 4 concurrent clients over real HTTP against gunicorn (4 workers) on
  a random local port, versus the same postings through the service layer (create, add line,
  post, in one transaction: what the endpoint calls) by 4 threads, in the same run; ratio =
  API / services (bar: <= 2.5). Checked after each side: every shipment posted once, the
  units left match, and the ledger reconciles (no drift).

Both run with DEBUG off. Each exits non-zero (SystemExit) when its result check fails.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.db import connection

from bench.common import raw_connection, report, scaled

PAGE = 500


def _median(fn, repeat: int) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _world(goods_count: int, units: int):
    """Goods, one warehouse with bins, and one balance per goods received through the ledger in
    chunks (so the ledger's movements match, and the stock is real)."""
    from django.contrib.auth import get_user_model

    from inventory import ledger
    from inventory.models import Goods, StockMovement
    from warehouses.models import Bin, Warehouse, Zone

    user = get_user_model().objects.create_superuser("bench-api", "bench@example.com", "x")
    warehouse = Warehouse.objects.create(code="API", name="API bench")
    zone = Zone.objects.create(warehouse=warehouse, code="PICK", name="Pick", type="picking")
    bins = Bin.objects.bulk_create(
        [Bin(warehouse=warehouse, zone=zone, code=f"P-{b:03d}") for b in range(100)]
    )
    for start in range(0, goods_count, 5000):
        Goods.objects.bulk_create(
            [
                Goods(sku=f"API{i:07d}", name=f"Goods {i}")
                for i in range(start, min(start + 5000, goods_count))
            ]
        )
    goods_ids = list(Goods.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(goods_ids), 2000):
        chunk = goods_ids[start : start + 2000]
        ledger.receive(
            kind=StockMovement.Kind.INBOUND_PURCHASE,
            lines=[
                ledger.Receipt(goods_id, bins[goods_id % len(bins)].pk, units, None)
                for goods_id in chunk
            ],
            document=ledger.Document(type="other", ref="BENCH-API"),
            operator=user,
        )
    return user, warehouse, goods_ids


def _token(user) -> str:
    from api import tokens

    return tokens.token_create(user=user, name="bench")[1]


# --------------------------------------------------------------------------------------------
# api_list_balances
# --------------------------------------------------------------------------------------------

BASELINE_PAGE_SQL = """
    SELECT b.id, b.goods_id, g.sku, g.name, g.unit, w.code, b.bin_id, bn.code, z.code, z.type,
           bt.batch_no, bt.expiry_date, b.on_hand, b.frozen, b.reserved
    FROM inventory_stockbalance b
    JOIN inventory_goods g ON g.id = b.goods_id
    JOIN warehouses_warehouse w ON w.id = b.warehouse_id
    JOIN warehouses_bin bn ON bn.id = b.bin_id
    JOIN warehouses_zone z ON z.id = bn.zone_id
    LEFT JOIN inventory_batch bt ON bt.id = b.batch_id
    WHERE b.on_hand > 0 AND (g.sku > %s OR (g.sku = %s AND b.id > %s))
    ORDER BY g.sku, b.id LIMIT %s
"""


def api_list_balances(scale: float) -> None:
    from django.conf import settings
    from rest_framework.test import APIClient

    from inventory.models import StockBalance

    settings.DEBUG = False
    settings.WMS_API_RATE = None
    count = scaled(100_000, scale, minimum=1_000)
    user, _warehouse, _goods = _world(count, 5)
    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {_token(user)}")

    def get(url: str) -> dict:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(
                f"api_list_balances: HTTP {response.status_code} {response.content[:200]}"
            )
        return response.json()

    # Walk every page once, keeping each page's URL.
    first_url = f"/api/v1/balances/?limit={PAGE}"
    urls, rows, url = [], [], first_url
    walk_start = time.perf_counter()
    while url:
        urls.append(url)
        body = get(url)
        rows += body["results"]
        url = body["next"]
    walk = time.perf_counter() - walk_start

    # The check: every balance with stock once, in SKU order, and the same total on hand.
    ids = [row["balance_id"] for row in rows]
    expected = StockBalance.objects.filter(on_hand__gt=0)
    total = sum(expected.values_list("on_hand", flat=True))
    skus = [row["sku"] for row in rows]
    if len(ids) != expected.count() or len(set(ids)) != len(ids):
        raise SystemExit(
            f"api_list_balances: walked {len(ids)} rows, {len(set(ids))} distinct, expected {expected.count()}"
        )
    if skus != sorted(skus) or sum(row["on_hand"] for row in rows) != total:
        raise SystemExit("api_list_balances: rows out of order or totals differ")

    first = _median(lambda: get(urls[0]), 15)
    last = _median(lambda: get(urls[-1]), 15)
    last_row = rows[-PAGE - 1] if len(rows) > PAGE else None
    with raw_connection() as raw:
        cursor = raw.cursor()
        key = (last_row["sku"], last_row["balance_id"]) if last_row else ("", 0)

        def baseline():
            cursor.execute(BASELINE_PAGE_SQL, [key[0], key[0], key[1], PAGE + 1])
            return cursor.fetchall()

        baseline_rows = baseline()
        if [r[0] for r in baseline_rows[:PAGE]] != ids[-len(baseline_rows[:PAGE]) :]:
            raise SystemExit("api_list_balances: baseline's last page differs from the API's")
        baseline_time = _median(baseline, 15)
        raw.rollback()
    report(
        "api_list_balances",
        last,
        baseline_time,
        balances=len(ids),
        pages=len(urls),
        page_rows=PAGE,
        first_page_ms=f"{first * 1000:.1f}",
        last_page_ms=f"{last * 1000:.1f}",
        last_over_first=f"{last / first:.2f}",
        walk_s=f"{walk:.2f}",
    )


# --------------------------------------------------------------------------------------------
# api_post_shipments
# --------------------------------------------------------------------------------------------

CLIENTS = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gunicorn(port: int, headers: dict[str, str]) -> subprocess.Popen:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    if db.get("PASSWORD"):
        url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "wms.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "WMS_API_RATE": "",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(  # noqa: S603
        [
            str(gunicorn),
            "wms.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(CLIENTS),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=str(Path(__file__).resolve().parents[1]),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            # Warm every worker up (imports, first connection) before anything is timed.
            for _ in range(4 * CLIENTS):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/warehouses/", headers=headers)
                conn.getresponse().read()
                conn.close()
            return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit("api_post_shipments: gunicorn did not start") from None
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("api_post_shipments: gunicorn did not answer")


def _check(label: str, n: int, goods_ids: list[int], before: dict[int, int]) -> None:
    from inventory.models import OutboundSheet, StockBalance
    from inventory.selectors.stock import balance_drift

    posted = OutboundSheet.objects.filter(
        reference__startswith=f"{label}-", status="posted"
    ).count()
    after = dict(
        StockBalance.objects.filter(goods_id__in=goods_ids).values_list("goods_id", "on_hand")
    )
    shipped = sum(before.values()) - sum(after.values())
    if posted != n or shipped != n:
        raise SystemExit(
            f"api_post_shipments: {label}: {posted} sheets posted, {shipped} units shipped, expected {n}"
        )
    drift = balance_drift()
    if drift:
        raise SystemExit(f"api_post_shipments: {label}: ledger drift on {len(drift)} balances")


def _plan(n: int, goods_ids: list[int]) -> list[list[tuple[int, int]]]:
    """Shipment i ships 1 unit of goods i mod G; split round-robin over the clients."""
    jobs = [(i, goods_ids[i % len(goods_ids)]) for i in range(n)]
    return [jobs[c::CLIENTS] for c in range(CLIENTS)]


def api_post_shipments(scale: float) -> None:
    from django.conf import settings
    from django.db import transaction

    from inventory.models import StockBalance
    from inventory.services import stock as services

    settings.DEBUG = False
    n = scaled(10_000, scale, minimum=100)
    goods_count = max(50, n // 20)
    user, warehouse, goods_ids = _world(goods_count, 2 * n // goods_count + 10)
    token = _token(user)

    def on_hand() -> dict[int, int]:
        return dict(
            StockBalance.objects.filter(goods_id__in=goods_ids).values_list("goods_id", "on_hand")
        )

    # Service layer, 4 threads (each with its own connection).
    plans = _plan(n, goods_ids)
    before = on_hand()
    errors: list[str] = []

    def service_worker(jobs):
        from inventory.models import Goods

        try:
            for i, goods_id in jobs:
                with transaction.atomic():
                    sheet = services.outbound_sheet_create(
                        warehouse=warehouse, type="order_shipment", user=user, reference=f"SVC-{i}"
                    )
                    goods = Goods.objects.get(pk=goods_id)
                    services.outbound_line_add(sheet=sheet, goods=goods, quantity=1)
                    services.outbound_sheet_post(sheet_id=sheet.pk, user=user)
        except Exception as error:  # noqa: BLE001 - reported and fails the check
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=service_worker, args=(plan,)) for plan in plans]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    service_time = time.perf_counter() - start
    if errors:
        raise SystemExit(f"api_post_shipments: services: {errors[:3]}")
    _check("SVC", n, goods_ids, before)

    # The API over real HTTP, 4 clients against gunicorn.
    port = _free_port()
    server = _gunicorn(port, {"Authorization": f"Bearer {token}"})
    before = on_hand()

    def api_worker(jobs):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        try:
            for i, goods_id in jobs:
                body = json.dumps(
                    {
                        "warehouse": warehouse.pk,
                        "type": "order_shipment",
                        "reference": f"API-{i}",
                        "lines": [{"goods": goods_id, "quantity": 1}],
                    }
                )
                conn.request(
                    "POST", "/api/v1/shipments/", body, {**headers, "Idempotency-Key": f"bench-{i}"}
                )
                response = conn.getresponse()
                payload = response.read()
                if response.status != 201:
                    errors.append(f"HTTP {response.status} {payload[:200]!r}")
                    return
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        except OSError as error:
            errors.append(repr(error))
        finally:
            conn.close()

    try:
        threads = [threading.Thread(target=api_worker, args=(plan,)) for plan in plans]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        api_time = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=30)
    if errors:
        raise SystemExit(f"api_post_shipments: api: {errors[:3]}")
    _check("API", n, goods_ids, before)
    report(
        "api_post_shipments",
        api_time,
        service_time,
        shipments=n,
        clients=CLIENTS,
        api_per_s=f"{n / api_time:.0f}",
        services_per_s=f"{n / service_time:.0f}",
    )


BENCHMARKS = {"api_list_balances": api_list_balances, "api_post_shipments": api_post_shipments}
