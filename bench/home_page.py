"""Home page of work: the page a warehouse manager opens first, with a million balances.

Data (``scale`` 1.0): 20,000 goods with one batch each (expiry spread over 1,000 days, ~3% within
30 days), 50 bins, one balance per (batch, bin) = 1,000,000 balances; every 40th batch frozen
whole; 400 active freezes (half older than the 30-day ageing limit) each holding one balance,
60 pending release requests, 5,000 posted sheets and 150 drafts of each direction (100 older
than a day), 10 checked imports of the manager; a shop with 200 listings and 2,000 push records
(30 listings still failing), 5,000 platform orders (50 short), 20 grab windows (5 open).
Work: ``GET /`` as the manager, ``PAGES`` times (the Django test client: URL routing, session,
auth, permissions, every work item's COUNT, template).
Baseline: the same counts written by hand over psycopg2 (ten COUNT queries), in the same run.
Check (``bench.common.check``): the page answers 200 and the app's counts equal the baseline's
and the counts the data was built with; a failed check makes ``python -m bench`` exit 1.
"""

import datetime

from django.db import connection
from django.test import Client
from django.utils import timezone

from bench.common import check, raw_connection, report, scaled, timed

PAGES = 30
BINS = 50
FREEZES = 400
REQUESTS = 60
DRAFTS = 150
OLD_DRAFTS = 100
POSTED = 5000
READY_IMPORTS = 10
AGEING_DAYS = 30
NEAR_DAYS = 30
LISTINGS = 200
PUSHES = 2000
FAILING = 30
ORDERS = 5000
SHORT = 50
WINDOWS = 20
OPEN_WINDOWS = 5

BASELINE = {
    "release_requests": """
        SELECT COUNT(*) FROM freezes_releaserequest r JOIN freezes_freeze f ON f.id = r.freeze_id
        WHERE r.status = 'pending' AND f.status = 'active'
          AND r.requested_by_id <> %(user)s AND f.created_by_id <> %(user)s""",
    "ageing_freezes": """
        SELECT COUNT(*) FROM freezes_freeze f
        WHERE f.status = 'active' AND f.created_at < now() - make_interval(days => %(ageing)s)
          AND EXISTS (SELECT 1 FROM freezes_freezeline l WHERE l.freeze_id = f.id
                      AND l.quantity > l.released + l.shipped)""",
    "near_expiry_unfrozen": """
        SELECT COUNT(*) FROM inventory_batch b
        WHERE b.expiry_date <= CURRENT_DATE + %(near)s
          AND EXISTS (SELECT 1 FROM inventory_stockbalance s WHERE s.batch_id = b.id
                      AND s.on_hand > s.frozen)""",
    "stale_inbound_drafts": """
        SELECT COUNT(*) FROM inventory_inboundsheet
        WHERE status = 'draft' AND (created_at AT TIME ZONE %(tz)s)::date < %(day)s""",
    "stale_outbound_drafts": """
        SELECT COUNT(*) FROM inventory_outboundsheet
        WHERE status = 'draft' AND (created_at AT TIME ZONE %(tz)s)::date < %(day)s""",
    "imports_not_committed": """
        SELECT COUNT(*) FROM inventory_importjob WHERE user_id = %(user)s AND status = 'ready'""",
    "imports_failed": """
        SELECT COUNT(*) FROM inventory_importjob WHERE user_id = %(user)s
          AND status IN ('failed', 'refused') AND created_at >= now() - interval '7 days'""",
    "failed_pushes": """
        SELECT COUNT(DISTINCT r.listing_id) FROM channels_sync_syncrecord r
        WHERE r.status = 'failure' AND r.created_at >= now() - interval '24 hours'
          AND NOT EXISTS (SELECT 1 FROM channels_sync_syncrecord s WHERE s.listing_id = r.listing_id
                          AND s.status = 'success' AND s.id > r.id)""",
    "short_orders": "SELECT COUNT(*) FROM channels_sync_order WHERE status = 'short'",
    "open_grab_windows": """
        SELECT COUNT(*) FROM allocation_grabwindow WHERE status = 'open' AND closes_at > now()""",
}


def _populate(goods_count: int):
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from freezes.models import Freeze, FreezeLine, Reason, ReleaseRequest
    from inventory.models import Batch, Goods, ImportJob, InboundSheet, OutboundSheet
    from warehouses.models import Bin, Warehouse, Zone
    from wms.roles import WAREHOUSE_MANAGER, WAREHOUSE_STAFF, sync_roles

    # Benchmarks before this one empty every table (groups too): put the roles back.
    sync_roles(apps)
    users = get_user_model().objects
    manager = users.create_user("bench-manager")
    manager.groups.add(Group.objects.get(name=WAREHOUSE_MANAGER))
    clerk = users.create_user("bench-clerk")
    clerk.groups.add(Group.objects.get(name=WAREHOUSE_STAFF))

    today = timezone.localdate()
    warehouse = Warehouse.objects.create(code="HOME", name="Home bench")
    zone = Zone.objects.create(warehouse=warehouse, code="S", name="Storage")
    Bin.objects.bulk_create(
        [Bin(warehouse=warehouse, zone=zone, code=f"S-{n:03d}") for n in range(BINS)]
    )
    for start in range(0, goods_count, 5000):
        goods = Goods.objects.bulk_create(
            Goods(sku=f"H{n:07d}", name=f"Home goods {n}")
            for n in range(start, min(goods_count, start + 5000))
        )
        Batch.objects.bulk_create(
            Batch(
                goods=g,
                batch_no="B1",
                expiry_date=today + datetime.timedelta(days=(g.pk * 37) % 1000),
            )
            for g in goods
        )
    with connection.cursor() as cursor:
        # Every 40th batch frozen whole: near expiry but already handled.
        cursor.execute(
            """
            INSERT INTO inventory_stockbalance
                (goods_id, warehouse_id, bin_id, batch_id, on_hand, frozen, reserved)
            SELECT bt.goods_id, bn.warehouse_id, bn.id, bt.id, 10,
                   CASE WHEN bt.id %% 40 = 0 THEN 10 ELSE 0 END, 0
            FROM inventory_batch bt CROSS JOIN warehouses_bin bn
            WHERE bn.warehouse_id = %s
            """,
            [warehouse.pk],
        )
        cursor.execute("SELECT count(*) FROM inventory_stockbalance")
        (balances,) = cursor.fetchone()
        cursor.execute(
            "SELECT id, goods_id FROM inventory_stockbalance WHERE frozen = 0 ORDER BY id LIMIT %s",
            [FREEZES],
        )
        held_balances = cursor.fetchall()

    now = timezone.now()
    freezes = Freeze.objects.bulk_create(
        Freeze(
            reason=Reason.QC_HOLD,
            created_by=clerk,
            created_at=now - datetime.timedelta(days=(AGEING_DAYS + 5) if n % 2 else 2),
        )
        for n in range(FREEZES)
    )
    FreezeLine.objects.bulk_create(
        FreezeLine(
            freeze=freeze, balance_id=balance_id, goods_id=goods_id, warehouse=warehouse, quantity=1
        )
        for freeze, (balance_id, goods_id) in zip(freezes, held_balances, strict=True)
    )
    ReleaseRequest.objects.bulk_create(
        ReleaseRequest(freeze=freeze, requested_by=clerk, reason="bench")
        for freeze in freezes[:REQUESTS]
    )
    old = now - datetime.timedelta(days=3)
    for model in (InboundSheet, OutboundSheet):
        model.objects.bulk_create(
            model(warehouse=warehouse, created_by=clerk, status="posted", created_at=old)
            for _n in range(POSTED)
        )
        model.objects.bulk_create(
            model(warehouse=warehouse, created_by=clerk, created_at=old if n < OLD_DRAFTS else now)
            for n in range(DRAFTS)
        )
    ImportJob.objects.bulk_create(
        ImportJob(resource="inbound", user=manager, original_name=f"sheet-{n}.xlsx", status="ready")
        for n in range(READY_IMPORTS)
    )
    _populate_channels_and_allocation(warehouse, now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(
            "SELECT COUNT(*) FROM inventory_batch WHERE expiry_date <= CURRENT_DATE + %s "
            "AND id %% 40 <> 0",
            [NEAR_DAYS],
        )
        (near_unfrozen,) = cursor.fetchone()
    expected = {
        "release_requests": REQUESTS,
        "ageing_freezes": FREEZES // 2,
        "near_expiry_unfrozen": near_unfrozen,
        "stale_inbound_drafts": OLD_DRAFTS,
        "stale_outbound_drafts": OLD_DRAFTS,
        "imports_not_committed": READY_IMPORTS,
        "imports_failed": 0,
        "failed_pushes": FAILING,
        "short_orders": SHORT,
        "open_grab_windows": OPEN_WINDOWS,
    }
    return manager, balances, expected


def _populate_channels_and_allocation(warehouse, now) -> None:
    """Push records (the last push of the first ``FAILING`` listings failed, the others
    succeeded after failing), platform orders and grab windows."""
    from allocation.models import GrabWindow, Policy
    from channels_sync.models import Listing, Order, Shop, SyncRecord
    from inventory.models import Goods

    shop = Shop.objects.create(
        platform="shopify",
        name="Home bench shop",
        domain="home-bench.myshopify.com",
        api_base_url="http://127.0.0.1:9",
        credentials={"access_token": "bench"},
    )
    goods = list(Goods.objects.order_by("pk")[:LISTINGS])
    listings = Listing.objects.bulk_create(
        Listing(
            shop=shop,
            product_ref=f"p{n}",
            variant_ref=f"v{n}",
            item_ref=f"i{n}",
            sku=g.sku,
            title=g.name,
            goods=g,
            matched_by="sku",
        )
        for n, g in enumerate(goods)
    )
    records = []
    for n in range(PUSHES):
        listing = listings[n % len(listings)]
        last_round = n >= PUSHES - len(listings)
        failing = listings.index(listing) < FAILING
        status = (
            "failure" if (not last_round and n % 3 == 0) or (last_round and failing) else "success"
        )
        records.append(
            SyncRecord(
                shop=shop,
                listing=listing,
                goods_id=listing.goods_id,
                quantity=1,
                inputs={},
                trigger="auto",
                status=status,
            )
        )
    SyncRecord.objects.bulk_create(records)
    Order.objects.bulk_create(
        Order(
            shop=shop,
            platform_order_id=f"#{n}",
            status="short" if n < SHORT else "shipped",
            platform_updated_at=now,
        )
        for n in range(ORDERS)
    )
    policy = Policy.objects.create(name="Home bench", cycle=Policy.Cycle.ON_DEMAND)
    GrabWindow.objects.bulk_create(
        GrabWindow(
            name=f"Window {n}",
            warehouse=warehouse,
            policy=policy,
            mode=GrabWindow.Mode.FIRST_COME,
            status="open" if n < OPEN_WINDOWS else "closed",
            opens_at=now - datetime.timedelta(days=n, hours=1),
            closes_at=now + datetime.timedelta(hours=2)
            if n < OPEN_WINDOWS
            else now - datetime.timedelta(days=n),
            scope=GrabWindow.Scope.ALL,
            seed=n,
        )
        for n in range(WINDOWS)
    )


def _baseline(cursor, params: dict) -> dict:
    counts = {}
    for key, sql in BASELINE.items():
        cursor.execute(sql, params)
        counts[key] = cursor.fetchone()[0]
    return counts


def home_page(scale: float) -> None:
    from wms import work

    goods_count = scaled(20_000, scale, minimum=400)
    manager, balances, expected = _populate(goods_count)
    from django.conf import settings

    if "localhost" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    client = Client(HTTP_HOST="localhost")
    client.force_login(manager)

    def page() -> int:
        response = client.get("/")
        check(response.status_code == 200, f"home page answered {response.status_code}")
        return len(response.content)

    page()  # warm-up: connection, plans, template loading
    # Counted by a wrapper: the request's own reset_queries() empties the debug query log.
    captured: list[str] = []

    def count(execute, sql, params, many, context):
        captured.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        page()
    app_seconds, _ = timed(lambda: [page() for _n in range(PAGES)])
    app_counts = {item.key: item.count for item in work.work_for(manager)}

    params = {
        "user": manager.pk,
        "ageing": AGEING_DAYS,
        "near": NEAR_DAYS,
        "tz": timezone.get_current_timezone_name(),
        "day": timezone.localdate() - datetime.timedelta(days=1),
    }
    with raw_connection() as raw, raw.cursor() as cursor:
        baseline_counts = _baseline(cursor, params)
        baseline_seconds, _ = timed(lambda: [_baseline(cursor, params) for _n in range(PAGES)])
        raw.rollback()

    check(0 < len(captured) <= 20, f"{len(captured)} queries per page")
    for key, value in expected.items():
        check(
            app_counts.get(key) == value == baseline_counts[key],
            f"{key}: app={app_counts.get(key)} baseline={baseline_counts[key]} built={value}",
        )
    report(
        "home_page",
        app_seconds,
        baseline_seconds,
        balances=balances,
        pages=PAGES,
        page_ms=round(app_seconds / PAGES * 1000, 1),
        counts_ms=round(baseline_seconds / PAGES * 1000, 1),
        queries_per_page=len(captured),
        near_expiry_unfrozen=app_counts["near_expiry_unfrozen"],
        bar="page_ms<=100",
    )


BENCHMARKS = {"home_page": home_page}
