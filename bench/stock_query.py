"""stock_query_page: the stock query's first page with filters, app versus raw SQL.

Data (scale 1.0): 100,000 goods x 3 warehouses of balances (300,000 rows, 5% with frozen units,
30% batch-managed) and 1,000,000 movements, built with bulk_create and set-based INSERT ...
SELECT. Then, on the same database in the same run:

* app: ``inventory.selectors.stock.stock_page`` over the StockFilter queryset (warehouse + zone
  type storage + has stock), producing the page's rows; baseline: the same rows fetched with one
  hand-written SQL statement through psycopg2. Both repeated, best-of medians reported;
  ratio = app / baseline (bar: <= 3.0).
* the whole page's server time (view and template, through the test client) for the first page
  and for a page 10,000 rows deep (the cursor of the 10,000th row), and the same for the ledger
  screen over the 1,000,000 movements: the deep page must stay within 1.5x of the first
  (keyset pagination, no OFFSET, no COUNT(*) per request).

Runs with DEBUG off, as in production (Django's debug cursor would log every app query).
"""

from __future__ import annotations

import re
import statistics
import time

from django.db import connection
from django.test import Client

from bench.common import check, raw_connection, report, scaled

WAREHOUSES = 3
BINS_PER_ZONE = 100
REPEAT = 60


def _build(goods_count: int, movement_target: int) -> dict:
    from django.contrib.auth import get_user_model

    from inventory.models import Brand, Category, Goods
    from warehouses.models import Bin, Warehouse, Zone

    categories = Category.objects.bulk_create([Category(name=f"Cat {i}") for i in range(50)])
    brands = Brand.objects.bulk_create([Brand(name=f"Brand {i}") for i in range(100)])
    for start in range(0, goods_count, 5000):
        Goods.objects.bulk_create(
            [
                Goods(
                    sku=f"SKU{i:07d}",
                    name=f"Goods {i}",
                    category=categories[i % len(categories)],
                    brand=brands[i % len(brands)],
                )
                for i in range(start, min(start + 5000, goods_count))
            ]
        )
    warehouses = []
    for w in range(WAREHOUSES):
        warehouse = Warehouse.objects.create(code=f"W{w}", name=f"Warehouse {w}", priority=w)
        for zone_type in (Zone.Type.PICKING, Zone.Type.STORAGE):
            zone = Zone.objects.create(
                warehouse=warehouse, code=zone_type[:4].upper(), name=zone_type, type=zone_type
            )
            Bin.objects.bulk_create(
                [
                    Bin(warehouse=warehouse, zone=zone, code=f"{zone.code}-{b:03d}")
                    for b in range(BINS_PER_ZONE)
                ]
            )
        warehouses.append(warehouse)
    ours = [w.pk for w in warehouses]  # other benchmarks may share the database
    with connection.cursor() as cursor:
        # The rows below are consistent by construction: skip the per-row foreign-key triggers
        # while loading them (a throwaway benchmark database; reset at the end of the load).
        cursor.execute("SET session_replication_role = replica")
        # 30% of goods are batch-managed: one batch each, expiring over the next two years.
        cursor.execute(
            """
            INSERT INTO inventory_batch (goods_id, batch_no, expiry_date, created_at)
            SELECT id, 'B' || id, CURRENT_DATE + (id %% 700)::int, now()
            FROM inventory_goods WHERE id %% 10 < 3 AND sku LIKE 'SKU%%'
            """,
            [],
        )
        # One balance per goods and warehouse, in a bin of either zone of that warehouse.
        cursor.execute(
            """
            WITH bins AS (
                SELECT warehouse_id, array_agg(id ORDER BY id) AS ids FROM warehouses_bin
                WHERE warehouse_id = ANY(%s) GROUP BY warehouse_id
            )
            INSERT INTO inventory_stockbalance
                (goods_id, warehouse_id, bin_id, batch_id, on_hand, frozen, reserved)
            SELECT g.id, bins.warehouse_id,
                   bins.ids[1 + ((g.id * 7 + bins.warehouse_id) %% array_length(bins.ids, 1))],
                   bt.id, 10 + g.id %% 90,
                   CASE WHEN g.id %% 20 = 0 THEN 3 ELSE 0 END,
                   CASE WHEN g.id %% 10 = 1 THEN 2 ELSE 0 END
            FROM inventory_goods g CROSS JOIN bins
            LEFT JOIN inventory_batch bt ON bt.goods_id = g.id
            WHERE g.sku LIKE 'SKU%%'
            """,
            [ours],
        )
        cursor.execute(
            "SELECT count(*) FROM inventory_stockbalance WHERE warehouse_id = ANY(%s)", [ours]
        )
        (balances,) = cursor.fetchone()
        # Movements that add up to the balances: a receipt, two shipments each, then pairs of
        # (receipt, shipment) until the target count; times spread over the past year.
        cursor.execute(
            """
            INSERT INTO inventory_stockmovement
                (kind, balance_id, goods_id, warehouse_id, bin_id, batch_id, to_bin_id,
                 from_bin_id, quantity, on_hand_delta, frozen_delta, reserved_delta,
                 document_type, document_id, document_ref, reason, created_at)
            SELECT CASE WHEN s.n = 1 THEN 'in_purchase' ELSE 'out_order_shipment' END,
                   b.id, b.goods_id, b.warehouse_id, b.bin_id, b.batch_id,
                   CASE WHEN s.n = 1 THEN b.bin_id END, CASE WHEN s.n > 1 THEN b.bin_id END,
                   CASE WHEN s.n = 1 THEN b.on_hand + 2 ELSE 1 END,
                   CASE WHEN s.n = 1 THEN b.on_hand + 2 ELSE -1 END, 0, 0,
                   'other', NULL, 'BENCH-' || s.n, '',
                   now() - make_interval(secs => ((b.id * 7919 + s.n * 104729) %% 31536000))
            FROM inventory_stockbalance b CROSS JOIN generate_series(1, 3) AS s(n)
            WHERE b.warehouse_id = ANY(%s)
            """,
            [ours],
        )
        extra_pairs = max(0, (movement_target - 3 * balances) // 2)
        cursor.execute(
            """
            INSERT INTO inventory_stockmovement
                (kind, balance_id, goods_id, warehouse_id, bin_id, batch_id, to_bin_id,
                 from_bin_id, quantity, on_hand_delta, frozen_delta, reserved_delta,
                 document_type, document_id, document_ref, reason, created_at)
            SELECT CASE WHEN s.n = 1 THEN 'in_sales_return' ELSE 'out_other' END,
                   b.id, b.goods_id, b.warehouse_id, b.bin_id, b.batch_id,
                   CASE WHEN s.n = 1 THEN b.bin_id END, CASE WHEN s.n = 2 THEN b.bin_id END,
                   1, CASE WHEN s.n = 1 THEN 1 ELSE -1 END, 0, 0,
                   'other', NULL, 'BENCH-X', '',
                   now() - make_interval(secs => ((b.id * 15485863 + s.n) %% 31536000))
            FROM (
                SELECT * FROM inventory_stockbalance WHERE warehouse_id = ANY(%s)
                ORDER BY id LIMIT %s
            ) b
            CROSS JOIN generate_series(1, 2) AS s(n)
            """,
            [ours, extra_pairs],
        )
        # Frozen and reserved movements so the ledger sums match the seeded holds.
        cursor.execute(
            """
            INSERT INTO inventory_stockmovement
                (kind, balance_id, goods_id, warehouse_id, bin_id, batch_id, quantity,
                 on_hand_delta, frozen_delta, reserved_delta, document_type, document_ref,
                 reason, created_at)
            SELECT CASE WHEN b.frozen > 0 THEN 'freeze' ELSE 'reserve' END, b.id, b.goods_id,
                   b.warehouse_id, b.bin_id, b.batch_id, b.frozen + b.reserved, 0, b.frozen,
                   b.reserved, 'other', 'BENCH-H', '', now() - interval '1 day'
            FROM inventory_stockbalance b
            WHERE (b.frozen > 0 OR b.reserved > 0) AND b.warehouse_id = ANY(%s)
            """,
            [ours],
        )
        cursor.execute("SET session_replication_role = origin")
        cursor.execute("ANALYZE")
        cursor.execute(
            "SELECT count(*) FROM inventory_stockmovement WHERE warehouse_id = ANY(%s)", [ours]
        )
        (movements,) = cursor.fetchone()
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-pw")
    return {"warehouse": warehouses[1], "balances": balances, "movements": movements, "user": user}


BASELINE_SQL = """
SELECT b.id, b.goods_id, g.sku, g.name, g.unit, w.code, b.bin_id, bn.code, z.code, z.type,
       bt.batch_no, bt.expiry_date, b.on_hand, b.frozen, b.reserved
FROM inventory_stockbalance b
JOIN inventory_goods g ON g.id = b.goods_id
JOIN warehouses_warehouse w ON w.id = b.warehouse_id
JOIN warehouses_bin bn ON bn.id = b.bin_id
JOIN warehouses_zone z ON z.id = bn.zone_id
LEFT JOIN inventory_batch bt ON bt.id = b.batch_id
WHERE b.warehouse_id = %s AND z.type = 'storage' AND b.on_hand > 0
ORDER BY g.sku, b.id
LIMIT 51
"""


def _median_time(fn, repeat: int) -> float:
    fn()  # warm up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def stock_query_page(scale: float) -> None:
    from inventory.filters_stock import StockFilter
    from inventory.selectors import stock as selectors

    goods_count = scaled(100_000, scale, minimum=400)
    data = _build(goods_count, scaled(1_000_000, scale, minimum=1_000))
    warehouse = data["warehouse"]
    params = {"warehouse": str(warehouse.pk), "zone_type": "storage"}

    def app():
        filterset = StockFilter(params, queryset=selectors.stock_base(user=data["user"]))
        assert filterset.is_valid()
        page = selectors.stock_page(
            user=data["user"], queryset=filterset.qs, group=filterset.grouping
        )
        return page.rows

    with raw_connection() as raw:
        cursor = raw.cursor()

        def baseline():
            cursor.execute(BASELINE_SQL, [warehouse.pk])
            return cursor.fetchall()

        app_rows, raw_rows = app(), baseline()
        check(
            [r.balance_id for r in app_rows] == [r[0] for r in raw_rows[:50]],
            "the app's first page differs from the raw query's",
        )
        app_time = _median_time(app, REPEAT)
        baseline_time = _median_time(baseline, REPEAT)
        raw.rollback()

    # Whole page, view and template, first page versus 10,000 rows deep.
    client = Client(HTTP_HOST="localhost")
    client.force_login(data["user"])
    deep_rows = min(10_000, max(data["balances"] // 6 - 60, 100))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT g.sku, b.id FROM inventory_stockbalance b
            JOIN inventory_goods g ON g.id = b.goods_id
            JOIN warehouses_bin bn ON bn.id = b.bin_id
            JOIN warehouses_zone z ON z.id = bn.zone_id
            WHERE b.warehouse_id = %s AND z.type = 'storage' AND b.on_hand > 0
            ORDER BY g.sku, b.id OFFSET %s LIMIT 1
            """,
            [warehouse.pk, deep_rows - 1],
        )
        deep_key = cursor.fetchone()
        cursor.execute(
            "SELECT created_at, id FROM inventory_stockmovement ORDER BY created_at DESC, id DESC "
            "OFFSET %s LIMIT 1",
            [deep_rows - 1],
        )
        deep_movement = cursor.fetchone()
    stock_url = "/inventory/stock/"
    deep_cursor = selectors.encode_cursor(deep_key)
    _check_deep_pages(client, params, warehouse.pk, deep_key, deep_cursor, deep_movement, selectors)
    first_page = _median_time(lambda: _get(client, stock_url, params), 15)
    deep_page = _median_time(lambda: _get(client, stock_url, {**params, "cursor": deep_cursor}), 15)
    ledger_cursor = selectors.encode_cursor((deep_movement[0].isoformat(), deep_movement[1]))
    ledger_first = _median_time(lambda: _get(client, "/inventory/ledger/", {}), 15)
    ledger_deep = _median_time(
        lambda: _get(client, "/inventory/ledger/", {"cursor": ledger_cursor}), 15
    )
    report(
        "stock_query_page",
        app_time,
        baseline_time,
        balances=data["balances"],
        movements=data["movements"],
        page_first_ms=f"{first_page * 1000:.1f}",
        page_deep_ms=f"{deep_page * 1000:.1f}",
        deep_rows=deep_rows,
        deep_over_first=f"{deep_page / first_page:.2f}",
        ledger_first_ms=f"{ledger_first * 1000:.1f}",
        ledger_deep_ms=f"{ledger_deep * 1000:.1f}",
        ledger_deep_over_first=f"{ledger_deep / ledger_first:.2f}",
    )


def _get(client: Client, url: str, params: dict):
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response


STOCK_ROW_SKU = re.compile(r'<tr data-sku="([^"]+)"')
LEDGER_ROW_SKU = re.compile(r">(SKU\d{7})</a></td>")


def _check_deep_pages(
    client, params, warehouse_id, deep_key, deep_cursor, deep_movement, selectors
):
    """The deep pages the timing reads hold exactly the rows the raw keyset query returns after
    that cursor (a broken cursor would show the first page, which would look fast)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT g.sku FROM inventory_stockbalance b
            JOIN inventory_goods g ON g.id = b.goods_id
            JOIN warehouses_bin bn ON bn.id = b.bin_id
            JOIN warehouses_zone z ON z.id = bn.zone_id
            WHERE b.warehouse_id = %s AND z.type = 'storage' AND b.on_hand > 0
              AND (g.sku, b.id) > (%s, %s)
            ORDER BY g.sku, b.id LIMIT %s
            """,
            [warehouse_id, deep_key[0], deep_key[1], selectors.STOCK_PAGE],
        )
        expected_stock = [sku for (sku,) in cursor.fetchall()]
        cursor.execute(
            """
            SELECT g.sku FROM inventory_stockmovement m
            JOIN inventory_goods g ON g.id = m.goods_id
            WHERE (m.created_at, m.id) < (%s, %s)
            ORDER BY m.created_at DESC, m.id DESC LIMIT %s
            """,
            [deep_movement[0], deep_movement[1], selectors.LEDGER_PAGE],
        )
        expected_ledger = [sku for (sku,) in cursor.fetchall()]
    html = _get(client, "/inventory/stock/", {**params, "cursor": deep_cursor}).content.decode()
    shown = STOCK_ROW_SKU.findall(html)
    check(
        len(expected_stock) == selectors.STOCK_PAGE and shown == expected_stock,
        f"the deep stock page shows {shown[:2]}...{shown[-1:]} ({len(shown)} rows), the keyset "
        f"query {expected_stock[:2]}...{expected_stock[-1:]} ({len(expected_stock)} rows)",
    )
    ledger_cursor = selectors.encode_cursor((deep_movement[0].isoformat(), deep_movement[1]))
    html = _get(client, "/inventory/ledger/", {"cursor": ledger_cursor}).content.decode()
    shown = LEDGER_ROW_SKU.findall(html)
    check(
        len(expected_ledger) == selectors.LEDGER_PAGE and shown == expected_ledger,
        f"the deep ledger page shows {shown[:2]}...{shown[-1:]} ({len(shown)} rows), the keyset "
        f"query {expected_ledger[:2]}...{expected_ledger[-1:]} ({len(expected_ledger)} rows)",
    )


BENCHMARKS = {"stock_query_page": stock_query_page}
