"""Reads of the channels app: the sellable quantity per listing, shops, listings, the sync log.

Sellable quantity of a listing (ARCHITECTURE.md §3, issue 11):
  available (on hand - frozen - reserved) summed over the shop's bound warehouses, where a
  goods (or listing) exception either leaves a warehouse out (unbound) or counts at most its
  fixed allotment there; combos: min over components of floor(component total / quantity);
  then floor(total x share%) - safety stock, floored at 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q, Sum

from channels_sync.models import (
    Binding,
    BindingChange,
    BindingException,
    Listing,
    Shop,
    SyncRecord,
)
from inventory.models import ComboComponent, StockBalance


@dataclass
class Sellable:
    listing_id: int
    goods_id: int
    quantity: int
    inputs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BindingState:
    """A shop's bindings as plain data: ``warehouses`` [(warehouse_id, priority)], ``exceptions``
    [(warehouse_id, goods_id|None, listing_id|None, mode, allotment|None)]. The snapshot stored
    in binding changes, and what a preview computes with."""

    warehouses: tuple[tuple[int, int], ...]
    exceptions: tuple[tuple[int, int | None, int | None, str, int | None], ...]

    def to_json(self) -> dict:
        return {
            "warehouses": [list(w) for w in self.warehouses],
            "exceptions": [list(e) for e in self.exceptions],
        }

    @classmethod
    def from_json(cls, data: dict) -> BindingState:
        return cls(
            warehouses=tuple(sorted((int(w), int(p)) for w, p in data.get("warehouses", []))),
            exceptions=tuple(sorted(tuple(e) for e in data.get("exceptions", []))),
        )


def binding_state(shop: Shop) -> BindingState:
    """The shop's current bindings and exceptions (no locks)."""
    warehouses = tuple(
        sorted(Binding.objects.filter(shop=shop).values_list("warehouse_id", "priority"))
    )
    exceptions = tuple(
        sorted(
            BindingException.objects.filter(shop=shop).values_list(
                "warehouse_id", "goods_id", "listing_id", "mode", "allotment"
            ),
            key=lambda e: (e[0], e[1] or 0, e[2] or 0),
        )
    )
    return BindingState(warehouses=warehouses, exceptions=exceptions)


def _components(goods_ids: Iterable[int]) -> dict[int, list[tuple[int, int]]]:
    found: dict[int, list[tuple[int, int]]] = defaultdict(list)
    if connection.vendor == "postgresql":  # one array parameter, whatever the number of goods
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT combo_id, component_id, quantity "  # noqa: S608 - a table name
                f"FROM {ComboComponent._meta.db_table} WHERE combo_id = ANY(%s)",
                [sorted(goods_ids)],
            )
            rows = cursor.fetchall()
    else:
        rows = ComboComponent.objects.filter(combo_id__in=list(goods_ids)).values_list(
            "combo_id", "component_id", "quantity"
        )
    for combo_id, component_id, qty in rows:
        found[combo_id].append((component_id, qty))
    return found


def _balances(
    goods_ids: set[int], warehouse_ids: list[int]
) -> dict[tuple[int, int], tuple[int, int, int]]:
    """(on hand, frozen, reserved) per (goods, warehouse)."""
    found: dict[tuple[int, int], tuple[int, int, int]] = {}
    if not warehouse_ids or not goods_ids:
        return found
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT goods_id, warehouse_id, SUM(on_hand), SUM(frozen), SUM(reserved) "  # noqa: S608
                f"FROM {StockBalance._meta.db_table} "
                "WHERE goods_id = ANY(%s) AND warehouse_id = ANY(%s) "
                "GROUP BY goods_id, warehouse_id",
                [sorted(goods_ids), warehouse_ids],
            )
            for goods_id, wh, on_hand, frozen, reserved in cursor.fetchall():
                found[(goods_id, wh)] = (on_hand or 0, frozen or 0, reserved or 0)
        return found
    rows = (
        StockBalance.objects.filter(goods_id__in=list(goods_ids), warehouse_id__in=warehouse_ids)
        .values("goods_id", "warehouse_id")
        .annotate(on_hand=Sum("on_hand"), frozen=Sum("frozen"), reserved=Sum("reserved"))
    )
    for r in rows:
        found[(r["goods_id"], r["warehouse_id"])] = (
            r["on_hand"] or 0,
            r["frozen"] or 0,
            r["reserved"] or 0,
        )
    return found


def listing_sellable(
    shop: Shop, listings: list[Listing], *, state: BindingState | None = None
) -> dict[int, Sellable]:
    """Sellable quantity and its inputs for each matched listing of ``shop`` (unmatched are
    left out). ``state`` computes with proposed bindings instead of the stored ones (preview).
    Four queries whatever the number of listings."""
    state = state or binding_state(shop)
    matched = [row for row in listings if row.goods_id]
    if not matched:
        return {}
    warehouse_ids = [w for w, _p in state.warehouses]
    goods_ids = {row.goods_id for row in matched}
    components = _components(goods_ids)
    all_goods = goods_ids | {c for parts in components.values() for c, _q in parts}
    by_goods_wh = _balances(all_goods, warehouse_ids)
    goods_rule: dict[tuple[int, int], tuple[str, int | None]] = {}
    listing_rule: dict[tuple[int, int], tuple[str, int | None]] = {}
    for wh, goods_id, listing_id, mode, allotment in state.exceptions:
        if goods_id is not None:
            goods_rule[(wh, goods_id)] = (mode, allotment)
        elif listing_id is not None:
            listing_rule[(wh, listing_id)] = (mode, allotment)
    share = shop.share_percent
    safety = shop.safety_stock

    def over_warehouses(goods_id: int, listing_id: int) -> tuple[int, list[dict]]:
        total = 0
        detail = []
        for wh, priority in sorted(state.warehouses, key=lambda w: (w[1], w[0])):
            on_hand, frozen, reserved = by_goods_wh.get((goods_id, wh), (0, 0, 0))
            available = max(0, on_hand - frozen - reserved)
            mode, allotment = listing_rule.get((wh, listing_id)) or goods_rule.get(
                (wh, goods_id), ("bound", None)
            )
            if mode == BindingException.Mode.UNBOUND:
                counted = 0
            elif mode == BindingException.Mode.ALLOTMENT:
                counted = min(available, allotment or 0)
            else:
                counted = available
            total += counted
            detail.append(
                {
                    "warehouse_id": wh,
                    "priority": priority,
                    "on_hand": on_hand,
                    "frozen": frozen,
                    "reserved": reserved,
                    "available": available,
                    "rule": mode if mode != "allotment" else f"allotment:{allotment}",
                    "counted": counted,
                }
            )
        return total, detail

    result: dict[int, Sellable] = {}
    for row in matched:
        parts = components.get(row.goods_id)
        inputs: dict = {"share_percent": share, "safety_stock": safety}
        if parts:
            totals = []
            inputs["components"] = []
            for component_id, qty in parts:
                total, detail = over_warehouses(component_id, row.pk)
                totals.append(total // qty)
                inputs["components"].append(
                    {
                        "goods_id": component_id,
                        "per_combo": qty,
                        "total": total,
                        "warehouses": detail,
                    }
                )
            base = min(totals) if totals else 0
        else:
            base, inputs["warehouses"] = over_warehouses(row.goods_id, row.pk)
        inputs["available_total"] = base
        quantity = max(0, (base * share) // 100 - safety)
        result[row.pk] = Sellable(
            listing_id=row.pk, goods_id=row.goods_id, quantity=quantity, inputs=inputs
        )
    return result


def listings_for_goods(shop: Shop, goods_ids: Iterable[int]) -> list[Listing]:
    """Matched, live listings of ``shop`` selling the goods or a combo made of them."""
    goods = list(set(goods_ids))
    combos = list(
        ComboComponent.objects.filter(component_id__in=goods).values_list("combo_id", flat=True)
    )
    return list(
        Listing.objects.filter(shop=shop, goods_id__in=goods + combos)
        .exclude(status=Listing.Status.DELETED)
        .order_by("pk")
    )


def shop_list(user) -> list[Shop]:
    """Shops with their listing, unmatched and failed-push counts."""
    return list(
        Shop.objects.annotate(
            listing_count=Count("listings", distinct=True),
            unmatched_count=Count(
                "listings",
                filter=Q(listings__goods__isnull=True) & ~Q(listings__status="deleted"),
                distinct=True,
            ),
        ).order_by("name")
    )


def sync_failures_recent(user, *, hours: int = 24) -> int:
    """Failed pushes in the last ``hours`` whose listing has not been pushed successfully since
    (the home page's count)."""
    from datetime import timedelta

    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    since = timezone.now() - timedelta(hours=hours)
    later_success = SyncRecord.objects.filter(
        listing_id=OuterRef("listing_id"), status="success", pk__gt=OuterRef("pk")
    )
    return (
        SyncRecord.objects.filter(status="failure", created_at__gte=since)
        .exclude(Exists(later_success))
        .values("listing_id")
        .distinct()
        .count()
    )


def binding_change_list(shop: Shop) -> list[BindingChange]:
    return list(
        BindingChange.objects.filter(shop=shop).select_related("requested_by", "confirmed_by")
    )
