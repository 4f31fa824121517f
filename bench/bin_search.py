"""Bin search by goods: the first page of the bin lookup for a goods name, through the app and
through raw SQL.

Data: ``scale * 100,000`` bins over 4 warehouses (as ``bin_lookup``), ``scale * 5,000`` goods,
of which one in 25 is a tea ("Green tea N"), and one balance with stock in every fifth bin
(received through the ledger in a few large postings). Work: the page the bin lookup screen
shows for the search box "tea" in warehouse 2, picking zones, active bins: bins whose code
starts with "tea" or that hold a goods whose SKU starts with it, whose barcode is it or whose
name contains it; 50 rows and the total count, repeated ``PAGES`` times.
App: ``warehouses.selectors.bin_lookup(search=...)`` (the inventory search provider, then the
bins) + ``wms.pagination.keyset_page``. Baseline: the same three steps written by hand over
psycopg2 (goods -> bins holding them -> count and page), in the same run on the same database.
The two must return the same count and bin ids in the same order.
"""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.bin_lookup import _populate
from bench.common import check, raw_connection, report, scaled, timed
from inventory import ledger
from inventory.models import Goods, StockMovement
from warehouses import selectors
from warehouses.models import Bin, Zone
from wms.pagination import keyset_page

PAGES = 100
PER_PAGE = 50
SEARCH = "tea"
CHUNK = 5_000

BASELINE_BINS = """
    SELECT DISTINCT s.bin_id FROM inventory_stockbalance s
    WHERE s.on_hand > 0 AND s.warehouse_id = %(warehouse)s AND s.goods_id IN (
        SELECT g.id FROM inventory_goods g
        WHERE UPPER(g.sku::text) LIKE UPPER(%(prefix)s) OR g.barcode = %(text)s
           OR UPPER(g.name::text) LIKE UPPER(%(inside)s))
"""
BASELINE_WHERE = """
    FROM warehouses_bin b
    JOIN warehouses_warehouse w ON w.id = b.warehouse_id
    JOIN warehouses_zone z ON z.id = b.zone_id
    WHERE (UPPER(b.code::text) LIKE UPPER(%(prefix)s) OR b.id = ANY(%(ids)s::bigint[]))
      AND b.warehouse_id = %(warehouse)s
      AND z.type = %(zone_type)s
      AND b.is_active
"""
BASELINE_COUNT = "SELECT COUNT(*) " + BASELINE_WHERE
BASELINE_PAGE = (
    "SELECT b.id, b.code, w.code, z.code, z.type "
    + BASELINE_WHERE
    + " ORDER BY w.code, b.code, b.id LIMIT %(limit)s"
)


def _stock(total_goods: int) -> int:
    """Goods, and one balance with stock in every fifth bin (all warehouses)."""
    Goods.objects.bulk_create(
        Goods(
            sku=f"BS-{n:06d}",
            name=f"Green tea {n}" if n % 25 == 0 else f"Coffee beans {n}",
            barcode=f"69{n:011d}",
        )
        for n in range(total_goods)
    )
    goods_ids = list(Goods.objects.order_by("pk").values_list("pk", flat=True))
    bins = list(Bin.objects.order_by("pk").values_list("pk", "warehouse_id"))[::5]
    lines: dict[int, list[ledger.Receipt]] = {}
    for index, (bin_id, warehouse_id) in enumerate(bins):
        receipt = ledger.Receipt(goods_ids[index % len(goods_ids)], bin_id, 1 + index % 7)
        lines.setdefault(warehouse_id, []).append(receipt)
    for warehouse_id, receipts in lines.items():
        for start in range(0, len(receipts), CHUNK):
            ledger.receive(
                kind=StockMovement.Kind.INBOUND_PURCHASE,
                lines=receipts[start : start + CHUNK],
                document=ledger.Document(type="other", ref="BENCH"),
                warehouse_id=warehouse_id,
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_goods, inventory_stockbalance, warehouses_bin")
    return len(bins)


def _app_page(warehouse) -> tuple[int, list[tuple]]:
    page = keyset_page(
        selectors.bin_lookup(
            user=None,
            search=SEARCH,
            warehouse=warehouse,
            zone_type=Zone.Type.PICKING,
            is_active=True,
        ),
        per_page=PER_PAGE,
        with_count=True,
    )
    rows = [(b.pk, b.code, b.warehouse.code, b.zone.code, b.zone.type) for b in page.rows]
    return page.count, rows


def _baseline_page(cursor, params: dict) -> tuple[int, list[tuple]]:
    cursor.execute(BASELINE_BINS, params)
    ids = sorted(row[0] for row in cursor.fetchall())
    params = {**params, "ids": ids}
    cursor.execute(BASELINE_COUNT, params)
    (count,) = cursor.fetchone()
    cursor.execute(BASELINE_PAGE, params)
    return count, [tuple(row) for row in cursor.fetchall()]


def bin_search(scale: float) -> None:
    total_bins = scaled(100_000, scale, minimum=1_000)
    warehouse = _populate(total_bins)
    stocked = _stock(scaled(5_000, scale, minimum=100))

    app_result = _app_page(warehouse)  # warm-up: connection, plans, caches
    with CaptureQueriesContext(connection) as captured:
        _app_page(warehouse)
    app_seconds, _ = timed(lambda: [_app_page(warehouse) for _ in range(PAGES)])

    params = {
        "prefix": f"{SEARCH}%",
        "inside": f"%{SEARCH}%",
        "text": SEARCH,
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
        "bin_search",
        app_seconds,
        baseline_seconds,
        bins=total_bins,
        stocked_bins=stocked,
        matches=app_result[0],
        pages=PAGES,
        rows_per_page=len(app_result[1]),
        queries_per_page=len(captured),
        ms_per_page=round(app_seconds / PAGES * 1000, 3),
    )


BENCHMARKS = {"bin_search": bin_search}
