"""Freeze benchmarks: the app's freeze services versus raw SQL doing the same writes.

Data (scale 1.0): one warehouse with 10 bins, 50 categories, 100,000 goods with one batch each,
and one balance per goods, bin and batch: 1,000,000 balances, each with its receipt movement
(so the movement table and its indexes have a realistic size). Batch expiry dates repeat every
300 days in blocks of 50 consecutive goods, so the even and the odd categories hold exactly the
same shape of stock. Two more categories of 1,000 goods x 10 bins (10,000 balances each) serve
the category freeze. Built with bulk_create (goods, batches) and set-based INSERT ... SELECT
(balances, movements).

``freeze_near_expiry_scan``: the near-expiry rule (within 30 days, the 25 even categories: about
5% of the balances, ~52,000) through ``freezes.services.rules.near_expiry_scan`` — one set-based
selection, set-based ledger freeze postings (``ledger.freeze_all_available``: an ordered
``FOR UPDATE`` of the chunk's rows, then one statement updating them and inserting their
movements) per chunk of 5,000 balances, the lines with one INSERT ... SELECT, one event — versus
raw SQL making the same writes for the odd categories in one transaction
(the freeze row; balances updated and one freeze movement each, in one statement; the lines;
the event). Bar: ratio <= 3.0.

``freeze_category_10k``: one manual freeze of a whole category of 10,000 balances through
``freezes.services.freezing.freeze_create`` versus raw SQL making the same writes for the twin
category. The ratio and the time are reported (the request must stay well inside a web
timeout).

DEBUG is off, as in production. Each side runs once on its own half of the data, after a warm-up
scan of the tables they read.
"""

from __future__ import annotations

import datetime
import time

from django.db import connection, transaction

from bench.common import check, raw_connection, report, scaled

BINS = 10
CATEGORIES = 50
DAYS = 30
CYCLE = 300

BASELINE_FREEZE = """
INSERT INTO freezes_freeze
    (reason, note, status, warehouse_id, goods_id, batch_id, bin_id, category_id, brand_id,
     inbound_from, inbound_to, produced_from, produced_to, requested_quantity, is_sticky,
     sticky_ended_at, release_on_qc_pass, release_at, rule_id, source_ref, created_by_id,
     created_at, closed_at, idempotency_key)
VALUES (%s, %s, 'active', NULL, NULL, NULL, NULL, %s, NULL, NULL, NULL, NULL, NULL, NULL, false,
        NULL, false, NULL, %s, %s, %s, now(), NULL, NULL)
RETURNING id
"""

# Balances selected, locked in key order, updated and given one freeze movement each.
BASELINE_POSTING = """
WITH sel AS (
    SELECT b.id, b.on_hand - b.frozen - b.reserved AS qty
    FROM inventory_stockbalance b
    {joins}
    WHERE {where}
    ORDER BY b.id
    FOR UPDATE OF b
), upd AS (
    UPDATE inventory_stockbalance b SET frozen = b.frozen + sel.qty
    FROM sel WHERE b.id = sel.id
    RETURNING b.id, b.goods_id, b.warehouse_id, b.bin_id, b.batch_id, sel.qty
)
INSERT INTO inventory_stockmovement
    (kind, balance_id, goods_id, warehouse_id, bin_id, batch_id, from_bin_id, to_bin_id,
     quantity, on_hand_delta, frozen_delta, reserved_delta, document_type, document_id,
     document_ref, operator_id, reason, idempotency_key, created_at)
SELECT 'freeze', id, goods_id, warehouse_id, bin_id, batch_id, NULL, NULL, qty, 0, qty, 0,
       'freeze', %(freeze)s, %(ref)s, %(operator)s, %(reason)s, NULL, now()
FROM upd
"""

BASELINE_LINES = """
INSERT INTO freezes_freezeline
    (freeze_id, balance_id, goods_id, warehouse_id, quantity, released, shipped, created_at)
SELECT %(freeze)s, m.balance_id, m.goods_id, m.warehouse_id, m.quantity, 0, 0, now()
FROM inventory_stockmovement m
WHERE m.document_type = 'freeze' AND m.document_id = %(freeze)s AND m.kind = 'freeze'
"""

BASELINE_EVENT = """
INSERT INTO freezes_freezeevent
    (freeze_id, kind, actor_id, rule_id, quantity, reason, comment, document_ref, request_id,
     inspection_id, created_at)
SELECT %(freeze)s, 'created', %(operator)s, %(rule)s, COALESCE(SUM(quantity), 0), %(reason)s,
       '', '', NULL, NULL, now()
FROM freezes_freezeline WHERE freeze_id = %(freeze)s
"""


def _expiry_offset(i: int) -> int:
    """Days to expiry of goods ``i``: the same for the 50 goods of a block (one per category),
    spread over ``CYCLE`` days across blocks, so ~10% of blocks fall within ``DAYS``."""
    return (i // CATEGORIES * 97) % CYCLE


def _build(goods_count: int, category_goods: int, tag: str) -> dict:
    """The benchmark data; returns the categories and the user."""
    from django.contrib.auth import get_user_model

    from inventory.models import Batch, Category, Goods
    from warehouses.models import Bin, Warehouse, Zone

    today = datetime.date.today()
    warehouse = Warehouse.objects.create(code=f"FRZ-{tag}", name=f"Freeze bench {tag}")
    zone = Zone.objects.create(warehouse=warehouse, code="S", name="Storage")
    Bin.objects.bulk_create(
        [Bin(warehouse=warehouse, zone=zone, code=f"S-{b:02d}") for b in range(BINS)]
    )
    categories = Category.objects.bulk_create(
        [Category(name=f"{tag} cat {i:02d}") for i in range(CATEGORIES)]
    )
    twins = Category.objects.bulk_create(
        [Category(name=f"{tag} twin A"), Category(name=f"{tag} twin B")]
    )
    specs = [(i, categories[i % CATEGORIES]) for i in range(goods_count)]
    specs += [(goods_count + i, twins[i % 2]) for i in range(2 * category_goods)]
    for start in range(0, len(specs), 5000):
        chunk = specs[start : start + 5000]
        goods = Goods.objects.bulk_create(
            [Goods(sku=f"{tag}{i:07d}", name=f"Bench goods {i}", category=c) for i, c in chunk]
        )
        Batch.objects.bulk_create(
            [
                Batch(
                    goods=g,
                    batch_no="B1",
                    expiry_date=today + datetime.timedelta(days=_expiry_offset(i)),
                )
                for (i, _c), g in zip(chunk, goods, strict=True)
            ]
        )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO inventory_stockbalance
                (goods_id, warehouse_id, bin_id, batch_id, on_hand, frozen, reserved)
            SELECT bt.goods_id, bn.warehouse_id, bn.id, bt.id,
                   10 + (bt.expiry_date - CURRENT_DATE + bn.id) %% 7, 0,
                   CASE WHEN (bt.expiry_date - CURRENT_DATE + bn.id) %% 10 = 0 THEN 2 ELSE 0 END
            FROM inventory_batch bt CROSS JOIN warehouses_bin bn
            WHERE bn.warehouse_id = %s
            """,
            [warehouse.pk],
        )
        cursor.execute(
            """
            INSERT INTO inventory_stockmovement
                (kind, balance_id, goods_id, warehouse_id, bin_id, batch_id, to_bin_id,
                 quantity, on_hand_delta, frozen_delta, reserved_delta, document_type,
                 document_ref, reason, created_at)
            SELECT 'in_purchase', b.id, b.goods_id, b.warehouse_id, b.bin_id, b.batch_id,
                   b.bin_id, b.on_hand, b.on_hand, 0, 0, 'other', 'BENCH', '', now()
            FROM inventory_stockbalance b
            """
        )
        cursor.execute(
            """
            INSERT INTO inventory_stockmovement
                (kind, balance_id, goods_id, warehouse_id, bin_id, batch_id, quantity,
                 on_hand_delta, frozen_delta, reserved_delta, document_type, document_ref,
                 reason, created_at)
            SELECT 'reserve', b.id, b.goods_id, b.warehouse_id, b.bin_id, b.batch_id,
                   b.reserved, 0, 0, b.reserved, 'other', 'BENCH', '', now()
            FROM inventory_stockbalance b WHERE b.reserved > 0
            """
        )
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM inventory_stockbalance")
        (balances,) = cursor.fetchone()
    user, _created = get_user_model().objects.get_or_create(username="bench-clerk")
    return {
        "even": [c.pk for c in categories[0::2]],
        "odd": [c.pk for c in categories[1::2]],
        "twins": [c.pk for c in twins],
        "balances": balances,
        "user": user,
    }


def _check_freeze(freeze, baseline_units: int, expected_lines: int | None = None) -> None:
    """Read back from the database: the freeze's lines, its freeze movements and the frozen
    units on its balances agree, match the baseline's units, and are not empty."""
    from django.db.models import Sum

    from freezes.models import FreezeLine
    from inventory.models import StockBalance, StockMovement

    lines = FreezeLine.objects.filter(freeze=freeze)
    line_units = lines.aggregate(units=Sum("quantity"))["units"] or 0
    moved = (
        StockMovement.objects.filter(
            kind="freeze", document_type="freeze", document_id=freeze.pk
        ).aggregate(units=Sum("frozen_delta"))["units"]
        or 0
    )
    frozen = (
        StockBalance.objects.filter(
            pk__in=list(lines.values_list("balance_id", flat=True))
        ).aggregate(units=Sum("frozen"))["units"]
        or 0
    )
    check(line_units > 0, "the app froze nothing")
    check(line_units == baseline_units, f"app froze {line_units} units, baseline {baseline_units}")
    check(moved == line_units, f"freeze movements carry {moved} units, lines {line_units}")
    check(frozen >= line_units, f"its balances hold {frozen} frozen units, lines {line_units}")
    if expected_lines is not None:
        check(lines.count() == expected_lines, f"{lines.count()} lines, {expected_lines} expected")


def _warm() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), sum(b.on_hand) FROM inventory_stockbalance b "
            "JOIN inventory_batch bt ON bt.id = b.batch_id JOIN inventory_goods g "
            "ON g.id = b.goods_id"
        )
        cursor.execute("SELECT count(*) FROM inventory_stockmovement")


def _baseline(
    raw,
    *,
    joins: str,
    where: str,
    params: dict,
    reason: str,
    rule_id: int | None,
    category_id: int | None,
    operator_id: int | None,
) -> tuple[float, int]:
    """The same writes as the app in raw SQL, one transaction; returns (seconds, units)."""
    cursor = raw.cursor()
    start = time.perf_counter()
    cursor.execute(BASELINE_FREEZE, [reason, "", category_id, rule_id, "bench", operator_id])
    (freeze_id,) = cursor.fetchone()
    values = {
        **params,
        "freeze": freeze_id,
        "ref": f"FRZ-{freeze_id:06d}",
        "operator": operator_id,
        "reason": reason,
        "rule": rule_id,
    }
    cursor.execute(BASELINE_POSTING.format(joins=joins, where=where), values)
    cursor.execute(BASELINE_LINES, values)
    cursor.execute(BASELINE_EVENT, values)
    raw.commit()
    elapsed = time.perf_counter() - start
    cursor.execute(
        "SELECT COALESCE(SUM(quantity), 0) FROM freezes_freezeline WHERE freeze_id = %s",
        [freeze_id],
    )
    (units,) = cursor.fetchone()
    return elapsed, int(units)


def freeze_near_expiry_scan(scale: float) -> None:
    from freezes.models import FreezeLine, FreezeRule
    from freezes.services.rules import near_expiry_scan, rule_create, rule_set_active

    data = _build(scaled(100_000, scale, minimum=500), scaled(1_000, scale, minimum=20), "NE")
    user = data["user"]
    rules = []
    for name, categories in (("app", data["even"]), ("baseline", data["odd"])):
        rule = rule_create(
            operator=user,
            name=f"Near expiry ({name})",
            kind=FreezeRule.Kind.NEAR_EXPIRY,
            reason="near_expiry",
            categories=categories,
            days_to_expiry=DAYS,
        )
        rules.append(rule_set_active(rule=rule, operator=user, active=True))
    _warm()

    start = time.perf_counter()
    freeze = near_expiry_scan(rule=rules[0])
    app_time = time.perf_counter() - start
    app_lines = FreezeLine.objects.filter(freeze=freeze).count()
    app_units = sum(FreezeLine.objects.filter(freeze=freeze).values_list("quantity", flat=True))

    with raw_connection() as raw:
        baseline_time, baseline_units = _baseline(
            raw,
            joins="JOIN inventory_batch bt ON bt.id = b.batch_id "
            "JOIN inventory_goods g ON g.id = b.goods_id",
            where="bt.expiry_date <= %(until)s AND g.category_id = ANY(%(categories)s) "
            "AND b.on_hand - b.frozen - b.reserved > 0 AND NOT EXISTS (SELECT 1 FROM "
            "freezes_freezeline l JOIN freezes_freeze f ON f.id = l.freeze_id "
            "WHERE l.balance_id = b.id AND f.rule_id = %(rule)s)",
            params={
                "until": datetime.date.today() + datetime.timedelta(days=DAYS),
                "categories": data["odd"],
            },
            reason="near_expiry",
            rule_id=rules[1].pk,
            category_id=None,
            operator_id=None,
        )
    _check_freeze(freeze, baseline_units)
    report(
        "freeze_near_expiry_scan",
        app_time,
        baseline_time,
        balances=data["balances"],
        frozen_balances=app_lines,
        matching_pct=round(100 * app_lines / data["balances"], 2),
        units=app_units,
        bar="<=3.0",
    )


def freeze_category_10k(scale: float) -> None:
    from freezes.models import FreezeLine
    from freezes.scope import Scope
    from freezes.services.freezing import freeze_create

    data = _build(scaled(2_000, scale, minimum=100), scaled(1_000, scale, minimum=20), "CAT")
    user = data["user"]
    _warm()

    start = time.perf_counter()
    with transaction.atomic():
        freeze = freeze_create(
            scope=Scope(category_id=data["twins"][0]),
            reason="qc_hold",
            note="",
            operator=user,
        )
    app_time = time.perf_counter() - start
    app_lines = FreezeLine.objects.filter(freeze=freeze).count()

    with raw_connection() as raw:
        baseline_time, baseline_units = _baseline(
            raw,
            joins="JOIN inventory_goods g ON g.id = b.goods_id",
            where="g.category_id = %(category)s AND b.on_hand > 0 "
            "AND b.on_hand - b.frozen - b.reserved > 0",
            params={"category": data["twins"][1]},
            reason="qc_hold",
            rule_id=None,
            category_id=data["twins"][1],
            operator_id=user.pk,
        )
    app_units = sum(FreezeLine.objects.filter(freeze=freeze).values_list("quantity", flat=True))
    _check_freeze(freeze, baseline_units)
    report(
        "freeze_category_10k",
        app_time,
        baseline_time,
        balances=app_lines,
        units=app_units,
        app_seconds=round(app_time, 2),
    )


BENCHMARKS = {
    "freeze_near_expiry_scan": freeze_near_expiry_scan,
    "freeze_category_10k": freeze_category_10k,
}
