"""Reads of the allocation screens, exports and reports. Every selector takes the user and
scopes through ``Store.objects.for_user`` (another store's row reads as missing: 404)."""

from __future__ import annotations

import datetime
import json
import statistics
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, Max, Prefetch, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from allocation.models import (
    GrabPool,
    GrabRequest,
    GrabWindow,
    ReplenishmentOrder,
    Store,
    StoreReturn,
    StoreSales,
)
from allocation.reasons import reason_text
from allocation.services import stores as store_figures


def my_stores(user):
    return Store.objects.for_user(user).filter(is_active=True)


def window_list_for_store_manager(user) -> list[dict]:
    """Open and upcoming windows open to any of the user's stores, with each pool's goods and
    what is left, and the user's stores that may grab in each. A fixed number of queries
    however many windows and stores (phones poll it every few seconds)."""
    stores = list(my_stores(user))
    now = timezone.now()
    windows = (
        GrabWindow.objects.filter(
            Q(status=GrabWindow.Status.OPEN, closes_at__gt=now)
            | Q(status=GrabWindow.Status.SCHEDULED)
        )
        .select_related("policy")
        .prefetch_related(
            Prefetch("pools", queryset=GrabPool.objects.select_related("goods")), "stores"
        )
        .order_by("opens_at", "pk")
    )
    out = []
    for window in windows:
        allowed = [s for s in stores if _in_scope(window, s)]
        if allowed:
            out.append({"window": window, "stores": allowed, "pools": list(window.pools.all())})
    return out


def _in_scope(window: GrabWindow, store: Store) -> bool:
    if window.scope == GrabWindow.Scope.LIST:
        return store.pk in {s.pk for s in window.stores.all()}
    if window.scope == GrabWindow.Scope.GROUP:
        return store.group == window.store_group
    return True


def grab_window_get(user, pk: int) -> GrabWindow | None:
    """A window a store manager may see (open to one of his stores), or any for a manager."""
    window = GrabWindow.objects.select_related("policy", "warehouse").filter(pk=pk).first()
    if window is None:
        return None
    if user.has_perm("allocation.view_all_stores"):
        return window
    return window if any(_in_scope(window, s) for s in my_stores(user)) else None


def suggestions(user, window: GrabWindow, stores: list[Store]) -> dict[tuple[int, int], int]:
    """The suggested quantity per (store, goods) of a window, from sales and cover."""
    pools = list(window.pools.all())
    figures = store_figures.store_figures(
        policy=window.policy,
        store_ids=[s.pk for s in stores],
        goods_ids=[p.goods_id for p in pools],
    )
    return {
        (s.pk, p.goods_id): store_figures.suggested_quantity(
            policy=window.policy,
            figures=figures.get((s.pk, p.goods_id), store_figures.EMPTY),
            left=p.left,
        )
        for s in stores
        for p in pools
    }


def request_list(user, *, window_id: int | None = None):
    qs = GrabRequest.objects.filter(store__in=Store.objects.for_user(user)).select_related(
        "store", "pool__goods", "window"
    )
    if window_id:
        qs = qs.filter(window_id=window_id)
    return qs.order_by("-created_at", "-pk")


def order_list(user, *, status: str = ""):
    qs = ReplenishmentOrder.objects.filter(store__in=Store.objects.for_user(user)).select_related(
        "store", "window", "warehouse"
    )
    if status in ReplenishmentOrder.Status.values:
        qs = qs.filter(status=status)
    return qs.annotate(units=Sum("lines__quantity")).order_by("-created_at", "-pk")


def order_get(user, pk: int) -> ReplenishmentOrder | None:
    return (
        ReplenishmentOrder.objects.filter(pk=pk, store__in=Store.objects.for_user(user))
        .select_related("store", "window", "warehouse")
        .prefetch_related("lines__goods", "lines__balance__bin", "lines__balance__batch")
        .first()
    )


def return_list(user, *, status: str = ""):
    qs = StoreReturn.objects.filter(store__in=Store.objects.for_user(user)).select_related(
        "store", "order"
    )
    if status in StoreReturn.Status.values:
        qs = qs.filter(status=status)
    return qs.annotate(units=Sum("lines__quantity"))


def return_get(user, pk: int) -> StoreReturn | None:
    """One return of the user's stores with its lines and who filed and received it, or None
    (another store's return reads as missing)."""
    return (
        return_list(user)
        .filter(pk=pk)
        .select_related("order__warehouse", "filed_by", "received_by")
        .prefetch_related("lines__goods")
        .first()
    )


def store_sales_list(user):
    """The daily sales of the user's stores, with their store and goods."""
    return StoreSales.objects.filter(store__in=Store.objects.for_user(user)).select_related(
        "store", "goods"
    )


def pick_rows(orders) -> list[dict]:
    """Pick list rows (bin, goods, batch, units) over the orders, merged per bin/goods/batch,
    in bin order (the walk through the warehouse)."""
    merged: dict[tuple, dict] = {}
    for order in orders:
        for line in order.lines.all():
            bal = line.balance
            key = (bal.bin.code, line.goods.sku, bal.batch.batch_no if bal.batch else "")
            row = merged.setdefault(
                key,
                {
                    "bin": bal.bin.code,
                    "sku": line.goods.sku,
                    "name": line.goods.name,
                    "batch": key[2],
                    "expiry": bal.batch.expiry_date if bal.batch else None,
                    "units": 0,
                    "stores": [],
                },
            )
            row["units"] += line.quantity
            row["stores"].append(f"{order.store.code}×{line.quantity}")
    return [merged[k] for k in sorted(merged)]


@dataclass
class Bar:
    label: str
    units: int
    y: int
    width: int


def bars(rows: list[tuple[str, int]]) -> tuple[list[Bar], int]:
    top = max((u for _, u in rows), default=0) or 1
    out = [
        Bar(label, units, i * 24, round(200 * units / top)) for i, (label, units) in enumerate(rows)
    ]
    return out, max(24 * len(out), 24)


def window_report(window: GrabWindow) -> dict:
    """Per window: per goods offered / requested / granted, per store requested / granted, the
    grab success rate (granted or partly granted / answered requests), time to answer, and the
    pool's distribution across stores (chart bars)."""
    requests = list(
        GrabRequest.objects.filter(window=window).select_related("store", "pool__goods")
    )
    answered = [r for r in requests if r.status != GrabRequest.Status.CANCELLED and r.answered_at]
    successes = [r for r in answered if r.granted > 0]
    waits = [(r.answered_at - r.created_at).total_seconds() for r in answered]
    per_goods = list(
        GrabPool.objects.filter(window=window)
        .select_related("goods")
        .annotate(
            requested=Sum("requests__quantity", filter=~Q(requests__status="cancelled")),
            n=Count("requests"),
        )
    )
    per_store: dict[int, dict] = {}
    for r in requests:
        row = per_store.setdefault(
            r.store_id, {"store": r.store, "requests": 0, "requested": 0, "granted": 0}
        )
        row["requests"] += 1
        row["requested"] += r.quantity if r.status != GrabRequest.Status.CANCELLED else 0
        row["granted"] += r.granted
    stores = sorted(per_store.values(), key=lambda row: (-row["granted"], row["store"].code))
    chart, height = bars([(row["store"].code, row["granted"]) for row in stores[:30]])
    return {
        "requests": len(requests),
        "answered": len(answered),
        "success_rate": round(100 * len(successes) / len(answered), 1) if answered else None,
        "median_wait": round(statistics.median(waits), 2) if waits else None,
        "max_wait": round(max(waits), 2) if waits else None,
        "per_goods": per_goods,
        "per_store": stores,
        "chart": chart,
        "chart_height": height,
        "requested": sum(row["requested"] for row in stores),
        "granted": sum(row["granted"] for row in stores),
    }


def ranking(policy, goods, user) -> list[dict]:
    """The stores ranked for one goods under a policy, with the figures behind each rank and
    whether the policy's eligibility would let it grab (the "why is store 12 ahead" screen)."""
    stores = list(Store.objects.for_user(user).filter(is_active=True))
    figures = store_figures.store_figures(
        policy=policy, store_ids=[s.pk for s in stores], goods_ids=[goods.pk]
    )
    unreceived = store_figures.unreceived_for(policy, [s.pk for s in stores])
    rows = []
    for store in stores:
        fig = figures.get((store.pk, goods.pk), store_figures.EMPTY)
        refusal = store_figures.eligibility(
            policy=policy, store=store, figures=fig, unreceived=unreceived
        )
        rows.append(
            {
                "store": store,
                "figures": fig,
                "key": store_figures.rank_key(policy, store, fig),
                "refusal": reason_text(*refusal) if refusal else "",
            }
        )
    rows.sort(key=lambda row: row["key"])
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return rows


def window_decisions(window: GrabWindow, limit: int = 500) -> list:
    """The append-only decisions of a window's requests: rule, figures, result (newest last)."""
    from allocation.models import GrabDecision
    from allocation.reasons import figure_items, rule_label

    results = dict(GrabRequest.Status.choices)
    rows = list(
        GrabDecision.objects.filter(request__window=window)
        .select_related("request__store", "request__pool__goods")
        .order_by("pk")[:limit]
    )
    for row in rows:
        row.rule_label = rule_label(row.rule)
        row.result_label = results.get(row.result, row.result)
        row.figure_items = figure_items(row.figures)
    return rows


DECISION_COLUMNS = (
    _lazy("Decision"),
    _lazy("Time"),
    _lazy("Request"),
    _lazy("Store"),
    _lazy("Store name"),
    _lazy("SKU"),
    _lazy("Requested"),
    _lazy("Rule"),
    _lazy("Result"),
    _lazy("Granted"),
    _lazy("Reason"),
    _lazy("Figures"),
    _lazy("Requested at"),
    _lazy("Answered at"),
)


def decision_rows(user, window: GrabWindow) -> Iterator[list]:
    """Every append-only decision of a window for the stores the user may see
    (``Store.objects.for_user``), oldest first, as export rows (``DECISION_COLUMNS``): streamed
    from the database in chunks, whatever the number of requests."""
    from allocation.models import GrabDecision
    from allocation.reasons import rule_label

    results = dict(GrabRequest.Status.choices)
    rows = (
        GrabDecision.objects.filter(
            request__window=window, request__store__in=Store.objects.for_user(user)
        )
        .order_by("pk")
        .values_list(
            "pk",
            "created_at",
            "request_id",
            "request__store__code",
            "request__store__name",
            "request__pool__goods__sku",
            "request__quantity",
            "rule",
            "result",
            "granted",
            "request__reason_code",
            "request__reason_params",
            "figures",
            "request__created_at",
            "request__answered_at",
        )
    )
    for row in rows.iterator(chunk_size=2000):
        (pk, at, request_id, code, name, sku, quantity, rule, result, granted, reason,
         params, figures, asked_at, answered_at) = row  # fmt: skip
        yield [
            pk,
            timezone.localtime(at),
            request_id,
            code,
            name,
            sku,
            quantity,
            rule_label(rule),
            str(results.get(result, result)),
            granted,
            reason_text(reason, params),
            json.dumps(figures, ensure_ascii=False, sort_keys=True),
            timezone.localtime(asked_at),
            timezone.localtime(answered_at) if answered_at else None,
        ]


def store_report(user, *, days: int = 90) -> list[dict]:
    """Per store (in the user's scope) over the last ``days``: requests, requests granted (in
    full or part), units asked and granted, fill rate (granted / asked units), and the days of
    cover today (store on-hand over average daily sales of the last 28 days, all goods)."""
    since = timezone.now() - datetime.timedelta(days=days)
    stores = list(Store.objects.for_user(user).order_by("code"))
    ids = [s.pk for s in stores]
    rows = {
        r["store_id"]: r
        for r in GrabRequest.objects.filter(store_id__in=ids, created_at__gte=since)
        .exclude(status=GrabRequest.Status.CANCELLED)
        .values("store_id")
        .annotate(
            requests=Count("pk"),
            granted_requests=Count("pk", filter=Q(granted__gt=0)),
            asked=Sum("quantity"),
            units=Sum("granted"),
        )
    }
    today = timezone.localdate()
    sold = dict(
        StoreSales.objects.filter(
            store_id__in=ids, day__gte=today - datetime.timedelta(days=28), day__lt=today
        )
        .values("store_id")
        .annotate(n=Sum("units_sold"))
        .values_list("store_id", "n")
    )
    latest_day = dict(
        StoreSales.objects.filter(store_id__in=ids, on_hand__isnull=False)
        .values("store_id")
        .annotate(day=Max("day"))
        .values_list("store_id", "day")
    )
    # each store's on hand on its latest day reported: one query whatever the stores (the
    # latest days are few, and pairs of another store's day are dropped)
    on_hand: dict[int, int] = {store_id: 0 for store_id in latest_day}
    for store_id, day, units in (
        StoreSales.objects.filter(store_id__in=list(latest_day), day__in=set(latest_day.values()))
        .values("store_id", "day")
        .annotate(n=Sum("on_hand"))
        .values_list("store_id", "day", "n")
    ):
        if latest_day[store_id] == day:
            on_hand[store_id] = units or 0
    out = []
    for store in stores:
        r = rows.get(store.pk, {})
        asked, units = r.get("asked") or 0, r.get("units") or 0
        daily = (sold.get(store.pk) or 0) / 28
        stock = on_hand.get(store.pk)
        out.append(
            {
                "store": store,
                "requests": r.get("requests", 0),
                "granted_requests": r.get("granted_requests", 0),
                "asked": asked,
                "units": units,
                "fill_rate": round(100 * units / asked, 1) if asked else None,
                "cover": round(stock / daily, 1) if stock is not None and daily > 0 else None,
            }
        )
    return out
