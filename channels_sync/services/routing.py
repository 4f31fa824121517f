"""Routing a pulled order to a warehouse and reserving its stock (订单路由).

``order_route(order=..., context=...)`` — contract:
- Candidates are the warehouses bound to the order's shop (``Binding``), minus, per goods, the
  warehouses the goods is unbound from (``BindingException`` UNBOUND). Orders already routed
  keep their warehouse; only new routing reads the bindings.
- The chosen warehouse is the nearest to the shipping address that can fill the WHOLE order
  (great-circle distance from the warehouse's coordinates to the postcode's centroid in
  ``data/postcode_centroids.csv``, longest prefix wins), then by binding priority. A warehouse
  or a destination without coordinates sorts after those with a distance.
- When none can fill it: with the shop's ``when_short = split`` every goods is taken from the
  nearest warehouses in turn (the order becomes ``is_split``), else (or when even all together
  cannot) the order is SHORT and nothing is reserved.
- Reserving is one ledger posting (``inventory.ledger.reserve``, first-expiry-first-out over the
  warehouse's balances) with the idempotency key ``order-reserve:<order>:<route version>``, so
  a rerun after a crash never reserves twice; the units held are stored as
  ``OrderAllocation`` rows in the same transaction. The stock push sees the reservation at
  once (the ledger hook marks the goods dirty in the posting's transaction).
- A constant number of queries per order whatever its number of lines (combos expanded to
  their components in one query, balances in one query).
Must run inside the caller's transaction with the order row locked.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_sync.models import (
    Binding,
    BindingException,
    Order,
    OrderAllocation,
    OrderEvent,
    ShopOrderSettings,
)
from inventory import ledger
from inventory.exceptions import InsufficientStock
from inventory.models import ComboComponent, StockBalance

CENTROIDS = Path(__file__).resolve().parent.parent / "data" / "postcode_centroids.csv"
DOCUMENT_TYPE = "shop_order"


@cache
def _centroids() -> dict[str, list[tuple[str, float, float]]]:
    table: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    with CENTROIDS.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            table[row["country"]].append(
                (row["prefix"], float(row["latitude"]), float(row["longitude"]))
            )
    for rows in table.values():
        rows.sort(key=lambda r: -len(r[0]))
    return dict(table)


def postcode_point(country: str, postcode: str) -> tuple[float, float] | None:
    """The centroid of the longest known prefix of ``postcode`` in ``country``, or None."""
    code = (postcode or "").strip().replace(" ", "")
    for prefix, lat, lon in _centroids().get((country or "").upper(), []):
        if code.startswith(prefix):
            return lat, lon
    return None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


@dataclass
class RoutingContext:
    """A shop's bindings for routing, read once per pull (two queries)."""

    shop_id: int
    warehouses: list[tuple[int, int, tuple[float, float] | None]]  # id, priority, point
    unbound: set[tuple[int, int]]  # (warehouse, goods)
    when_short: str


def routing_context(shop) -> RoutingContext:
    rows = Binding.objects.filter(shop=shop).values_list(
        "warehouse_id", "priority", "warehouse__latitude", "warehouse__longitude"
    )
    warehouses = [
        (wh, prio, (float(lat), float(lon)) if lat is not None else None)
        for wh, prio, lat, lon in rows
    ]
    unbound = set(
        BindingException.objects.filter(
            shop=shop, mode=BindingException.Mode.UNBOUND, goods__isnull=False
        ).values_list("warehouse_id", "goods_id")
    )
    settings_row = getattr(shop, "_order_settings_cache", None)
    if settings_row is None:
        settings_row = ShopOrderSettings.objects.filter(shop=shop).first()
    when_short = settings_row.when_short if settings_row else ShopOrderSettings.WhenShort.SHORT
    return RoutingContext(shop.pk, warehouses, unbound, when_short)


def _needs(lines) -> tuple[dict[int, int], list[str]]:
    """Units per stocked goods (combos expanded), and the lines that cannot be routed."""
    problems = []
    direct: dict[int, int] = defaultdict(int)
    for line in lines:
        if line.goods_id is None:
            problems.append(
                _("Line %(sku)s is not linked to goods: link its listing on the matching screen.")
                % {"sku": line.sku or line.line_ref}
            )
        elif line.quantity:
            direct[line.goods_id] += line.quantity
    parts: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for combo, component, qty in ComboComponent.objects.filter(
        combo_id__in=list(direct)
    ).values_list("combo_id", "component_id", "quantity"):
        parts[combo].append((component, qty))
    needs: dict[int, int] = defaultdict(int)
    for goods_id, qty in direct.items():
        if goods_id in parts:
            for component, per in parts[goods_id]:
                needs[component] += qty * per
        else:
            needs[goods_id] += qty
    return dict(needs), problems


def _stock(needs: dict[int, int], warehouse_ids: list[int]):
    """(warehouse, goods) -> [(balance id, available)] first-expiry-first-out. One query."""
    found: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    if not needs or not warehouse_ids:
        return found
    rows = (
        StockBalance.objects.filter(goods_id__in=list(needs), warehouse_id__in=warehouse_ids)
        .annotate(free=F("on_hand") - F("frozen") - F("reserved"))
        .filter(free__gt=0)
        .order_by(F("batch__expiry_date").asc(nulls_last=True), "pk")
        .values_list("pk", "warehouse_id", "goods_id", "free")
    )
    for pk, wh, goods_id, free in rows:
        found[(wh, goods_id)].append((pk, free))
    return found


def _take(balances: list[tuple[int, int]], quantity: int) -> list[tuple[int, int]]:
    holds = []
    for pk, free in balances:
        if quantity <= 0:
            break
        n = min(free, quantity)
        holds.append((pk, n))
        quantity -= n
    return holds


def _plan(order: Order, needs: dict[int, int], context: RoutingContext):
    """(holds [(balance, warehouse, goods, qty)], complete_from_one, primary warehouse) or None."""
    ids = [wh for wh, _p, _pt in context.warehouses]
    stock = _stock(needs, ids)
    destination = postcode_point(order.country, order.postcode)

    def rank(entry):
        wh, prio, point = entry
        far = distance_km(point, destination) if point and destination else math.inf
        return (far, prio, wh)

    ordered = sorted(context.warehouses, key=rank)

    def free(wh: int, goods_id: int) -> int:
        if (wh, goods_id) in context.unbound:
            return 0
        return sum(f for _pk, f in stock.get((wh, goods_id), []))

    for wh, _prio, _point in ordered:
        if all(free(wh, g) >= q for g, q in needs.items()):
            holds = [
                (pk, wh, g, n)
                for g, q in sorted(needs.items())
                for pk, n in _take(stock[(wh, g)], q)
            ]
            return holds, True, wh
    if context.when_short != ShopOrderSettings.WhenShort.SPLIT:
        return None
    holds = []
    for g, q in sorted(needs.items()):
        left = q
        for wh, _prio, _point in ordered:
            if left <= 0:
                break
            if (wh, g) in context.unbound:
                continue
            for pk, n in _take(stock.get((wh, g), []), left):
                holds.append((pk, wh, g, n))
                left -= n
        if left > 0:
            return None
    return holds, False, holds[0][1] if holds else None


def order_route(*, order: Order, lines, context: RoutingContext, attempts: int = 2) -> str:
    """Reserve ``order`` (PENDING or SHORT, row locked by the caller) in the best warehouse;
    returns the new status (RESERVED or SHORT). Raises nothing for a shortage: it is a state."""
    needs, problems = _needs(lines)
    now = timezone.now()
    plan = None
    if not problems and needs:
        for _attempt in range(attempts):
            plan = _plan(order, needs, context)
            if plan is None:
                break
            holds, complete, primary = plan
            try:
                ledger.reserve(
                    holds=[ledger.Hold(balance_id=pk, quantity=n) for pk, _wh, _g, n in holds],
                    document=ledger.Document(type=DOCUMENT_TYPE, id=order.pk, ref=order.name),
                    reason="order",
                    idempotency_key=f"order-reserve:{order.pk}:{order.route_version + 1}",
                )
            except InsufficientStock:
                plan = None  # another posting took it between our read and the lock: re-read
                continue
            break
    if plan is None:
        message = " ".join(problems) or _("No bound warehouse has enough stock for this order.")
        Order.objects.filter(pk=order.pk).update(
            status=Order.Status.SHORT, was_short=True, message=message, routed_at=now
        )
        if order.status != Order.Status.SHORT:
            OrderEvent.objects.create(order=order, kind=OrderEvent.Kind.SHORT, message=message)
        order.status = Order.Status.SHORT
        return order.status
    holds, complete, primary = plan
    OrderAllocation.objects.bulk_create(
        [
            OrderAllocation(order=order, balance_id=pk, warehouse_id=wh, goods_id=g, quantity=n)
            for pk, wh, g, n in holds
        ]
    )
    order.route_version += 1
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.RESERVED,
        warehouse_id=primary,
        is_split=not complete,
        filled_complete=complete and not order.was_short,
        route_version=order.route_version,
        routed_at=now,
        message="",
    )
    order.status = Order.Status.RESERVED
    order.warehouse_id = primary
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.ROUTED,
        data={"warehouse": primary, "split": not complete, "units": sum(h[3] for h in holds)},
    )
    return order.status


def order_release(*, order: Order, reason: str) -> None:
    """Give back everything ``order`` holds (its allocations) in one ledger posting and forget
    the allocations; the order row must be locked by the caller."""
    allocations = list(OrderAllocation.objects.filter(order=order).order_by("pk"))
    if not allocations:
        return
    ledger.unreserve(
        holds=[ledger.Hold(balance_id=a.balance_id, quantity=a.quantity) for a in allocations],
        document=ledger.Document(type=DOCUMENT_TYPE, id=order.pk, ref=order.name),
        reason=reason[:200],
        idempotency_key=f"order-release:{order.pk}:{order.route_version}",
    )
    OrderAllocation.objects.filter(order=order).delete()
    OrderEvent.objects.create(order=order, kind=OrderEvent.Kind.RELEASED, message=reason)
