"""Writing a page of pulled orders, set-based (订单批量写入): the pull, the webhook (a page of
one) and every retry end in ``orders_upsert_page``.

``orders_upsert_page(shop=..., page=..., context=..., resolver=...)`` — contract (one
transaction, the caller's when there is one, without a savepoint):
- One version per order: the newest of the page (an order moving between pages while a pull
  pages shows up twice).
- ONE statement writes the page's orders: ``INSERT ... ON CONFLICT (shop, platform order id)
  DO UPDATE ... WHERE`` the stored ``platform_updated_at`` is not newer and the stored
  ``fingerprint`` differs, ``RETURNING`` the rows written with the local state they had
  (status, route version...: the update never touches those columns). A row not returned is
  "unchanged": a repeated or overlapping pull, or an older version, never duplicates an order
  nor goes back in time. The statement locks the page's order rows in platform id order, so two
  pulls, or a pull and a webhook, of the same order serialise on that row. On PostgreSQL the
  same statement inserts the lines of the new orders (a data-modifying CTE).
- New orders are routed together (``routing.orders_route``: one ledger posting for the page,
  one write of allocations, routed orders and the page's history rows).
- Cancelled on the platform: an order not shipped yet releases its reservation (in the same
  posting) and is CANCELLED, and so does a confirmed one whose booking has not started (its
  shipment waiting or failed: marked failed, so nothing is booked); one being booked or
  shipped keeps its state, with a note.
- Edited (line quantities changed) before confirming: the reservation is released, the lines
  replaced and the order routed again, in the same posting; after confirming, a note only.
Raises on any error; the pull then writes the page again order by order, so one bad order
fails alone.

``order_upsert(shop=..., incoming=...)`` is a page of one (the webhook fast path); it returns
"new", "updated" or "unchanged".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels_sync.adapters.orders import PlatformOrder
from channels_sync.models import Listing, Order, OrderEvent, OrderLine, Shipment, Shop
from channels_sync.services.routing import (
    RoutingContext,
    history_order,
    orders_route,
    routing_context,
)
from inventory.models import Goods

NOT_SHIPPED = {Order.Status.PENDING, Order.Status.RESERVED, Order.Status.SHORT}
CANCEL_NOTE = _("Cancelled on the platform after it was confirmed: stop the parcel.")
UNBOOKED_NOTE = _("Cancelled on the platform before it was booked: nothing was booked.")
EDIT_NOTE = _("Edited on the platform after it was confirmed; the shipment was not changed.")

# What the platform says: written on insert, and on update by a newer version.
PLATFORM_COLUMNS = (
    "name",
    "platform_updated_at",
    "placed_at",
    "customer_name",
    "customer_email",
    "ship_name",
    "address1",
    "address2",
    "city",
    "state",
    "postcode",
    "country",
    "total",
    "currency",
    "fingerprint",
)
# Written on insert only: routing, shipping and the local lines own them afterwards.
INSERT_COLUMNS = (
    "shop_id",
    "platform_order_id",
    "status",
    "cancelled_on_platform",
    "weight",
    *PLATFORM_COLUMNS,
    "is_split",
    "route_version",
    "filled_complete",
    "was_short",
    "message",
    "created_at",
)
PG_TYPES = {
    "shop_id": "bigint",
    "platform_order_id": "varchar",
    "status": "varchar",
    "cancelled_on_platform": "boolean",
    "weight": "numeric",
    "name": "varchar",
    "platform_updated_at": "timestamptz",
    "placed_at": "timestamptz",
    "customer_name": "varchar",
    "customer_email": "varchar",
    "ship_name": "varchar",
    "address1": "varchar",
    "address2": "varchar",
    "city": "varchar",
    "state": "varchar",
    "postcode": "varchar",
    "country": "varchar",
    "total": "numeric",
    "currency": "varchar",
    "fingerprint": "varchar",
    "is_split": "boolean",
    "route_version": "integer",
    "filled_complete": "boolean",
    "was_short": "boolean",
    "message": "text",
    "created_at": "timestamptz",
}
RETURNING = (
    "id",
    "platform_order_id",
    "status",
    "cancelled_on_platform",
    "route_version",
    "was_short",
    "warehouse_id",
    "is_split",
    "filled_complete",
    "routed_at",
    "message",
)
LINE_COLUMNS = ("line_ref", "listing_id", "goods_id", "sku", "title", "quantity", "price")
LINE_TYPES = ("varchar", "bigint", "bigint", "varchar", "varchar", "integer", "numeric")


class LineResolver:
    """Matches order lines to listings (by variant; by the shop's listing SKU when the platform
    names no variant we know, as eBay), and to goods by SKU when no listing exists, with the
    goods' weights. Kept for a whole pull: each page asks only for the variants and SKUs not
    seen before (at most three queries a page, none once the pull has seen them all)."""

    def __init__(self, shop: Shop):
        self.shop = shop
        self.by_variant: dict[str, tuple[int, int | None]] = {}
        self.by_sku: dict[str, int] = {}
        self.listing_by_sku: dict[str, tuple[int, int]] = {}
        self.weights: dict[int, Decimal] = {}
        self.seen_variants: set[str] = set()
        self.seen_skus: set[str] = set()

    def load(self, orders: list[PlatformOrder]) -> LineResolver:
        variants = sorted(
            {li.variant_ref for o in orders for li in o.lines if li.variant_ref}
            - self.seen_variants
        )
        if variants:
            self.seen_variants.update(variants)
            for pk, variant, goods_id, weight in Listing.objects.filter(
                shop=self.shop, variant_ref__in=variants
            ).values_list("pk", "variant_ref", "goods_id", "goods__weight"):
                self.by_variant[variant] = (pk, goods_id)
                if goods_id is not None and weight is not None:
                    self.weights[goods_id] = weight
        skus = sorted(
            {
                li.sku
                for o in orders
                for li in o.lines
                if li.sku and li.variant_ref not in self.by_variant
            }
            - self.seen_skus
        )
        if skus:
            self.seen_skus.update(skus)
            for pk, sku, goods_id, weight in (
                Listing.objects.filter(shop=self.shop, sku__in=skus, goods__isnull=False)
                .order_by("-pk")
                .values_list("pk", "sku", "goods_id", "goods__weight")
            ):
                self.listing_by_sku[sku] = (pk, goods_id)
                if weight is not None:
                    self.weights[goods_id] = weight
            for pk, sku, weight in Goods.objects.filter(sku__in=skus, is_active=True).values_list(
                "pk", "sku", "weight"
            ):
                self.by_sku[sku] = pk
                if weight is not None:
                    self.weights[pk] = weight
        return self

    def lines(self, incoming: PlatformOrder) -> list[OrderLine]:
        rows = []
        for line in incoming.lines:
            listing_id, goods_id = self.by_variant.get(line.variant_ref, (None, None))
            if listing_id is None:  # the platform names no variant we know: the SKU decides
                listing_id, goods_id = self.listing_by_sku.get(line.sku, (None, None))
            if goods_id is None and listing_id is None:
                goods_id = self.by_sku.get(line.sku)  # no listing synced yet
            rows.append(
                OrderLine(
                    line_ref=line.line_ref[:200],
                    listing_id=listing_id,
                    goods_id=goods_id,
                    sku=line.sku[:200],
                    title=line.title[:500],
                    quantity=max(0, line.quantity),
                    price=line.price,
                )
            )
        return rows

    def weight(self, lines: list[OrderLine]) -> Decimal:
        return sum(
            (self.weights.get(li.goods_id, Decimal(0)) * li.quantity for li in lines), Decimal(0)
        )


def _latest(page: list[PlatformOrder]) -> list[PlatformOrder]:
    """One version per order (the newest; on a tie the later in the page), sorted by platform
    id: the upsert locks the rows in that order, the same in every pull."""
    latest: dict[str, PlatformOrder] = {}
    for incoming in page:
        seen = latest.get(incoming.order_ref[:200])
        if seen is None or incoming.updated_at >= seen.updated_at:
            latest[incoming.order_ref[:200]] = incoming
    return [latest[ref] for ref in sorted(latest)]


def _insert_row(shop: Shop, incoming: PlatformOrder, weight: Decimal, now) -> tuple:
    return (
        shop.pk,
        incoming.order_ref[:200],
        Order.Status.CANCELLED if incoming.cancelled else Order.Status.PENDING,
        incoming.cancelled,
        weight,
        incoming.name[:100],
        incoming.updated_at,
        incoming.placed_at,
        incoming.customer_name[:200],
        incoming.customer_email[:254],
        incoming.ship_name[:200],
        incoming.address1[:255],
        incoming.address2[:255],
        incoming.city[:120],
        incoming.state[:60],
        incoming.postcode[:20],
        incoming.country[:2].upper(),
        incoming.total,
        incoming.currency[:3],
        incoming.fingerprint(),
        False,
        0,
        False,
        False,
        "",
        now,
    )


def _conflict_clause(table: str) -> str:
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in PLATFORM_COLUMNS)
    return (
        f"ON CONFLICT (shop_id, platform_order_id) DO UPDATE SET {updates} "
        f"WHERE {table}.platform_updated_at <= EXCLUDED.platform_updated_at "
        f"AND {table}.fingerprint <> EXCLUDED.fingerprint"
    )


def _upsert_rows(
    shop: Shop, orders: list[PlatformOrder], lines: dict[str, list[OrderLine]], resolved
) -> list[dict]:
    """The page's one upsert statement (see the module docstring): returns the rows written,
    each a dict of ``RETURNING`` plus ``inserted``. On PostgreSQL the orders travel as one
    array per column (``unnest``) and the new orders' lines are inserted by the same
    statement; elsewhere a multi-row VALUES, then the lines with ``bulk_create``."""
    now = timezone.now()
    rows = [_insert_row(shop, o, resolved.weight(lines[o.order_ref[:200]]), now) for o in orders]
    table = Order._meta.db_table
    if connection.vendor == "postgresql":
        return _upsert_rows_pg(table, orders, rows, lines)
    by_column = {f.column: f for f in Order._meta.concrete_fields}
    fields = [by_column[c] for c in INSERT_COLUMNS]
    params = [
        f.get_db_prep_save(v, connection) for row in rows for f, v in zip(fields, row, strict=True)
    ]
    existing = set(
        Order.objects.filter(
            shop=shop, platform_order_id__in=[o.order_ref[:200] for o in orders]
        ).values_list("platform_order_id", flat=True)
    )  # SQLite has no xmax; its writers are serialised, so what existed is read first
    placeholders = "(" + ", ".join(["%s"] * len(INSERT_COLUMNS)) + ")"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(INSERT_COLUMNS)}) VALUES "
            f"{', '.join([placeholders] * len(rows))} {_conflict_clause(table)} "
            f"RETURNING {', '.join(RETURNING)}",
            params,
        )
        written = [dict(zip(RETURNING, row, strict=True)) for row in cursor.fetchall()]
    new_lines = []
    for row in written:
        row["inserted"] = row["platform_order_id"] not in existing
        if row["inserted"]:
            for line in lines[row["platform_order_id"]]:
                line.order_id = row["id"]
                new_lines.append(line)
    OrderLine.objects.bulk_create(new_lines)
    return written


def _upsert_rows_pg(table: str, orders, rows: list[tuple], lines) -> list[dict]:
    columns = ", ".join(INSERT_COLUMNS)
    arrays = ", ".join(f"%s::{PG_TYPES[c]}[]" for c in INSERT_COLUMNS)
    line_arrays = ", ".join(f"%s::{t}[]" for t in ("varchar", *LINE_TYPES))
    line_columns = ", ".join(LINE_COLUMNS)
    sql = (
        f"WITH up AS (INSERT INTO {table} ({columns}) "
        f"SELECT * FROM unnest({arrays}) {_conflict_clause(table)} "
        f"RETURNING {', '.join(RETURNING)}, (xmax = 0) AS inserted), "
        f"ln AS (INSERT INTO {OrderLine._meta.db_table} (order_id, {line_columns}) "
        f"SELECT up.id, {', '.join(f'l.{c}' for c in LINE_COLUMNS)} "
        f"FROM unnest({line_arrays}) WITH ORDINALITY AS l(ref, {line_columns}, n) "
        f"JOIN up ON up.platform_order_id = l.ref WHERE up.inserted ORDER BY l.n) "
        f"SELECT * FROM up"
    )
    params = [list(column) for column in zip(*rows, strict=True)]
    flat = [(o.order_ref[:200], li) for o in orders for li in lines[o.order_ref[:200]]]
    params.append([ref for ref, _li in flat])
    for column in LINE_COLUMNS:
        params.append([getattr(li, column) for _ref, li in flat])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [dict(zip((*RETURNING, "inserted"), row, strict=True)) for row in cursor]


def _order_object(shop: Shop, row: dict, incoming: PlatformOrder) -> Order:
    """An ``Order`` mirroring the row as written (what routing and history refer to)."""
    return Order(
        pk=row["id"],
        shop=shop,
        platform_order_id=row["platform_order_id"],
        name=incoming.name[:100],
        status=row["status"],
        country=incoming.country[:2].upper(),
        postcode=incoming.postcode[:20],
        route_version=row["route_version"],
        was_short=row["was_short"],
        warehouse_id=row["warehouse_id"],
        is_split=row["is_split"],
        filled_complete=row["filled_complete"],
        routed_at=row["routed_at"],
        message=row["message"],
        cancelled_on_platform=row["cancelled_on_platform"],
    )


@dataclass
class PageResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    results: dict[str, str] = field(default_factory=dict)  # platform order id -> what happened


def orders_upsert_page(
    *,
    shop: Shop,
    page: list[PlatformOrder],
    context: RoutingContext | None = None,
    resolver: LineResolver | None = None,
    ref: str = "",
) -> PageResult:
    """Upsert one page of orders and route the new (and re-lined) ones (see the module
    docstring). Statements for a page of new orders, whatever its size: the listings and
    goods not seen before in the pull (0-2), the upsert with the lines (1), the routing
    (``orders_route``: the posting's lock, balance write, movement insert and hooks; then one
    statement for allocations, orders and history)."""
    orders = _latest(page)
    result = PageResult()
    if not orders:
        return result
    with transaction.atomic(savepoint=False):
        resolved = (resolver or LineResolver(shop)).load(orders)
        lines = {o.order_ref[:200]: resolved.lines(o) for o in orders}
        rows = _upsert_rows(shop, orders, lines, resolved)
        by_ref = {o.order_ref[:200]: o for o in orders}
        history: list[OrderEvent] = []
        route: list[Order] = []
        lines_of: dict[int, list[OrderLine]] = {}
        updated: list[tuple[Order, PlatformOrder]] = []
        for row in rows:
            incoming = by_ref[row["platform_order_id"]]
            order = _order_object(shop, row, incoming)
            if row["inserted"]:
                result.new += 1
                result.results[incoming.order_ref] = "new"
                history.append(OrderEvent(order=order, kind=OrderEvent.Kind.PULLED))
                if not incoming.cancelled:
                    route.append(order)
                    lines_of[order.pk] = lines[row["platform_order_id"]]
            else:
                result.updated += 1
                result.results[incoming.order_ref] = "updated"
                history.append(OrderEvent(order=order, kind=OrderEvent.Kind.UPDATED))
                updated.append((order, incoming))
        result.unchanged = len(orders) - len(rows)
        for incoming in orders:
            result.results.setdefault(incoming.order_ref, "unchanged")
        release = _apply_updates(updated, lines, resolved, history, route, lines_of)
        if route or release:
            orders_route(
                orders=route,
                lines=lines_of,
                context=context or routing_context(shop),
                release=release,
                batch_ref=ref or f"pull {shop.pk}",
                history=history,
            )
        else:
            OrderEvent.objects.bulk_create(history_order(history))
    return result


def _apply_updates(updated, lines, resolved, history, route, lines_of):
    """What each updated order needs; returns the orders to release, with why. Appends the
    re-lined orders to ``route`` (their new lines in ``lines_of``) and the history to
    ``history``; writes the notes and cancellations, replaces the lines of re-lined orders
    (a few statements per page when some orders changed, none per order)."""
    if not updated:
        return []
    current: dict[int, dict[str, int]] = defaultdict(dict)
    for order_id, line_ref, quantity in OrderLine.objects.filter(
        order_id__in=[o.pk for o, _i in updated]
    ).values_list("order_id", "line_ref", "quantity"):
        current[order_id][line_ref] = quantity
    release: list[tuple[Order, str]] = []
    cancelled: list[int] = []
    cancel_note: list[int] = []
    confirmed_cancelled: list[Order] = []
    edit_note: list[int] = []
    relined: list[Order] = []
    for order, incoming in updated:
        if incoming.cancelled:
            if order.cancelled_on_platform:
                continue
            order.cancelled_on_platform = True
            if order.status in NOT_SHIPPED:
                release.append((order, "cancelled on the platform"))
                cancelled.append(order.pk)
                history.append(OrderEvent(order=order, kind=OrderEvent.Kind.CANCELLED))
            else:
                confirmed_cancelled.append(order)
            continue
        wanted = {li.line_ref[:200]: max(0, li.quantity) for li in incoming.lines}
        if current[order.pk] == wanted:
            continue
        if order.status not in NOT_SHIPPED:
            edit_note.append(order.pk)
            continue
        release.append((order, "edited on the platform"))
        relined.append(order)
        lines_of[order.pk] = lines[order.platform_order_id]
        order.status = Order.Status.PENDING
        route.append(order)
    unbooked = _stop_unbooked(
        [o for o in confirmed_cancelled if o.status == Order.Status.CONFIRMED]
    )
    for order in confirmed_cancelled:
        if order.pk in unbooked:
            release.append((order, "cancelled on the platform"))
            cancelled.append(order.pk)
            history.append(OrderEvent(order=order, kind=OrderEvent.Kind.CANCELLED))
        else:
            cancel_note.append(order.pk)
            history.append(
                OrderEvent(order=order, kind=OrderEvent.Kind.CANCELLED, message=str(CANCEL_NOTE))
            )
    if cancelled:
        Order.objects.filter(pk__in=cancelled).update(
            status=Order.Status.CANCELLED, cancelled_on_platform=True
        )
    if cancel_note:
        Order.objects.filter(pk__in=cancel_note).update(
            cancelled_on_platform=True, message=str(CANCEL_NOTE)
        )
    if edit_note:
        Order.objects.filter(pk__in=edit_note).update(message=str(EDIT_NOTE))
    if relined:
        OrderLine.objects.filter(order_id__in=[o.pk for o in relined]).delete()
        new_lines = []
        for order in relined:
            for line in lines_of[order.pk]:
                line.order_id = order.pk
                new_lines.append(line)
            Order.objects.filter(pk=order.pk).update(weight=resolved.weight(lines_of[order.pk]))
        OrderLine.objects.bulk_create(new_lines)
    return release


def _stop_unbooked(orders: list[Order]) -> set[int]:
    """Of these confirmed orders cancelled on the platform, the ones whose booking has not
    started (shipment waiting or failed): their shipments are locked and marked failed with
    the reason, so the booking task and a retry book nothing, and the caller releases and
    cancels them like an order not confirmed. A shipment already booking or booked is left
    alone (the parcel exists: a note asks to stop it). The order rows are locked by the
    caller; a booking run that set BOOKING first is seen here, one that comes later finds
    FAILED (it locks the shipment row first)."""
    if not orders:
        return set()
    stopped = list(
        Shipment.objects.select_for_update()
        .filter(
            order_id__in=[o.pk for o in orders],
            status__in=[Shipment.Status.PENDING, Shipment.Status.FAILED],
        )
        .order_by("pk")
        .values_list("pk", "order_id")
    )
    if stopped:
        Shipment.objects.filter(pk__in=[pk for pk, _o in stopped]).update(
            status=Shipment.Status.FAILED, last_error=str(UNBOOKED_NOTE)
        )
    return {order_id for _pk, order_id in stopped}


def order_upsert(
    *, shop: Shop, incoming: PlatformOrder, context: RoutingContext | None = None
) -> str:
    """Upsert one order (the webhook fast path): a page of one. Returns "new", "updated" or
    "unchanged"."""
    return orders_upsert_page(shop=shop, page=[incoming], context=context).results[
        incoming.order_ref
    ]
