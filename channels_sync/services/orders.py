"""Order pull (订单下载): the 15-minute pull, the manual pull and the webhook fast path all
write through ``order_pages.orders_upsert_page`` (a page of orders set-based; see there for
the upsert, never going back in time, cancellations and edits).

``orders_pull(shop_id, trigger=...)`` — under the advisory lock ``channels_sync.orders_pull:
<shop>`` (a second caller returns None at once). Fetches the orders updated since the last
successful pull minus ``OVERLAP`` page by page (for a platform listing only open orders, the
local open orders it left out are re-read too: ``OrderSource.recheck``) and writes each page in one transaction (the
page's orders, lines, reservations and history, with the pull's progress); a page that fails
is written again order by order, so one failing order is counted and the rest go on. Records
an ``OrderPull`` (new, updated, unchanged, failed). The cursor moves to the pull's start time
only when every order succeeded, so the next run fetches the failed ones again. The listings,
goods and combos the pages name are read once per pull (``LineResolver``, the routing
context).

``short_orders_reroute()`` routes SHORT orders again, a shop's batch at a time, in one posting.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import DatabaseError, transaction
from django.utils import timezone

from channels_sync.adapters.orders import OrderSource, PlatformOrder, order_source_for
from channels_sync.models import Listing, Order, OrderLine, OrderPull, Shop, ShopOrderSettings
from channels_sync.services.order_pages import (
    NOT_SHIPPED,
    LineResolver,
    order_upsert,
    orders_upsert_page,
)
from channels_sync.services.routing import RoutingContext, orders_route, routing_context
from inventory.exceptions import StockError
from inventory.models import Goods
from wms.locks import advisory_lock

logger = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=5)
REROUTE_BATCH = 50
PROGRESS_EVERY = 1.0  # seconds between two writes of a running pull's counts


def order_settings(shop: Shop) -> ShopOrderSettings:
    row, _created = ShopOrderSettings.objects.get_or_create(shop=shop)
    return row


@dataclass
class PullRun:
    """One pull's running state: its record, counts, errors, the routing context and line
    resolver kept for all its pages, and when its progress was last written."""

    pull: OrderPull
    context: RoutingContext
    resolver: LineResolver
    counts: dict[str, int] = field(
        default_factory=lambda: {"new": 0, "updated": 0, "unchanged": 0, "failed": 0}
    )
    errors: list[str] = field(default_factory=list)
    progress_at: float = 0.0
    seen: set[str] = field(default_factory=set)  # only for sources that recheck missing orders

    def progress(self) -> None:
        """Write the pull's counts for the sync-log screen, at most every
        ``PROGRESS_EVERY`` seconds (inside the page's transaction: no extra commit)."""
        now = time.monotonic()
        if now - self.progress_at >= PROGRESS_EVERY:
            self.progress_at = now
            OrderPull.objects.filter(pk=self.pull.pk).update(pages=self.pull.pages, **self.counts)


def orders_pull(
    shop_id: int, *, trigger: str = OrderPull.Trigger.SCHEDULE, source: OrderSource | None = None
) -> OrderPull | None:
    """Pull the shop's orders since its last successful pull (minus ``OVERLAP``). ``None``
    (nothing pulled) for a shop gone, inactive or with its order pull off — whatever queued
    the pull (the schedule, "Pull orders now", a task queued before the switch went off) — and
    when another pull of the shop is running (its advisory lock)."""
    shop = Shop.objects.filter(pk=shop_id, is_active=True, is_order_pull_enabled=True).first()
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
        run = PullRun(pull, routing_context(shop), LineResolver(shop))
        own = source is None
        try:
            source = source or order_source_for(shop)
            for page in source.iter_order_pages(since):
                pull.pages += 1
                if source.rechecks_missing:
                    run.seen.update(o.order_ref for o in page)
                _pull_page(run, page)
            if source.rechecks_missing:
                for page in source.recheck(_missing(shop, run.seen)):
                    pull.pages += 1
                    _pull_page(run, page)
        except Exception as exc:  # noqa: BLE001 - recorded on the pull; the next run retries
            run.errors.insert(0, str(exc)[:500])
            status = OrderPull.Status.FAILED
        else:
            status = OrderPull.Status.FAILED if run.counts["failed"] else OrderPull.Status.DONE
            if not run.counts["failed"]:
                ShopOrderSettings.objects.filter(pk=settings_row.pk).update(last_pull_at=started)
        finally:
            if own and source is not None:
                source.close()
        OrderPull.objects.filter(pk=pull.pk).update(
            status=status,
            message="\n".join(run.errors[:20]),
            finished_at=timezone.now(),
            pages=pull.pages,
            **run.counts,
        )
        pull.refresh_from_db()
        return pull


def _missing(shop: Shop, seen: set[str]) -> list[str]:
    """Open local orders of ``shop`` (not shipped, not cancelled) the platform's list left
    out this time: a platform listing only open orders drops a cancelled one silently."""
    refs = Order.objects.filter(
        shop=shop,
        status__in=[*NOT_SHIPPED, Order.Status.CONFIRMED],
        cancelled_on_platform=False,
    ).values_list("platform_order_id", flat=True)
    return sorted(set(refs) - seen)


def _pull_page(run: PullRun, page: list[PlatformOrder]) -> None:
    """One page in one transaction (the page's order and balance locks are held only while its
    already-fetched orders are written: no network inside). When the page fails it is written
    again order by order, so one bad order is counted and the rest go on."""
    shop = run.pull.shop
    ref = f"pull {run.pull.pk} p{run.pull.pages}"
    before = dict(run.counts)
    try:
        with transaction.atomic():
            done = orders_upsert_page(
                shop=shop, page=page, context=run.context, resolver=run.resolver, ref=ref
            )
            for key in ("new", "updated", "unchanged"):
                run.counts[key] += getattr(done, key)
            run.progress()
        return
    except Exception:  # noqa: BLE001 - retried order by order just below
        run.counts.update(before)
        logger.warning(
            "order page failed, retried order by order", extra={"ref": ref}, exc_info=True
        )
    for incoming in page:
        try:
            done = orders_upsert_page(
                shop=shop, page=[incoming], context=run.context, resolver=run.resolver, ref=ref
            )
        except Exception as exc:  # noqa: BLE001 - one bad order must not stop the pull
            run.counts["failed"] += 1
            run.errors.append(f"{incoming.name or incoming.order_ref}: {exc}"[:300])
            logger.warning("order not saved", extra={"order": incoming.order_ref})
            continue
        for key in ("new", "updated", "unchanged"):
            run.counts[key] += getattr(done, key)
    run.progress()


def order_webhook_receive(*, shop: Shop, incoming: PlatformOrder) -> OrderPull:
    """The webhook fast path: the same upsert, logged as a one-order pull. An order that
    cannot be saved leaves the pull FAILED with the reason, then raises (the webhook answers
    500, so the platform delivers it again)."""
    pull = OrderPull.objects.create(shop=shop, trigger=OrderPull.Trigger.WEBHOOK)
    try:
        result = order_upsert(shop=shop, incoming=incoming)
    except Exception as exc:
        OrderPull.objects.filter(pk=pull.pk).update(
            status=OrderPull.Status.FAILED,
            finished_at=timezone.now(),
            failed=1,
            message=f"{incoming.name or incoming.order_ref}: {exc}"[:300],
        )
        raise
    OrderPull.objects.filter(pk=pull.pk).update(
        status=OrderPull.Status.DONE, finished_at=timezone.now(), **{result: 1}
    )
    return pull


def short_orders_reroute(*, goods_ids: list[int] | None = None, limit: int = 200) -> int:
    """Route SHORT orders again, oldest first (the older takes the stock first), per shop in
    batches of ``REROUTE_BATCH``: each batch one transaction, its order rows locked in
    primary-key order with ``SKIP LOCKED`` (a pull holding one leaves it for the next run),
    routed in one posting (``routing.orders_route``). Returns how many got reserved."""
    ids = Order.objects.filter(status=Order.Status.SHORT, cancelled_on_platform=False)
    if goods_ids:
        ids = ids.filter(lines__goods_id__in=list(goods_ids))
    rows = list(ids.order_by("pk").values_list("pk", "shop_id").distinct()[:limit])
    by_shop: dict[int, list[int]] = {}
    for pk, shop_id in rows:
        by_shop.setdefault(shop_id, []).append(pk)
    reserved = 0
    for shop_id, pks in sorted(by_shop.items()):
        shop = Shop.objects.filter(pk=shop_id).first()
        if shop is None:
            continue
        context = routing_context(shop)
        for start in range(0, len(pks), REROUTE_BATCH):
            try:
                reserved += _reroute_batch(pks[start : start + REROUTE_BATCH], context)
            except (StockError, DatabaseError):
                # one failing batch (rolled back whole) must not stop the later ones
                logger.exception("short orders %s: re-routing failed", pks[start : start + 3])
    return reserved


def _reroute_batch(pks: list[int], context) -> int:
    """One batch of ``short_orders_reroute`` in its own transaction; how many got reserved."""
    with transaction.atomic():
        orders = list(
            Order.objects.select_for_update(skip_locked=True)
            .filter(pk__in=pks, status=Order.Status.SHORT)
            .order_by("pk")
        )
        if not orders:
            return 0
        lines: dict[int, list[OrderLine]] = {o.pk: [] for o in orders}
        for line in OrderLine.objects.filter(order_id__in=[o.pk for o in orders]).order_by("pk"):
            lines[line.order_id].append(line)
        _link_loose_lines(context.shop_id, orders, lines)
        result = orders_route(
            orders=orders, lines=lines, context=context, batch_ref="reroute short"
        )
        return sum(1 for s in result.statuses.values() if s == Order.Status.RESERVED)


def _link_loose_lines(shop_id: int, orders: list[Order], lines: dict[int, list[OrderLine]]) -> None:
    """Lines stored without goods (their listing was not linked, or not synced, when the order
    was pulled) take the goods as the pull would match them now: their listing's goods, else
    (no listing) the shop's linked listing of that SKU, else the active goods of that SKU; the
    lines and the orders' weights are written. Without this a SHORT order for an unlinked line
    stayed short after the listing was linked, as its message asks. No query when every line
    names goods, a few per batch otherwise."""
    loose = [line for rows in lines.values() for line in rows if line.goods_id is None]
    if not loose:
        return
    by_listing = dict(
        Listing.objects.filter(
            pk__in=sorted({li.listing_id for li in loose if li.listing_id}), goods__isnull=False
        ).values_list("pk", "goods_id")
    )
    skus = sorted({li.sku for li in loose if li.sku and li.listing_id is None})
    listing_by_sku: dict[str, tuple[int, int]] = {}
    goods_by_sku: dict[str, int] = {}
    if skus:
        for pk, sku, goods_id in (
            Listing.objects.filter(shop_id=shop_id, sku__in=skus, goods__isnull=False)
            .order_by("-pk")
            .values_list("pk", "sku", "goods_id")
        ):
            listing_by_sku[sku] = (pk, goods_id)
        goods_by_sku = dict(
            Goods.objects.filter(sku__in=skus, is_active=True).values_list("sku", "pk")
        )
    linked = []
    for line in loose:
        if line.listing_id is not None:
            line.goods_id = by_listing.get(line.listing_id)
        elif line.sku in listing_by_sku:
            line.listing_id, line.goods_id = listing_by_sku[line.sku]
        else:
            line.goods_id = goods_by_sku.get(line.sku)
        if line.goods_id is not None:
            linked.append(line)
    if not linked:
        return
    OrderLine.objects.bulk_update(linked, ["listing", "goods"])
    touched = {line.order_id for line in linked}
    weights = dict(
        Goods.objects.filter(
            pk__in=sorted({li.goods_id for o in touched for li in lines[o] if li.goods_id}),
            weight__isnull=False,
        ).values_list("pk", "weight")
    )
    changed = []
    for order in orders:
        if order.pk in touched:
            order.weight = sum(
                (weights.get(li.goods_id, Decimal(0)) * li.quantity for li in lines[order.pk]),
                Decimal(0),
            )
            changed.append(order)
    Order.objects.bulk_update(changed, ["weight"])
