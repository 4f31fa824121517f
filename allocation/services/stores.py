"""Store figures behind every priority and eligibility decision: sales in the policy's lookback,
average daily sales, the store's last known on-hand and its days of cover.

Ranking (documented rule, the same on the policy screen, at close and in the benchmark):

* sales volume: most units sold in the lookback first;
* days of cover (store on-hand / average daily sales): fewest first; a store with no known
  on-hand, or with no sales (endless cover), comes after every store with a figure;
* fixed rank: the store's ``fixed_rank`` ascending, stores without one last.

Ties are broken by the store code (for requests at close: then by the earlier request, then by
the request id), so a ranking is total and reproducible.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import NamedTuple

from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone

from allocation import reasons
from allocation.models import Policy, ReplenishmentOrder, Store, StoreSales


class Figures(NamedTuple):
    """A store's figures for one goods (a tuple: a window close builds tens of thousands)."""

    sales: int
    avg_daily: float
    on_hand: int | None
    cover: float | None  # None: unknown on-hand or no sales (endless cover)

    def as_dict(self) -> dict:
        return {
            "sales": self.sales,
            "avg_daily": round(self.avg_daily, 2),
            "on_hand": self.on_hand,
            "cover": None if self.cover is None else round(self.cover, 1),
        }


EMPTY = Figures(0, 0.0, None, None)


def store_figures(
    *,
    policy: Policy,
    store_ids: Iterable[int],
    goods_ids: Iterable[int],
    as_of: datetime.date | None = None,
    with_on_hand: bool = True,
    pairs: set[tuple[int, int]] | None = None,
) -> dict[tuple[int, int], Figures]:
    """Figures per (store id, goods id) over the ``lookback_days`` before ``as_of`` (today).
    ``with_on_hand=False`` skips the store stock (and so the cover) when nothing uses it;
    ``pairs`` limits the answer to those (store, goods) pairs (a window close asks for the
    pairs it has requests for)."""
    stores = sorted(set(store_ids))
    goods = sorted(set(goods_ids))
    if not stores or not goods:
        return {}
    as_of = as_of or timezone.localdate()
    start = as_of - datetime.timedelta(days=policy.lookback_days)
    rows = StoreSales.objects.filter(
        store_id__in=stores, goods_id__in=goods, day__gte=start, day__lt=as_of
    )
    if pairs is not None and connection.vendor == "postgresql":
        # only the asked pairs' rows, through the (store, goods, day) unique index
        wanted = sorted(pairs)
        rows = rows.extra(  # noqa: S610 - fixed SQL, values as parameters
            where=["(store_id, goods_id) IN (SELECT * FROM unnest(%s::bigint[], %s::bigint[]))"],
            params=[[s for s, _g in wanted], [g for _s, g in wanted]],
        )
    sales = {
        (store_id, goods_id): total or 0
        for store_id, goods_id, total in rows.values("store_id", "goods_id")
        .annotate(total=Sum("units_sold"))
        .values_list("store_id", "goods_id", "total")
    }
    on_hand: dict[tuple[int, int], int] = {}
    recent = rows.filter(on_hand__isnull=False)
    if not with_on_hand:
        pass
    elif connection.vendor == "postgresql":
        latest = recent.order_by("store_id", "goods_id", "-day").distinct("store_id", "goods_id")
        for store_id, goods_id, value in latest.values_list("store_id", "goods_id", "on_hand"):
            on_hand[(store_id, goods_id)] = value
    else:
        for store_id, goods_id, value in recent.order_by("day").values_list(
            "store_id", "goods_id", "on_hand"
        ):
            on_hand[(store_id, goods_id)] = value
    out = {}
    keys = set(sales) | set(on_hand)
    for key in keys if pairs is None else keys & pairs:
        total = sales.get(key, 0)
        avg = total / policy.lookback_days
        stock = on_hand.get(key)
        cover = stock / avg if stock is not None and avg > 0 else None
        out[key] = Figures(total, avg, stock, cover)
    return out


def needs_on_hand(policy: Policy) -> bool:
    return policy.priority == Policy.Priority.DAYS_OF_COVER or policy.max_days_of_cover is not None


def rank_key(policy: Policy, store: Store, figures: Figures) -> tuple:
    """The sort key of a store under a policy (smaller comes first); ends with the store code."""
    if policy.priority == Policy.Priority.DAYS_OF_COVER:
        return (figures.cover is None, figures.cover or 0.0, -figures.sales, store.code)
    if policy.priority == Policy.Priority.FIXED_RANK:
        return (store.fixed_rank is None, store.fixed_rank or 0, store.code)
    return (-figures.sales, store.code)


def suggested_quantity(*, policy: Policy, figures: Figures, left: int) -> int:
    """What a store should ask for: enough for one replenishment cycle plus a week of safety
    (7 days for a daily or on-demand cycle, 14 for weekly), less what it holds, within the
    per-goods cap and what is left; at least 1 when anything is left."""
    days = 14 if policy.cycle == Policy.Cycle.WEEKLY else 7
    need = round(figures.avg_daily * days) - (figures.on_hand or 0)
    cap = policy.cap_per_goods or left
    return max(1, min(need, cap, left)) if left > 0 else 0


def unreceived_orders(store_ids: Iterable[int], older_than: datetime.datetime) -> dict[int, str]:
    """Per store, one of its orders not received (nor cancelled) and created before the time."""
    rows = ReplenishmentOrder.objects.filter(
        store_id__in=sorted(set(store_ids)),
        created_at__lt=older_than,
        status__in=[
            ReplenishmentOrder.Status.CREATED,
            ReplenishmentOrder.Status.PICKING,
            ReplenishmentOrder.Status.SHIPPED,
        ],
    ).values_list("store_id", "pk")
    return {store_id: f"RO{pk:06d}" for store_id, pk in rows}


def eligibility(
    *,
    policy: Policy,
    store: Store,
    figures: Figures,
    unreceived: dict[int, str],
) -> tuple[str, dict] | None:
    """Why the store may not grab this goods under the policy (reason code and figures), or
    None when it may. ``unreceived`` comes from ``unreceived_orders`` for the policy's limit."""
    if not store.is_active:
        return reasons.INACTIVE, {}
    if policy.min_sales and figures.sales < policy.min_sales:
        return reasons.LOW_SALES, {
            "days": policy.lookback_days,
            "sales": figures.sales,
            "minimum": policy.min_sales,
        }
    if policy.max_days_of_cover is not None and figures.on_hand is not None:
        cover = figures.cover
        if cover is None or cover >= policy.max_days_of_cover:
            return reasons.COVER_HIGH, {
                "cover": "∞" if cover is None else round(cover, 1),
                "limit": policy.max_days_of_cover,
            }
    if policy.max_unreceived_days is not None and store.pk in unreceived:
        return reasons.UNRECEIVED, {
            "order": unreceived[store.pk],
            "days": policy.max_unreceived_days,
        }
    return None


def unreceived_for(policy: Policy, store_ids: Iterable[int]) -> dict[int, str]:
    if policy.max_unreceived_days is None:
        return {}
    since = timezone.now() - datetime.timedelta(days=policy.max_unreceived_days)
    return unreceived_orders(store_ids, since)


def stores_in_scope(window) -> Q:
    """The stores a window is open to, as a filter on Store."""
    if window.scope == window.Scope.LIST:
        return Q(pk__in=list(window.stores.values_list("pk", flat=True)))
    if window.scope == window.Scope.GROUP:
        return Q(group=window.store_group)
    return Q()
