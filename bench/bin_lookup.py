"""Bin lookup: the first page of a filtered bin search, through the app and through raw SQL.

Data: ``scale * 100,000`` bins over 4 warehouses, each with picking and storage zones (bulk
inserted). Work: the page the bin lookup screen shows for "code starts with b-0, in warehouse
2, picking zones, active", 50 rows and the total count, repeated ``PAGES`` times.
App: ``warehouses.selectors.bin_lookup`` + ``wms.pagination.keyset_page`` (model instances with warehouse and zone).
Baseline: the same COUNT and SELECT ... LIMIT 50 written by hand, over psycopg2, in the same run
on the same database. The two must return the same bin ids in the same order.
"""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.common import check, raw_connection, report, scaled, timed
from warehouses import selectors
from warehouses.models import Bin, Warehouse, Zone
from wms.pagination import keyset_page

WAREHOUSES = 4
AISLES = "ABCDEFGHJK"  # A-D picking faces, E-K storage racks
PICKING_AISLES = set("ABCD")
PAGES = 100
PER_PAGE = 50
SEARCH = "b-0"

BASELINE_WHERE = """
    FROM warehouses_bin b
    JOIN warehouses_warehouse w ON w.id = b.warehouse_id
    JOIN warehouses_zone z ON z.id = b.zone_id
    WHERE UPPER(b.code::text) LIKE UPPER(%(prefix)s)
      AND b.warehouse_id = %(warehouse)s
      AND z.type = %(zone_type)s
      AND b.is_active
"""
BASELINE_COUNT = "SELECT COUNT(*) " + BASELINE_WHERE
BASELINE_PAGE = (
    "SELECT b.id, b.code, b.is_active, w.id, w.code, w.name, z.id, z.code, z.name, z.type "
    + BASELINE_WHERE
    + " ORDER BY w.code, b.code, b.id LIMIT %(limit)s"
)


def _populate(total_bins: int) -> Warehouse:
    warehouses = Warehouse.objects.bulk_create(
        Warehouse(code=f"BW-{n:02d}", name=f"Bench warehouse {n}", priority=n)
        for n in range(1, WAREHOUSES + 1)
    )
    zones = {}
    for warehouse in warehouses:
        for aisle in AISLES:
            zone_type = Zone.Type.PICKING if aisle in PICKING_AISLES else Zone.Type.STORAGE
            zones[warehouse.pk, aisle] = Zone(
                warehouse=warehouse, code=f"Z{aisle}", name=f"Aisle {aisle}", type=zone_type
            )
    Zone.objects.bulk_create(zones.values())

    per_warehouse = total_bins // WAREHOUSES
    batch: list[Bin] = []
    for warehouse in warehouses:
        for index in range(per_warehouse):
            aisle = AISLES[index % len(AISLES)]
            rest = index // len(AISLES)
            batch.append(
                Bin(
                    warehouse=warehouse,
                    zone=zones[warehouse.pk, aisle],
                    code=f"{aisle}-{rest // 100:03d}-{rest % 100:02d}",
                    is_active=index % 50 != 7,  # a few bins out of use
                )
            )
            if len(batch) >= 5000:
                Bin.objects.bulk_create(batch)
                batch = []
    Bin.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE warehouses_warehouse, warehouses_zone, warehouses_bin")
    return warehouses[1]


def _app_page(warehouse: Warehouse) -> tuple[int, list[tuple]]:
    page = keyset_page(
        selectors.bin_lookup(
            user=None, code=SEARCH, warehouse=warehouse, zone_type=Zone.Type.PICKING, is_active=True
        ),
        per_page=PER_PAGE,
        with_count=True,
    )
    rows = [(b.pk, b.code, b.warehouse.code, b.zone.code, b.zone.type) for b in page.rows]
    return page.count, rows


def _baseline_page(cursor, params: dict) -> tuple[int, list[tuple]]:
    cursor.execute(BASELINE_COUNT, params)
    (count,) = cursor.fetchone()
    cursor.execute(BASELINE_PAGE, params)
    rows = [(r[0], r[1], r[4], r[7], r[9]) for r in cursor.fetchall()]
    return count, rows


def bin_lookup(scale: float) -> None:
    total_bins = scaled(100_000, scale, minimum=1_000)
    warehouse = _populate(total_bins)

    app_result = _app_page(warehouse)  # warm-up: connection, plans, caches
    with CaptureQueriesContext(connection) as captured:
        _app_page(warehouse)
    app_seconds, _ = timed(lambda: [_app_page(warehouse) for _ in range(PAGES)])

    params = {
        "prefix": f"{SEARCH}%",
        "warehouse": warehouse.pk,
        "zone_type": Zone.Type.PICKING.value,
        "limit": PER_PAGE,
    }
    with raw_connection() as raw, raw.cursor() as cursor:
        baseline_result = _baseline_page(cursor, params)
        baseline_seconds, _ = timed(lambda: [_baseline_page(cursor, params) for _ in range(PAGES)])
        raw.rollback()

    check(app_result == baseline_result, "the app and the baseline returned different pages")
    check(
        app_result[0] > 0 and len(app_result[1]) == min(PER_PAGE, app_result[0]),
        f"the page holds {len(app_result[1])} of {app_result[0]} matching bins",
    )
    report(
        "bin_lookup",
        app_seconds,
        baseline_seconds,
        bins=total_bins,
        matches=app_result[0],
        pages=PAGES,
        rows_per_page=len(app_result[1]),
        queries_per_page=len(captured),
        ms_per_page=round(app_seconds / PAGES * 1000, 3),
    )


BENCHMARKS = {"bin_lookup": bin_lookup}
