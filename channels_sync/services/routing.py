"""Routing a pulled order to a warehouse and reserving its stock (订单路由).

``orders_route(orders=..., lines=..., context=...)`` routes a batch (a pull's page, the short
orders being retried); ``order_route`` is a batch of one. Contract:
- Candidates are the warehouses bound to the order's shop (``Binding``), minus, per goods, the
  warehouses the goods is unbound from (``BindingException`` UNBOUND). Orders already routed
  keep their warehouse; only new routing reads the bindings.
- The chosen warehouse is the nearest to the shipping address that can fill the WHOLE order
  (great-circle distance from the warehouse's coordinates to the postcode's centroid in
  ``data/postcode_centroids.csv``, longest prefix wins; computed in memory, once per
  destination of the batch), then by binding priority. A warehouse or a destination without
  coordinates sorts after those with a distance.
- An order with nothing left to ship (every line's quantity removed or refunded) reserves
  nothing and is CANCELLED, not SHORT.
- When none can fill it: with the shop's ``when_short = split`` every goods is taken from the
  nearest warehouses in turn (the order becomes ``is_split``), else (or when even all together
  cannot) the order is SHORT and nothing is reserved.
- Reserving is ONE ledger posting for the whole batch (``inventory.ledger.reserve_many``): the
  candidate balances are locked in primary-key order in one statement and the orders planned,
  one after the other, on the quantities read under those locks (first-expiry-first-out within
  a warehouse), so a plan never fails for stock another posting took meanwhile. Each order is
  its own document with the idempotency key ``order-reserve:<order>:<route version>``, so a
  rerun after a crash never reserves twice; the units held are stored as ``OrderAllocation``
  rows in the same transaction. The stock push sees the reservation at once (the ledger hook
  marks the goods dirty in the posting's transaction).
- A constant number of queries per batch whatever its number of orders and lines (combos
  expanded in one query, candidate balances in one, the posting's lock, balance write and
  movement insert one each, allocations one insert, the orders one update).
Must run inside the caller's transaction with the order rows locked.
"""

from __future__ import annotations

import csv
import datetime
import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.db import connection
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
from inventory.models import ComboComponent

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
    """A shop's bindings for routing, read once per pull (two queries), and the combos'
    components of the goods its orders named so far (read once per goods and pull)."""

    shop_id: int
    warehouses: list[tuple[int, int, tuple[float, float] | None]]  # id, priority, point
    unbound: set[tuple[int, int]]  # (warehouse, goods)
    when_short: str
    parts: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # goods -> components

    def components(self, goods_ids: set[int]) -> dict[int, list[tuple[int, int]]]:
        """``{goods: [(component, quantity)]}`` (empty for a plain goods); one query for the
        goods not seen before in this context, none when all were."""
        unseen = sorted(goods_ids - self.parts.keys())
        if unseen:
            for g in unseen:
                self.parts[g] = []
            for combo, component, qty in ComboComponent.objects.filter(
                combo_id__in=unseen
            ).values_list("combo_id", "component_id", "quantity"):
                self.parts[combo].append((component, qty))
        return self.parts


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


def _needs_many(
    lines_by_order: Mapping[int, Sequence], context: RoutingContext | None
) -> dict[int, tuple[dict[int, int], list[str]]]:
    """Per order: units per stocked goods (combos expanded) and the lines that cannot be
    routed. At most one query (the combos' components) for all the orders."""
    direct: dict[int, dict[int, int]] = {}
    problems: dict[int, list[str]] = {}
    for order_id, lines in lines_by_order.items():
        wanted: dict[int, int] = defaultdict(int)
        missing = []
        for line in lines:
            if not line.quantity:
                continue  # removed or refunded on the platform: nothing to ship, nothing to link
            if line.goods_id is None:
                missing.append(
                    _(
                        "Line %(sku)s is not linked to goods: link its listing on the "
                        "matching screen."
                    )
                    % {"sku": line.sku or line.line_ref}
                )
            else:
                wanted[line.goods_id] += line.quantity
        direct[order_id] = wanted
        problems[order_id] = missing
    goods = {g for wanted in direct.values() for g in wanted}
    if context is None:
        context = RoutingContext(0, [], set(), ShopOrderSettings.WhenShort.SHORT)
    parts = context.components(goods) if goods else {}
    out = {}
    for order_id, wanted in direct.items():
        needs: dict[int, int] = defaultdict(int)
        for goods_id, qty in wanted.items():
            if parts.get(goods_id):
                for component, per in parts[goods_id]:
                    needs[component] += qty * per
            else:
                needs[goods_id] += qty
        out[order_id] = (dict(needs), problems[order_id])
    return out


def _take(balances: list[tuple[int, int]], quantity: int) -> list[tuple[int, int]]:
    holds = []
    for pk, free in balances:
        if quantity <= 0:
            break
        n = min(free, quantity)
        holds.append((pk, n))
        quantity -= n
    return holds


@dataclass
class Planner:
    """Plans the orders of one batch on the quantities the ledger read under its locks (called
    by ``ledger.reserve_many``), each order taking from what the previous ones left."""

    context: RoutingContext
    orders: list[Order]
    needs: dict[int, dict[int, int]]
    plans: dict[int, tuple[list[tuple[int, int, int, int]], bool, int | None]] = field(
        default_factory=dict
    )

    def ranked(self, order: Order) -> list[int]:
        destination = postcode_point(order.country, order.postcode)

        def rank(entry):
            wh, prio, point = entry
            far = distance_km(point, destination) if point and destination else math.inf
            return (far, prio, wh)

        return [wh for wh, _prio, _point in sorted(self.context.warehouses, key=rank)]

    def __call__(
        self, available: dict[int, int], balances: dict[int, ledger.BalanceInfo]
    ) -> list[ledger.DocumentHolds]:
        out = []
        unbound = self.context.unbound
        bound = {wh for wh, _prio, _point in self.context.warehouses}
        far = datetime.date.max
        candidates: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for pk, info in sorted(
            balances.items(),
            key=lambda kv: (kv[1].expiry_date is None, kv[1].expiry_date or far, kv[0]),
        ):
            if info.warehouse_id in bound and (info.warehouse_id, info.goods_id) not in unbound:
                candidates[info.goods_id].append((pk, info.warehouse_id))
        rankings: dict[tuple[str, str], list[int]] = {}
        for order in self.orders:
            needs = self.needs.get(order.pk)
            if not needs:
                continue
            stock: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
            for goods_id in needs:
                for pk, wh in candidates.get(goods_id, ()):
                    if available[pk] > 0:
                        stock[(wh, goods_id)].append((pk, available[pk]))
            where = (order.country, order.postcode)
            if where not in rankings:
                rankings[where] = self.ranked(order)
            plan = _plan(needs, rankings[where], stock, self.context.when_short)
            if plan is None:
                continue
            holds, _complete, _primary = plan
            for pk, _wh, _g, n in holds:
                available[pk] -= n
            self.plans[order.pk] = plan
            out.append(
                ledger.DocumentHolds(
                    document=ledger.Document(type=DOCUMENT_TYPE, id=order.pk, ref=order.name),
                    holds=tuple(ledger.Hold(balance_id=pk, quantity=n) for pk, _w, _g, n in holds),
                    idempotency_key=f"order-reserve:{order.pk}:{order.route_version + 1}",
                    reason="order",
                )
            )
        return out


def _plan(needs: dict[int, int], ordered: list[int], stock, when_short: str):
    """(holds [(balance, warehouse, goods, qty)], complete_from_one, primary warehouse) or None:
    the nearest warehouse (``ordered``) that can fill the whole order, else split when the shop
    says so and all of them together can."""

    def free(wh: int, goods_id: int) -> int:
        return sum(f for _pk, f in stock.get((wh, goods_id), ()))

    for wh in ordered:
        if all(free(wh, g) >= q for g, q in needs.items()):
            holds = [
                (pk, wh, g, n)
                for g, q in sorted(needs.items())
                for pk, n in _take(stock[(wh, g)], q)
            ]
            return holds, True, wh
    if when_short != ShopOrderSettings.WhenShort.SPLIT:
        return None
    holds = []
    for g, q in sorted(needs.items()):
        left = q
        for wh in ordered:
            if left <= 0:
                break
            for pk, n in _take(stock.get((wh, g), []), left):
                holds.append((pk, wh, g, n))
                left -= n
        if left > 0:
            return None
    return holds, False, holds[0][1] if holds else None


@dataclass
class RouteResult:
    """What ``orders_route`` did: the new status per order id, and the history rows it wrote
    (the caller's included)."""

    statuses: dict[int, str] = field(default_factory=dict)
    events: list[OrderEvent] = field(default_factory=list)


def orders_route(
    *,
    orders: Sequence[Order],
    lines: Mapping[int, Sequence],
    context: RoutingContext | None,
    release: Sequence[tuple[Order, str]] = (),
    batch_ref: str = "",
    history: Sequence[OrderEvent] = (),
) -> RouteResult:
    """Route many orders (PENDING or SHORT, rows locked by the caller) in one ledger posting,
    first releasing what the orders in ``release`` hold (``(order, reason)``: cancelled or
    edited ones; an order may be in both lists: released, then routed again with its new
    ``lines``).

    One ``ledger.reserve_many``: the candidate balances and the released ones are locked in
    primary-key order in one statement, then each order, in the order given, takes the nearest
    bound warehouse that can fill it whole from what the earlier ones left (or is split, or
    SHORT: nothing reserved, a message). Each order's reservation is its own document with the
    key ``order-reserve:<order>:<route version>``; a release is keyed
    ``order-release:<order>:<route version>``. Then ONE statement (on PostgreSQL) forgets the
    released allocations, stores the new ones, writes the routed orders and inserts the
    history: the routing's rows (released, routed, short) with the caller's ``history`` (its
    pulled/updated/cancelled rows), in the order things happened. A constant number of queries whatever the number of orders and
    lines. ``context`` may be None when only releasing. Raises what the ledger raises (the
    caller's transaction must roll back)."""
    result = RouteResult()
    now = timezone.now()
    orders = list(orders)
    needs_of = _needs_many({o.pk: lines.get(o.pk, ()) for o in orders}, context) if orders else {}
    allocations = (
        list(
            OrderAllocation.objects.filter(order_id__in=[o.pk for o, _r in release]).order_by(
                "order_id", "pk"
            )
        )
        if release
        else []
    )
    held: dict[int, list[OrderAllocation]] = defaultdict(list)
    for allocation in allocations:
        held[allocation.order_id].append(allocation)
    releases = [
        ledger.DocumentHolds(
            document=ledger.Document(type=DOCUMENT_TYPE, id=o.pk, ref=o.name),
            holds=tuple(
                ledger.Hold(balance_id=a.balance_id, quantity=a.quantity) for a in held[o.pk]
            ),
            idempotency_key=f"order-release:{o.pk}:{o.route_version}",
            reason=reason[:200],
        )
        for o, reason in release
        if held[o.pk]
    ]
    wanted = sorted({g for needs, problems in needs_of.values() if not problems for g in needs})
    planner = Planner(
        context=context,
        orders=orders,
        needs={pk: needs for pk, (needs, problems) in needs_of.items() if not problems},
    )
    if releases or wanted:
        ledger.reserve_many(
            goods_ids=wanted,
            warehouse_ids=[wh for wh, _p, _pt in context.warehouses] if context else [],
            releases=releases,
            plan=planner,
            document=ledger.Document(type=DOCUMENT_TYPE, ref=batch_ref[:40]),
        )
    if allocations:
        for o, reason in release:
            if held[o.pk]:
                result.events.append(
                    OrderEvent(order=o, kind=OrderEvent.Kind.RELEASED, message=reason)
                )
    new_allocations = []
    changed = []
    for order in orders:
        plan = planner.plans.get(order.pk)
        if plan is None and not any(needs_of[order.pk]):
            # every line removed or refunded on the platform: nothing to reserve or ship, so
            # not SHORT (never re-routed, not a short order); the routing time is left as is
            order.status = Order.Status.CANCELLED
            order.message = _("Nothing left to ship: every line was removed or refunded.")
            result.events.append(
                OrderEvent(order=order, kind=OrderEvent.Kind.CANCELLED, message=order.message)
            )
            result.statuses[order.pk] = order.status
            changed.append(order)
            continue
        if plan is None:
            needs, problems = needs_of[order.pk]
            message = " ".join(problems) or _("No bound warehouse has enough stock for this order.")
            if order.status != Order.Status.SHORT:
                result.events.append(
                    OrderEvent(order=order, kind=OrderEvent.Kind.SHORT, message=message)
                )
            order.status = Order.Status.SHORT
            order.was_short = True
            order.message = message
        else:
            holds, complete, primary = plan
            new_allocations.extend(
                OrderAllocation(order=order, balance_id=pk, warehouse_id=wh, goods_id=g, quantity=n)
                for pk, wh, g, n in holds
            )
            order.route_version += 1
            order.status = Order.Status.RESERVED
            order.warehouse_id = primary
            order.is_split = not complete
            order.filled_complete = complete and not order.was_short
            order.message = ""
            result.events.append(
                OrderEvent(
                    order=order,
                    kind=OrderEvent.Kind.ROUTED,
                    data={
                        "warehouse": primary,
                        "split": not complete,
                        "units": sum(h[3] for h in holds),
                    },
                )
            )
        order.routed_at = now
        result.statuses[order.pk] = order.status
        changed.append(order)
    result.events = history_order([*(history or ()), *result.events])
    _write_routing([a.pk for a in allocations], new_allocations, changed, result.events, now)
    return result


# History of one order in the order things happen, whichever step wrote the row.
HISTORY_RANK = {
    OrderEvent.Kind.PULLED: 0,
    OrderEvent.Kind.UPDATED: 0,
    OrderEvent.Kind.RELEASED: 1,
    OrderEvent.Kind.CANCELLED: 3,
}


def history_order(events: list[OrderEvent]) -> list[OrderEvent]:
    """``events`` by order, then pulled/updated, released, routed or short, cancelled."""
    return sorted(events, key=lambda e: (e.order_id, HISTORY_RANK.get(e.kind, 2)))


ROUTE_FIELDS = (
    "status",
    "warehouse_id",
    "is_split",
    "filled_complete",
    "was_short",
    "route_version",
    "routed_at",
    "message",
)
ROUTE_TYPES = (
    "varchar",
    "bigint",
    "boolean",
    "boolean",
    "boolean",
    "integer",
    "timestamptz",
    "text",
)


def _write_routing(
    released: list[int],
    allocations: list[OrderAllocation],
    orders: list[Order],
    events: list[OrderEvent],
    now,
) -> None:
    """Forget the released allocations, store the new ones, write the routing columns of
    ``orders`` and insert ``events`` (in their order): one statement on PostgreSQL
    (data-modifying CTEs over ``unnest`` arrays), a few ORM statements elsewhere."""
    if connection.vendor != "postgresql":
        if released:
            OrderAllocation.objects.filter(pk__in=released).delete()
        OrderAllocation.objects.bulk_create(allocations)
        if orders:
            Order.objects.bulk_update(orders, [f.removesuffix("_id") for f in ROUTE_FIELDS])
        OrderEvent.objects.bulk_create(events)
        return
    allocation_table = OrderAllocation._meta.db_table
    order_table = Order._meta.db_table
    event_table = OrderEvent._meta.db_table
    columns = ", ".join(f"{f} = v.{f}" for f in ROUTE_FIELDS)
    order_arrays = ", ".join(f"%s::{t}[]" for t in ("bigint", *ROUTE_TYPES))
    sql = (
        f"WITH gone AS (DELETE FROM {allocation_table} WHERE id = ANY(%s::bigint[])), "
        f"held AS (INSERT INTO {allocation_table} "
        f"(order_id, goods_id, warehouse_id, balance_id, quantity) "
        f"SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], "
        f"%s::integer[])), "
        f"routed AS (UPDATE {order_table} o SET {columns} FROM unnest({order_arrays}) "
        f"AS v(id, {', '.join(ROUTE_FIELDS)}) WHERE o.id = v.id) "
        f"INSERT INTO {event_table} (order_id, kind, message, data, user_id, created_at) "
        f"SELECT e.order_id, e.kind, e.message, e.data::jsonb, NULL, %s "
        f"FROM unnest(%s::bigint[], %s::varchar[], %s::text[], %s::text[]) WITH ORDINALITY "
        f"AS e(order_id, kind, message, data, n) ORDER BY e.n"
    )
    params = [
        released,
        [a.order_id for a in allocations],
        [a.goods_id for a in allocations],
        [a.warehouse_id for a in allocations],
        [a.balance_id for a in allocations],
        [a.quantity for a in allocations],
        [o.pk for o in orders],
        *([getattr(o, f) for o in orders] for f in ROUTE_FIELDS),
        now,
        [e.order_id for e in events],
        [e.kind for e in events],
        [str(e.message) for e in events],
        [json.dumps(e.data or {}) for e in events],
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def order_route(*, order: Order, lines, context: RoutingContext) -> str:
    """Route one order (see ``orders_route``), history included; returns its new status
    (RESERVED or SHORT). Raises nothing for a shortage: it is a state."""
    result = orders_route(orders=[order], lines={order.pk: list(lines)}, context=context)
    return result.statuses[order.pk]


def order_release(*, order: Order, reason: str) -> None:
    """Give back everything ``order`` holds (its allocations) in one ledger posting and forget
    the allocations; the order row must be locked by the caller."""
    orders_route(orders=[], lines={}, context=None, release=[(order, reason)])
