"""Order pull and upsert (订单下载): the 15-minute pull, the manual pull and the webhook fast
path all end in ``order_upsert``.

``order_upsert(shop=..., incoming=..., context=...)`` — contract (one transaction):
- Locks the order row of (shop, platform order id) (``SELECT ... FOR UPDATE``; a new order is
  inserted with ``ON CONFLICT DO NOTHING`` semantics through the unique constraint, then
  locked), so two pulls, or a pull and a webhook, of the same order serialise on that row.
- An incoming version older than the stored ``platform_updated_at`` changes nothing
  ("unchanged"), nor does an equal one saying the same (its ``fingerprint``): a repeated or
  overlapping pull never goes back in time nor duplicates anything.
- New: lines are matched to listings (variant id) and their goods, the weight is computed from
  the goods, and the order is routed (``routing.order_route``: one reservation).
- Cancelled on the platform: an order not shipped yet releases its reservation and is
  CANCELLED; a shipped one keeps its state and says so in its message.
- Edited (line quantities changed) before confirming: the reservation is released and the
  order routed again with its new lines; after confirming, the edit is recorded, not applied.
Returns "new", "updated" or "unchanged".

``orders_pull(shop_id, trigger=...)`` — under the advisory lock ``channels_sync.orders_pull:
<shop>`` (a second caller returns None at once). Fetches the orders updated since the last
successful pull minus ``OVERLAP`` page by page, upserts each order in its own transaction (one
failing order is counted and the rest go on), and records an ``OrderPull`` (new, updated,
unchanged, failed). The cursor moves to the pull's start time only when every order succeeded,
so the next run fetches the failed ones again.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_sync.adapters.orders import OrderSource, PlatformOrder, order_source_for
from channels_sync.models import (
    Listing,
    Order,
    OrderEvent,
    OrderLine,
    OrderPull,
    Shop,
    ShopOrderSettings,
)
from channels_sync.services.routing import (
    RoutingContext,
    order_release,
    order_route,
    routing_context,
)
from inventory.models import Goods
from wms.locks import advisory_lock

logger = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=5)
NOT_SHIPPED = {Order.Status.PENDING, Order.Status.RESERVED, Order.Status.SHORT}


def order_settings(shop: Shop) -> ShopOrderSettings:
    row, _created = ShopOrderSettings.objects.get_or_create(shop=shop)
    return row


def _order_fields(incoming: PlatformOrder) -> dict:
    return {
        "name": incoming.name[:100],
        "platform_updated_at": incoming.updated_at,
        "placed_at": incoming.placed_at,
        "customer_name": incoming.customer_name[:200],
        "customer_email": incoming.customer_email[:254],
        "ship_name": incoming.ship_name[:200],
        "address1": incoming.address1[:255],
        "address2": incoming.address2[:255],
        "city": incoming.city[:120],
        "state": incoming.state[:60],
        "postcode": incoming.postcode[:20],
        "country": incoming.country[:2].upper(),
        "total": incoming.total,
        "currency": incoming.currency[:3],
        "fingerprint": incoming.fingerprint(),
    }


def _lines_for(shop: Shop, order: Order, incoming: PlatformOrder) -> list[OrderLine]:
    variants = {line.variant_ref for line in incoming.lines if line.variant_ref}
    skus = {line.sku for line in incoming.lines if line.sku}
    listings = list(
        Listing.objects.filter(shop=shop, variant_ref__in=sorted(variants)).values_list(
            "pk", "variant_ref", "goods_id"
        )
    )
    by_variant = {v: (pk, goods) for pk, v, goods in listings}
    goods_by_sku = dict(
        Goods.objects.filter(sku__in=sorted(skus), is_active=True).values_list("sku", "pk")
    )
    rows = []
    for line in incoming.lines:
        listing_id, goods_id = by_variant.get(line.variant_ref, (None, None))
        if goods_id is None and listing_id is None:
            goods_id = goods_by_sku.get(line.sku)  # no listing synced yet: the SKU decides
        rows.append(
            OrderLine(
                order=order,
                line_ref=line.line_ref,
                listing_id=listing_id,
                goods_id=goods_id,
                sku=line.sku[:200],
                title=line.title,
                quantity=max(0, line.quantity),
                price=line.price,
            )
        )
    return rows


def _weight(lines: list[OrderLine]) -> Decimal:
    weights = dict(
        Goods.objects.filter(pk__in=sorted({li.goods_id for li in lines if li.goods_id}))
        .exclude(weight__isnull=True)
        .values_list("pk", "weight")
    )
    return sum((weights.get(li.goods_id, Decimal(0)) * li.quantity for li in lines), Decimal(0))


def _lock_or_create(shop: Shop, incoming: PlatformOrder) -> tuple[Order, bool]:
    existing = (
        Order.objects.select_for_update()
        .filter(shop=shop, platform_order_id=incoming.order_ref)
        .first()
    )
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            order = Order.objects.create(
                shop=shop, platform_order_id=incoming.order_ref, **_order_fields(incoming)
            )
        return order, True
    except IntegrityError:  # created by a concurrent pull or webhook since our read
        return Order.objects.select_for_update().get(
            shop=shop, platform_order_id=incoming.order_ref
        ), False


def order_upsert(
    *, shop: Shop, incoming: PlatformOrder, context: RoutingContext | None = None
) -> str:
    with transaction.atomic():
        order, created = _lock_or_create(shop, incoming)
        if created:
            lines = _lines_for(shop, order, incoming)
            OrderLine.objects.bulk_create(lines)
            order.weight = _weight(lines)
            Order.objects.filter(pk=order.pk).update(weight=order.weight)
            OrderEvent.objects.create(order=order, kind=OrderEvent.Kind.PULLED)
            if incoming.cancelled:
                Order.objects.filter(pk=order.pk).update(
                    status=Order.Status.CANCELLED, cancelled_on_platform=True
                )
            else:
                order_route(order=order, lines=lines, context=context or routing_context(shop))
            return "new"
        if incoming.updated_at < order.platform_updated_at:
            return "unchanged"
        fingerprint = incoming.fingerprint()
        if fingerprint == order.fingerprint:
            return "unchanged"
        _apply_update(shop, order, incoming, context)
        return "updated"


def _apply_update(shop, order: Order, incoming: PlatformOrder, context) -> None:
    fields = _order_fields(incoming)
    Order.objects.filter(pk=order.pk).update(**fields)
    for key, value in fields.items():
        setattr(order, key, value)
    OrderEvent.objects.create(order=order, kind=OrderEvent.Kind.UPDATED)
    if incoming.cancelled and not order.cancelled_on_platform:
        Order.objects.filter(pk=order.pk).update(cancelled_on_platform=True)
        if order.status in NOT_SHIPPED:
            order_release(order=order, reason="cancelled on the platform")
            Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)
            OrderEvent.objects.create(order=order, kind=OrderEvent.Kind.CANCELLED)
        else:
            note = _("Cancelled on the platform after it was confirmed: stop the parcel.")
            Order.objects.filter(pk=order.pk).update(message=note)
            OrderEvent.objects.create(order=order, kind=OrderEvent.Kind.CANCELLED, message=note)
        return
    if incoming.cancelled:
        return
    current = {li.line_ref: li.quantity for li in order.lines.all()}
    wanted = {li.line_ref: max(0, li.quantity) for li in incoming.lines}
    if current == wanted:
        return
    if order.status not in NOT_SHIPPED:
        note = _("Edited on the platform after it was confirmed; the shipment was not changed.")
        Order.objects.filter(pk=order.pk).update(message=note)
        return
    order_release(order=order, reason="edited on the platform")
    OrderLine.objects.filter(order=order).delete()
    lines = _lines_for(shop, order, incoming)
    OrderLine.objects.bulk_create(lines)
    Order.objects.filter(pk=order.pk).update(weight=_weight(lines), status=Order.Status.PENDING)
    order_route(order=order, lines=lines, context=context or routing_context(shop))


def orders_pull(
    shop_id: int, *, trigger: str = OrderPull.Trigger.SCHEDULE, source: OrderSource | None = None
) -> OrderPull | None:
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        return None
    with advisory_lock(f"channels_sync.orders_pull:{shop_id}") as acquired:
        if not acquired:
            return None
        settings_row = order_settings(shop)
        started = timezone.now()
        ShopOrderSettings.objects.filter(pk=settings_row.pk).update(last_pull_started_at=started)
        since = settings_row.last_pull_at - OVERLAP if settings_row.last_pull_at else None
        pull = OrderPull.objects.create(shop=shop, trigger=trigger, since=since)
        own = source is None
        counts = {"new": 0, "updated": 0, "unchanged": 0, "failed": 0}
        errors: list[str] = []
        try:
            source = source or order_source_for(shop)
            context = routing_context(shop)
            for page in source.iter_order_pages(since):
                pull.pages += 1
                # One transaction per page (one commit), one savepoint per order: a failing
                # order rolls back alone; the page's row locks are held only while its
                # already-fetched orders are written (no network inside).
                with transaction.atomic():
                    for incoming in page:
                        try:
                            result = order_upsert(shop=shop, incoming=incoming, context=context)
                            counts[result] += 1
                        except Exception as exc:  # noqa: BLE001 - one bad order must not stop the pull
                            counts["failed"] += 1
                            errors.append(f"{incoming.name or incoming.order_ref}: {exc}"[:300])
                            logger.warning("order not saved", extra={"order": incoming.order_ref})
                    OrderPull.objects.filter(pk=pull.pk).update(pages=pull.pages, **counts)
        except Exception as exc:  # noqa: BLE001 - recorded on the pull; the next run retries
            errors.insert(0, str(exc)[:500])
            status = OrderPull.Status.FAILED
        else:
            status = OrderPull.Status.FAILED if counts["failed"] else OrderPull.Status.DONE
            if not counts["failed"]:
                ShopOrderSettings.objects.filter(pk=settings_row.pk).update(last_pull_at=started)
        finally:
            if own and source is not None:
                source.close()
        OrderPull.objects.filter(pk=pull.pk).update(
            status=status,
            message="\n".join(errors[:20]),
            finished_at=timezone.now(),
            pages=pull.pages,
            **counts,
        )
        pull.refresh_from_db()
        return pull


def order_webhook_receive(*, shop: Shop, incoming: PlatformOrder) -> OrderPull:
    """The webhook fast path: the same upsert, logged as a one-order pull."""
    pull = OrderPull.objects.create(shop=shop, trigger=OrderPull.Trigger.WEBHOOK)
    result = order_upsert(shop=shop, incoming=incoming)
    OrderPull.objects.filter(pk=pull.pk).update(
        status=OrderPull.Status.DONE, finished_at=timezone.now(), **{result: 1}
    )
    return pull


def short_orders_reroute(*, goods_ids: list[int] | None = None, limit: int = 200) -> int:
    """Route SHORT orders again (oldest first), each in its own transaction with its row locked
    (``SKIP LOCKED``: a pull holding one is left alone). Returns how many got reserved."""
    ids = Order.objects.filter(status=Order.Status.SHORT, cancelled_on_platform=False)
    if goods_ids:
        ids = ids.filter(lines__goods_id__in=list(goods_ids))
    ids = list(ids.order_by("pk").values_list("pk", flat=True).distinct()[:limit])
    contexts: dict[int, RoutingContext] = {}
    reserved = 0
    for pk in ids:
        with transaction.atomic():
            order = (
                Order.objects.select_for_update(skip_locked=True)
                .select_related("shop")
                .filter(pk=pk, status=Order.Status.SHORT)
                .first()
            )
            if order is None:
                continue
            if order.shop_id not in contexts:
                contexts[order.shop_id] = routing_context(order.shop)
            lines = list(order.lines.all())
            if order_route(order=order, lines=lines, context=contexts[order.shop_id]) == "reserved":
                reserved += 1
    return reserved
