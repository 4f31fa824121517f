"""Reads of the channels app: the sellable quantity per listing, shops, listings, the sync log.

Sellable quantity of a listing (ARCHITECTURE.md §3, issue 11):
  available (on hand - frozen - reserved) summed over the shop's bound warehouses, where a
  goods (or listing) exception either leaves a warehouse out (unbound) or counts at most its
  fixed allotment there; combos, per warehouse: min over the goods inside (at any depth) of
  floor(units there / units per combo), the combo's (or listing's) exception applied to that
  count in combo units (see ``listing_sellable``); then floor(total x share%) - safety stock,
  floored at 0.
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


#: Nesting deeper than this is not followed (the combo editor refuses loops; this only bounds a
#: loop written to the table by hand).
MAX_COMBO_DEPTH = 32

_RECIPES_PG = f"""
WITH RECURSIVE tree(root, node, qty, depth) AS (
    SELECT combo_id, component_id, quantity::bigint, 1
    FROM {ComboComponent._meta.db_table} WHERE combo_id = ANY(%s)
  UNION ALL
    SELECT t.root, c.component_id, t.qty * c.quantity, t.depth + 1
    FROM tree t JOIN {ComboComponent._meta.db_table} c ON c.combo_id = t.node
    WHERE t.depth < {MAX_COMBO_DEPTH}
)
SELECT root, node, SUM(qty), NOT EXISTS (
    SELECT 1 FROM {ComboComponent._meta.db_table} x WHERE x.combo_id = tree.node)
FROM tree GROUP BY root, node ORDER BY root, node
"""  # noqa: S608 - table names


def _recipes(goods_ids: Iterable[int]) -> dict[int, list[tuple[int, int, bool]]]:
    """Per combo among ``goods_ids``, every goods inside it at any depth: ``(goods_id, units per
    combo, is_leaf)``. Units multiply down the levels (a case of 4 dozens of 12 cans holds 48
    cans and 4 dozens) and add up over paths (a case of 4 dozens and 2 loose cans holds 50
    cans); leaves hold the stock, inner combos only carry their own binding rules. One query on
    PostgreSQL whatever the number of goods or the depth."""
    found: dict[int, list[tuple[int, int, bool]]] = defaultdict(list)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_RECIPES_PG, [sorted(goods_ids)])
            for root, node, qty, is_leaf in cursor.fetchall():
                found[root].append((node, int(qty), bool(is_leaf)))
        return found
    # SQLite (a laptop): one query per level of nesting.
    edges: dict[int, list[tuple[int, int]]] = {}
    frontier = set(goods_ids)
    for _level in range(MAX_COMBO_DEPTH):
        if not frontier:
            break
        rows = ComboComponent.objects.filter(combo_id__in=sorted(frontier)).values_list(
            "combo_id", "component_id", "quantity"
        )
        for combo_id in frontier:
            edges.setdefault(combo_id, [])
        for combo_id, component_id, qty in rows:
            edges[combo_id].append((component_id, qty))
        frontier = {c for parts in edges.values() for c, _q in parts} - set(edges)
    for root in goods_ids:
        units: dict[int, int] = defaultdict(int)
        stack = [(c, q, 1) for c, q in edges.get(root, [])]
        while stack:
            node, qty, depth = stack.pop()
            units[node] += qty
            if depth < MAX_COMBO_DEPTH:
                stack.extend((c, qty * q, depth + 1) for c, q in edges.get(node, []))
        found[root] = [(node, qty, not edges.get(node)) for node, qty in sorted(units.items())]
        if not found[root]:
            del found[root]
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
    Four queries whatever the number of listings (on PostgreSQL, whatever the combos' depth).

    Plain goods: per bound warehouse, available units, unless the listing's exception (else the
    goods' exception) there leaves the warehouse out (unbound) or caps it (allotment).

    Combos, in combo units and per warehouse (a combo ships from one warehouse): the minimum
    over the goods inside it (at any depth) of floor(units there / units per combo). The
    listing's exception, else the combo goods' own, applies to that count: unbound counts 0, an
    allotment of 5 counts at most 5 combos. The exceptions of the goods inside apply too, as
    they would to their own listings: a component (or inner combo) unbound from a warehouse for
    this shop leaves the combo nothing there; a component's allotment caps its units there; an
    inner combo's allotment caps the outer combo at floor(allotment / inner combos per combo).
    ``inputs`` records, per component and warehouse, the units and the rule, and per warehouse
    the combo count and the combo's own rule (``combo_warehouses``)."""
    state = state or binding_state(shop)
    matched = [row for row in listings if row.goods_id]
    if not matched:
        return {}
    warehouses = sorted(state.warehouses, key=lambda w: (w[1], w[0]))
    warehouse_ids = [w for w, _p in state.warehouses]
    goods_ids = {row.goods_id for row in matched}
    recipes = _recipes(goods_ids)
    all_goods = goods_ids | {n for nodes in recipes.values() for n, _q, leaf in nodes if leaf}
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
    bound = ("bound", None)  # no exception: the warehouse counts in full

    def rule_label(mode: str, allotment: int | None) -> str:
        return mode if mode != BindingException.Mode.ALLOTMENT else f"allotment:{allotment}"

    def apply_rule(mode: str, allotment: int | None, units: int) -> int:
        if mode == BindingException.Mode.UNBOUND:
            return 0
        if mode == BindingException.Mode.ALLOTMENT:
            return min(units, allotment or 0)
        return units

    def stock(goods_id: int, wh: int) -> dict:
        on_hand, frozen, reserved = by_goods_wh.get((goods_id, wh), (0, 0, 0))
        return {
            "on_hand": on_hand,
            "frozen": frozen,
            "reserved": reserved,
            "available": max(0, on_hand - frozen - reserved),
        }

    def over_warehouses(goods_id: int, listing_id: int) -> tuple[int, list[dict]]:
        total = 0
        detail = []
        for wh, priority in warehouses:
            units = stock(goods_id, wh)
            mode, allotment = listing_rule.get((wh, listing_id)) or goods_rule.get(
                (wh, goods_id), bound
            )
            counted = apply_rule(mode, allotment, units["available"])
            total += counted
            detail.append(
                {
                    "warehouse_id": wh,
                    "priority": priority,
                    **units,
                    "rule": rule_label(mode, allotment),
                    "counted": counted,
                }
            )
        return total, detail

    def combo_over_warehouses(
        combo_id: int, listing_id: int, nodes: list[tuple[int, int, bool]]
    ) -> tuple[int, list[dict], list[dict]]:
        total = 0
        per_warehouse = []
        parts = {
            node: {
                "goods_id": node,
                "per_combo": qty,
                "is_combo": not is_leaf,  # an inner combo: listed for its own rule only
                "total": 0,
                "warehouses": [],
            }
            for node, qty, is_leaf in nodes
            if is_leaf or any((wh, node) in goods_rule for wh in warehouse_ids)
        }
        for wh, priority in warehouses:
            combos = None
            for node, per_combo, is_leaf in nodes:
                mode, allotment = goods_rule.get((wh, node), bound)
                if is_leaf:
                    units = stock(node, wh)
                    counted = apply_rule(mode, allotment, units["available"])
                elif mode == "bound":
                    continue  # an inner combo holds no stock; its leaves count
                else:
                    units = {"on_hand": 0, "frozen": 0, "reserved": 0, "available": 0}
                    counted = 0 if mode == BindingException.Mode.UNBOUND else allotment or 0
                node_combos = counted // per_combo
                combos = node_combos if combos is None else min(combos, node_combos)
                parts[node]["total"] += counted
                parts[node]["warehouses"].append(
                    {
                        "warehouse_id": wh,
                        "priority": priority,
                        **units,
                        "rule": rule_label(mode, allotment),
                        "counted": counted,
                        "combos": node_combos,
                    }
                )
            combos = combos or 0
            rule_of = "listing" if (wh, listing_id) in listing_rule else "goods"
            mode, allotment = listing_rule.get((wh, listing_id)) or goods_rule.get(
                (wh, combo_id), bound
            )
            counted = apply_rule(mode, allotment, combos)
            total += counted
            per_warehouse.append(
                {
                    "warehouse_id": wh,
                    "priority": priority,
                    "combos": combos,
                    "rule": rule_label(mode, allotment),
                    "rule_of": rule_of if mode != "bound" else "",
                    "counted": counted,
                }
            )
        return total, list(parts.values()), per_warehouse

    result: dict[int, Sellable] = {}
    for row in matched:
        nodes = recipes.get(row.goods_id)
        inputs: dict = {"share_percent": share, "safety_stock": safety}
        if nodes:
            base, inputs["components"], inputs["combo_warehouses"] = combo_over_warehouses(
                row.goods_id, row.pk, nodes
            )
        else:
            base, inputs["warehouses"] = over_warehouses(row.goods_id, row.pk)
        inputs["available_total"] = base
        quantity = max(0, (base * share) // 100 - safety)
        result[row.pk] = Sellable(
            listing_id=row.pk, goods_id=row.goods_id, quantity=quantity, inputs=inputs
        )
    return result


def combos_containing(goods_ids: Iterable[int]) -> set[int]:
    """``goods_ids`` and every combo containing one of them, directly or through other combos
    (one query per level of nesting; the combo editor refuses loops)."""
    found = {int(g) for g in goods_ids}
    frontier = set(found)
    while frontier:
        parents = set(
            ComboComponent.objects.filter(component_id__in=sorted(frontier)).values_list(
                "combo_id", flat=True
            )
        )
        frontier = parents - found
        found |= frontier
    return found


def listings_for_goods(shop: Shop, goods_ids: Iterable[int]) -> list[Listing]:
    """Matched, live listings of ``shop`` selling the goods or a combo made of them, at any
    depth (a can's stock moves the dozen and the case of 4 dozens). One query per level of
    nesting above the goods, one for the listings."""
    goods = sorted(combos_containing(goods_ids))
    return list(
        Listing.objects.filter(shop=shop, goods_id__in=goods)
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
