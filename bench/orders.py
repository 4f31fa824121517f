"""Order benchmarks (issue 12).

``order_pull_10k``: pull 10,000 orders from the local Shopify fake (cursor pages of 25, the
most a 1,000-point query allows with ten line items each, shopify.dev rate limits) with the
upsert, routing and reservation, set-based per page (one upsert statement with the lines, one
ledger posting reserving for the page's orders, one statement for allocations, orders and
history), against a raw baseline that fetches the same pages with the same client library and
bulk-inserts the same order and line rows with psycopg in the same run. Checks: every order
stored once, reserved, the reserved units equal the ordered units; exits non-zero otherwise.
Memory: peak RSS after the first 10 and 100 pages (flat when it does not grow with the
pages). ``BENCH_SHOW_QUERIES=1`` prints the statements of the pull by kind (count, seconds).

``order_route_10k``: route 10,000 stored orders (1-4 lines) across 5 bound warehouses in
batches of 25 (a pull's page; one transaction and one ledger posting each): orders/s, the
queries per order for a batch of 1-line orders and for a batch of 4-line orders (must be
equal), against a plain psycopg loop doing one conditional ``UPDATE ... reserved + n WHERE
available >= n`` per line and a commit per order. Checks every order reserved and the reserved
units; exits non-zero otherwise.
"""

from __future__ import annotations

import os
import random
import time
from collections import defaultdict
from decimal import Decimal
from functools import partial

from bench.common import peak_rss_mib, raw_connection, report, scaled

SKUS = 40
ROUTE_BATCH = 25


def _count_statements(statements, execute, sql, params, many, context):
    """``connection.execute_wrapper``: count and time the statements by their first words."""
    start = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        entry = statements[" ".join(sql.split()[:4])[:60]]
        entry[0] += 1
        entry[1] += time.perf_counter() - start


def _world(warehouses: int, stock_each: int):
    from channels_sync.models import Binding, Listing, Shop
    from inventory import ledger
    from inventory.models import Goods
    from warehouses.models import Bin, Warehouse, Zone

    points = [
        ("-33.87", "151.21"),
        ("-37.81", "144.96"),
        ("-27.47", "153.03"),
        ("-31.95", "115.86"),
        ("-34.93", "138.60"),
    ]
    shop = Shop.objects.create(
        platform="shopify",
        name="Bench shop",
        domain="bench.myshopify.com",
        api_base_url="http://127.0.0.1:9",
        credentials={"access_token": "shpat_test"},
        is_order_pull_enabled=True,
    )
    bins = []
    for n in range(warehouses):
        lat, lon = points[n % len(points)]
        wh = Warehouse.objects.create(
            code=f"BW{n}", name=f"Bench {n}", latitude=Decimal(lat), longitude=Decimal(lon)
        )
        zone = Zone.objects.create(warehouse=wh, code="Z", name="Z")
        bins.append(Bin.objects.create(warehouse=wh, zone=zone, code="B1"))
        Binding.objects.create(shop=shop, warehouse=wh, priority=n + 1)
    goods = Goods.objects.bulk_create(
        [Goods(sku=f"BO-{i:03d}", name=f"Bench {i}", weight=Decimal("0.4")) for i in range(SKUS)]
    )
    for b in bins:
        ledger.receive(
            kind="in_purchase",
            lines=[ledger.Receipt(g.pk, b.pk, stock_each) for g in goods],
            document=ledger.Document(type="other", ref="bench"),
        )
    return shop, goods, bins, Listing


def order_pull_10k(scale: float) -> None:
    import logging

    import httpx
    from django.conf import settings
    from django.db import connection

    from channels_sync import hooks as channel_hooks
    from channels_sync.adapters.orders import order_source_for
    from channels_sync.adapters.shopify import ENDPOINT
    from channels_sync.adapters.shopify_orders import ORDERS_QUERY, PAGE_SIZE, parse_order
    from channels_sync.fakes import FakeServer
    from channels_sync.fakes.shopify_orders import DEMO_ADDRESSES, FakeShopifyOrders
    from channels_sync.models import Order, OrderLine
    from channels_sync.services.orders import orders_pull
    from inventory import hooks
    from inventory.models import StockBalance

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    settings.DEBUG = False
    hooks.unregister_after_commit(channel_hooks.push_soon_after_posting)
    count = scaled(10_000, scale, minimum=300)
    random.seed(12)
    failures: list[str] = []
    fake = FakeShopifyOrders(bucket_max=1e9, restore_rate=1e9)
    with FakeServer(fake) as server:
        shop, goods, _bins, listing_model = _world(2, count * 3)
        shop.api_base_url = server.url
        shop.save(update_fields=["api_base_url"])
        for g in goods:
            variant = fake.add_variant(g.sku)
            listing_model.objects.create(
                shop=shop,
                product_ref=variant.product_id,
                variant_ref=variant.id,
                item_ref=variant.item_id,
                sku=g.sku,
                goods=g,
                matched_by="sku",
            )
        ordered_units = 0
        for _ in range(count):
            lines = [
                (f"BO-{random.randrange(SKUS):03d}", random.randint(1, 3))
                for _ in range(random.randint(1, 2))
            ]
            lines = list(dict(lines).items())
            ordered_units += sum(q for _s, q in lines)
            fake.add_order(lines, address=random.choice(DEMO_ADDRESSES[:3]))

        # -- app: the pull, page by page, measuring memory after 10 and 100 pages -----------
        source = order_source_for(shop)
        marks: dict[int, float] = {}
        real_pages = source.iter_order_pages

        def counted(since):
            for n, page in enumerate(real_pages(since), start=1):
                yield page
                if n in (10, 100):
                    marks[n] = peak_rss_mib()

        source.iter_order_pages = counted
        statements: dict[str, list] = defaultdict(lambda: [0, 0.0])
        start = time.perf_counter()
        with connection.execute_wrapper(partial(_count_statements, statements)):
            pull = orders_pull(shop.pk, trigger="manual", source=source)
        app_time = time.perf_counter() - start
        source.close()
        if os.environ.get("BENCH_SHOW_QUERIES"):
            for kind, (n, seconds) in sorted(statements.items(), key=lambda kv: -kv[1][1]):
                print(f"  {n:6d} {seconds:8.3f}s  {kind}")

        # -- baseline: the same pages with httpx, the same rows bulk-inserted with psycopg ---
        from psycopg2.extras import execute_values

        start = time.perf_counter()
        with (
            httpx.Client(
                base_url=server.url, headers={"X-Shopify-Access-Token": "shpat_test"}, timeout=10.0
            ) as client,
            raw_connection() as conn,
        ):
            cursor = conn.cursor()
            cursor.execute(
                "INSERT INTO channels_sync_shop (platform, name, domain, api_base_url, "
                "location_ref, credentials, is_stock_push_enabled, is_order_pull_enabled, "
                "share_percent, safety_stock, requires_review, is_active, created_at) VALUES "
                "('shopify', 'Baseline', 'b', '', '', '', false, false, 100, 0, false, true, "
                "now()) RETURNING id"
            )
            base_shop = cursor.fetchone()[0]
            after = None
            base_orders = 0
            while True:
                body = client.post(
                    ENDPOINT,
                    json={
                        "query": ORDERS_QUERY,
                        "variables": {"first": PAGE_SIZE, "after": after, "query": None},
                    },
                ).json()["data"]["orders"]
                parsed = [parse_order(node) for node in body["nodes"]]
                ids = execute_values(
                    cursor,
                    "INSERT INTO channels_sync_order (shop_id, platform_order_id, name, status, "
                    "platform_updated_at, placed_at, customer_name, customer_email, ship_name, "
                    "address1, address2, city, state, postcode, country, total, currency, weight, "
                    "is_split, route_version, filled_complete, was_short, cancelled_on_platform, "
                    "message, fingerprint, created_at) VALUES %s RETURNING id",
                    [
                        (
                            base_shop,
                            o.order_ref,
                            o.name,
                            "pending",
                            o.updated_at,
                            o.placed_at,
                            o.customer_name,
                            o.customer_email,
                            o.ship_name,
                            o.address1,
                            o.address2,
                            o.city,
                            o.state,
                            o.postcode,
                            o.country,
                            o.total,
                            o.currency,
                            0,
                            False,
                            0,
                            False,
                            False,
                            False,
                            "",
                            "",
                            time.strftime("%Y-%m-%d %H:%M:%S+00"),
                        )
                        for o in parsed
                    ],
                    fetch=True,
                )
                execute_values(
                    cursor,
                    "INSERT INTO channels_sync_orderline (order_id, line_ref, sku, title, "
                    "quantity, price) VALUES %s",
                    [
                        (oid, li.line_ref, li.sku, li.title, li.quantity, li.price)
                        for (oid,), o in zip(ids, parsed, strict=True)
                        for li in o.lines
                    ],
                )
                conn.commit()
                base_orders += len(parsed)
                if not body["pageInfo"]["hasNextPage"]:
                    break
                after = body["pageInfo"]["endCursor"]
        base_time = time.perf_counter() - start

        # -- checks ------------------------------------------------------------------------
        mine = Order.objects.filter(shop=shop)
        if pull is None or pull.status != "done" or pull.new != count:
            failures.append(
                f"pull: {pull and (pull.status, pull.new, pull.failed, pull.message[:200])}"
            )
        if mine.count() != count or mine.exclude(status="reserved").exists():
            failures.append(
                f"orders: {mine.count()} stored, "
                f"{mine.exclude(status='reserved').count()} not reserved"
            )
        held = sum(StockBalance.objects.values_list("reserved", flat=True))
        if held != ordered_units:
            failures.append(f"reserved {held} units, ordered {ordered_units}")
        if base_orders != count or OrderLine.objects.filter(order__shop=shop).count() == 0:
            failures.append(f"baseline stored {base_orders}")
    report(
        "order_pull_10k",
        app_time,
        base_time,
        orders=count,
        pages=pull.pages if pull else 0,
        page_size=PAGE_SIZE,
        statements_per_page=f"{sum(n for n, _s in statements.values()) / max(pull.pages, 1):.1f}"
        if pull
        else 0,
        orders_per_s=f"{count / app_time:.0f}",
        rss_mib_10_pages=f"{marks.get(10, 0):.0f}",
        rss_mib_100_pages=f"{marks.get(100, 0):.0f}",
        rss_mib_end=f"{peak_rss_mib():.0f}",
        check="ok" if not failures else "FAILED",
    )
    if failures:
        print("\n".join(failures))
        raise SystemExit(1)


def order_route_10k(scale: float) -> None:
    from django.conf import settings
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from channels_sync import hooks as channel_hooks
    from channels_sync.models import Order, OrderLine
    from channels_sync.services.routing import orders_route, routing_context
    from inventory import hooks
    from inventory.models import StockBalance

    settings.DEBUG = False
    hooks.unregister_after_commit(channel_hooks.push_soon_after_posting)
    count = scaled(10_000, scale, minimum=300)
    random.seed(21)
    failures: list[str] = []
    shop, goods, bins, _listing = _world(5, count)
    postcodes = ["2000", "3000", "4000", "6000", "5000", "2600", "7000"]
    now = timezone.now()
    orders = Order.objects.bulk_create(
        [
            Order(
                shop=shop,
                platform_order_id=f"o{i}",
                name=f"#{i}",
                platform_updated_at=now,
                country="AU",
                postcode=random.choice(postcodes),
            )
            for i in range(count)
        ]
    )
    lines = []
    units = 0
    for i, o in enumerate(orders):
        # the first batch has 1 line per order, the second 4, the others 1 to 4
        n = 1 if i < ROUTE_BATCH else 4 if i < 2 * ROUTE_BATCH else random.randint(1, 4)
        for j, g in enumerate(random.sample(goods, n)):
            q = random.randint(1, 2)
            units += q
            lines.append(OrderLine(order=o, line_ref=str(j), goods=g, sku=g.sku, quantity=q))
    OrderLine.objects.bulk_create(lines)
    by_order: dict[int, list] = {}
    for li in lines:
        by_order.setdefault(li.order_id, []).append(li)
    context = routing_context(shop)
    queries = []
    start = time.perf_counter()
    for n, first in enumerate(range(0, len(orders), ROUTE_BATCH)):
        batch = orders[first : first + ROUTE_BATCH]
        batch_lines = {o.pk: by_order[o.pk] for o in batch}
        if n < 2:  # measured: each with a fresh context (its combos read once, as a pull does)
            with CaptureQueriesContext(connection) as captured, transaction.atomic():
                orders_route(orders=batch, lines=batch_lines, context=routing_context(shop))
            # the API's webhook-subscription snapshot refreshes on its own clock inside the
            # ledger's hook: not routing's work, not counted
            queries.append(sum(1 for q in captured.captured_queries if '"api_' not in q["sql"]))
            if os.environ.get("BENCH_SHOW_QUERIES"):
                for q in captured.captured_queries:
                    print(q["time"], q["sql"][:150])
            continue
        with transaction.atomic():
            orders_route(orders=batch, lines=batch_lines, context=context)
    app_time = time.perf_counter() - start

    # -- baseline: a plain loop, one conditional UPDATE per line and a commit per order, on a
    # scratch copy of the balances (nothing but the ledger writes the real ones) -------------
    balance = {
        (wh, g): pk
        for pk, wh, g in StockBalance.objects.filter(bin__in=bins).values_list(
            "pk", "warehouse_id", "goods_id"
        )
    }
    warehouses = [b.warehouse_id for b in bins]
    with raw_connection() as conn:
        cursor = conn.cursor()
        cursor.execute(
            "CREATE TABLE bench_balance AS SELECT id, on_hand, frozen, 0 AS reserved "
            "FROM inventory_stockbalance; ALTER TABLE bench_balance ADD PRIMARY KEY (id)"
        )
        conn.commit()
        start = time.perf_counter()
        for o in orders:
            wh = warehouses[o.pk % len(warehouses)]
            for li in by_order[o.pk]:
                cursor.execute(
                    "UPDATE bench_balance SET reserved = reserved + %s WHERE id = %s "
                    "AND on_hand - frozen - reserved >= %s",
                    [li.quantity, balance[(wh, li.goods_id)], li.quantity],
                )
            conn.commit()
        base_time = time.perf_counter() - start
        cursor.execute("DROP TABLE bench_balance")
        conn.commit()

    mine = Order.objects.filter(shop=shop)
    if mine.exclude(status="reserved").exists():
        failures.append(f"{mine.exclude(status='reserved').count()} orders not reserved")
    held = sum(StockBalance.objects.values_list("reserved", flat=True))
    if held != units:
        failures.append(f"reserved {held} units, ordered {units}")
    if len(set(queries)) != 1:
        failures.append(
            f"queries per batch differ: 1-line orders {queries[0]}, 4-line orders {queries[1]}"
        )
    report(
        "order_route_10k",
        app_time,
        base_time,
        orders=count,
        warehouses=len(bins),
        orders_per_s=f"{count / app_time:.0f}",
        batch=ROUTE_BATCH,
        queries_per_batch_1_line=queries[0],
        queries_per_batch_4_lines=queries[1],
        queries_per_order=f"{queries[1] / ROUTE_BATCH:.2f}",
        check="ok" if not failures else "FAILED",
    )
    if failures:
        print("\n".join(failures))
        raise SystemExit(1)


BENCHMARKS = {"order_pull_10k": order_pull_10k, "order_route_10k": order_route_10k}
