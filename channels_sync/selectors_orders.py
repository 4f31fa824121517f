"""Reads of orders: one order with everything its screen shows, and the metrics dashboard (the
unbinding guide's evaluation): order fill rate (orders reserved complete from one warehouse at
their first routing), 7-day moving average per shop and per warehouse; short-order rate against
an alert threshold; stock-count accuracy from posted counts (lines counted equal to the
expected quantity); and a suggested safety stock per goods from its shipped units per day and
its replenishment cycle (z x sigma(daily units) x sqrt(days between receipts))."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import timedelta

from django.db.models import Count, F, Prefetch, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from channels_sync.models import Order, OrderEvent, Shop
from inventory.models import Goods, StockCountLine, StockMovement
from warehouses.models import Warehouse

SHORT_ALERT = 0.03
COUNT_TARGET = 0.995
Z_95 = 1.65
DEFAULT_CYCLE_DAYS = 7.0


def order_get(pk: int) -> Order | None:
    return (
        Order.objects.select_related("shop", "warehouse", "shipment", "shipment__carrier")
        .prefetch_related(
            "lines__goods",
            "allocations__warehouse",
            "allocations__goods",
            Prefetch("events", queryset=OrderEvent.objects.select_related("user").order_by("-pk")),
        )
        .filter(pk=pk)
        .first()
    )


def _moving(days: list, daily: dict, window: int = 7) -> list[float | None]:
    out = []
    for i, _day in enumerate(days):
        span = days[max(0, i - window + 1) : i + 1]
        total = sum(daily.get(d, (0, 0))[1] for d in span)
        good = sum(daily.get(d, (0, 0))[0] for d in span)
        out.append(good / total if total else None)
    return out


def svg_polyline(values: list[float | None], *, width=560, height=140, top=1.0, bottom=0.0):
    """Points of a polyline for values in [bottom, top] (None: a gap)."""
    if not values:
        return []
    step = width / max(1, len(values) - 1)
    segments, current = [], []
    for i, v in enumerate(values):
        if v is None:
            if current:
                segments.append(" ".join(current))
            current = []
            continue
        share = (v - bottom) / (top - bottom) if top > bottom else 0
        current.append(f"{i * step:.1f},{height - share * height:.1f}")
    if current:
        segments.append(" ".join(current))
    return segments


def order_metrics(*, days: int = 28) -> dict:
    days = max(7, min(days, 180))
    today = timezone.localdate()
    start = today - timedelta(days=days - 1)
    day_list = [start + timedelta(days=i) for i in range(days)]
    since = timezone.now() - timedelta(days=days + 7)
    rows = (
        Order.objects.filter(routed_at__gte=since)
        .annotate(day=TruncDate("routed_at"))
        .values("day", "shop_id", "warehouse_id")
        .annotate(
            total=Count("pk"),
            filled=Count("pk", filter=Q(filled_complete=True)),
            short=Count("pk", filter=Q(was_short=True)),
        )
    )
    by_shop: dict[int, dict] = defaultdict(dict)
    by_wh: dict[int, dict] = defaultdict(dict)
    short_by_shop: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    week_ago = today - timedelta(days=6)
    for r in rows:
        for table, key in ((by_shop, r["shop_id"]), (by_wh, r["warehouse_id"])):
            if key is None:
                continue
            good, total = table[key].get(r["day"], (0, 0))
            table[key][r["day"]] = (good + r["filled"], total + r["total"])
        if r["day"] >= week_ago:
            short_by_shop[r["shop_id"]][0] += r["short"]
            short_by_shop[r["shop_id"]][1] += r["total"]
    shops = dict(
        Shop.objects.filter(pk__in=list(by_shop) + list(short_by_shop)).values_list("pk", "name")
    )
    warehouses = dict(Warehouse.objects.filter(pk__in=list(by_wh)).values_list("pk", "code"))
    colours = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2"]

    def series(table, names):
        out = []
        for i, (key, daily) in enumerate(sorted(table.items())):
            values = _moving(day_list, daily)
            last = next((v for v in reversed(values) if v is not None), None)
            out.append(
                {
                    "name": names.get(key, key),
                    "colour": colours[i % len(colours)],
                    "segments": svg_polyline(values),
                    "latest": last,
                    "orders": sum(daily.get(d, (0, 0))[1] for d in day_list),
                }
            )
        return out

    short_rates = []
    for shop_id, (short, total) in sorted(short_by_shop.items()):
        rate = short / total if total else 0.0
        short_rates.append(
            {
                "shop": shops.get(shop_id, shop_id),
                "short": short,
                "total": total,
                "rate": rate,
                "alert": rate > SHORT_ALERT,
            }
        )
    counted = (
        StockCountLine.objects.filter(
            count__status="posted", count__posted_at__gte=since, expected_quantity__isnull=False
        )
        .values("count__warehouse_id")
        .annotate(
            lines=Count("pk"), exact=Count("pk", filter=Q(counted_quantity=F("expected_quantity")))
        )
    )
    count_rows = []
    wh_codes = dict(Warehouse.objects.values_list("pk", "code"))
    for r in counted:
        accuracy = r["exact"] / r["lines"] if r["lines"] else None
        count_rows.append(
            {
                "warehouse": wh_codes.get(r["count__warehouse_id"]),
                "lines": r["lines"],
                "exact": r["exact"],
                "accuracy": accuracy,
                "ok": accuracy is not None and accuracy >= COUNT_TARGET,
            }
        )
    return {
        "days": days,
        "first_day": start,
        "last_day": today,
        "shop_series": series(by_shop, shops),
        "warehouse_series": series(by_wh, warehouses),
        "short_rates": short_rates,
        "short_alert": SHORT_ALERT,
        "count_rows": count_rows,
        "count_target": COUNT_TARGET,
        "safety": safety_stock_suggestions(days=days),
        "gridlines": [(f"{int(p * 100)}%", 140 - p * 140) for p in (0, 0.25, 0.5, 0.75, 1.0)],
    }


def safety_stock_suggestions(*, days: int = 28, limit: int = 20) -> list[dict]:
    """Per goods shipped to shop orders: mean and spread of units per day, the replenishment
    cycle (mean days between purchase receipts, else 7), and z x sigma x sqrt(cycle)."""
    since = timezone.now() - timedelta(days=days)
    shipped = (
        StockMovement.objects.filter(kind="out_order_shipment", created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("goods_id", "day")
        .annotate(units=Sum("quantity"))
    )
    per_goods: dict[int, dict] = defaultdict(dict)
    for r in shipped:
        per_goods[r["goods_id"]][r["day"]] = r["units"]
    if not per_goods:
        return []
    top = sorted(per_goods, key=lambda g: -sum(per_goods[g].values()))[:limit]
    receipts: dict[int, list] = defaultdict(list)
    for goods_id, at in (
        StockMovement.objects.filter(
            kind="in_purchase", goods_id__in=top, created_at__gte=since - timedelta(days=90)
        )
        .order_by("created_at")
        .values_list("goods_id", "created_at")
    ):
        receipts[goods_id].append(at)
    names = dict(Goods.objects.filter(pk__in=top).values_list("pk", "sku"))
    out = []
    for g in top:
        daily = [per_goods[g].get(timezone.localdate() - timedelta(days=i), 0) for i in range(days)]
        mean = sum(daily) / days
        sigma = statistics.pstdev(daily)
        times = receipts.get(g, [])
        gaps = [(b - a).total_seconds() / 86400 for a, b in zip(times, times[1:], strict=False)]
        cycle = sum(gaps) / len(gaps) if gaps else DEFAULT_CYCLE_DAYS
        out.append(
            {
                "sku": names.get(g, g),
                "mean": mean,
                "sigma": sigma,
                "cycle": cycle,
                "suggested": math.ceil(Z_95 * sigma * math.sqrt(max(cycle, 1))),
            }
        )
    return out


def order_settings_list() -> list:
    """(shop, its order settings or defaults) for every active shop with order pull on."""
    from channels_sync.models import ShopOrderSettings

    shops = list(Shop.objects.filter(is_active=True, is_order_pull_enabled=True).order_by("name"))
    rows = {r.shop_id: r for r in ShopOrderSettings.objects.filter(shop__in=shops)}
    return [(shop, rows.get(shop.pk) or ShopOrderSettings(shop=shop)) for shop in shops]
