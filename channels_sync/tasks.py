"""Celery tasks of the channels app: thin, safe to run twice, on their own queues (``sync_push``
for stock pushes, ``sync_pull`` for product syncs) so a slow platform never delays other work.
Periodic ones take an advisory lock so a second beat or an overlapping tick does nothing."""

from __future__ import annotations

import logging

from celery import shared_task

from wms.celery import TASK_RETRY
from wms.locks import advisory_lock

logger = logging.getLogger(__name__)


@shared_task(name="channels_sync.push_shop", **TASK_RETRY)
def shop_push_task(shop_id: int, trigger: str = "auto", user_id: int | None = None) -> dict:
    from channels_sync.services.push import shop_push

    summary = shop_push(shop_id, trigger=trigger, user_id=user_id)
    if summary is None:
        return {"skipped": True}
    logger.info(
        "stock push",
        extra={"shop": shop_id, "listings": summary.listings, "failed": summary.failed},
    )
    return {"listings": summary.listings, "succeeded": summary.succeeded, "failed": summary.failed}


@shared_task(name="channels_sync.drain_outbox", **TASK_RETRY)
def outbox_drain_task() -> int:
    """Every few seconds (beat): one push task per shop with pending rows."""
    from channels_sync.models import OutboxItem

    with advisory_lock("channels_sync.drain_outbox") as acquired:
        if not acquired:
            return 0
        shops = sorted(
            set(
                OutboxItem.objects.filter(status="pending", shop__is_stock_push_enabled=True)
                .values_list("shop_id", flat=True)
                .distinct()
            )
        )
        for shop_id in shops:
            shop_push_task.delay(shop_id)
        return len(shops)


@shared_task(name="channels_sync.nightly_full_push", **TASK_RETRY)
def nightly_full_push_task() -> int:
    """Every night: queue every matched goods of every pushing shop (corrects drift)."""
    from channels_sync.hooks import mark_goods_dirty
    from channels_sync.models import Shop
    from channels_sync.services.push import shop_goods_ids

    with advisory_lock("channels_sync.nightly_full_push") as acquired:
        if not acquired:
            return 0
        shops = list(Shop.objects.filter(is_active=True, is_stock_push_enabled=True))
        from django.db import transaction

        for shop in shops:
            with transaction.atomic():
                mark_goods_dirty(shop_goods_ids(shop), shop_ids=[shop.pk])
            shop_push_task.delay(shop.pk, "nightly")
        return len(shops)


@shared_task(name="channels_sync.product_sync", **TASK_RETRY)
def product_sync_task(run_id: int) -> str:
    from channels_sync.services.products import product_sync_run

    return product_sync_run(run_id).status


@shared_task(name="channels_sync.incremental_product_sync", **TASK_RETRY)
def incremental_product_sync_task() -> int:
    """Every hour: an incremental product sync of each active shop that has had a full one."""
    from channels_sync.models import ProductSyncRun, Shop
    from channels_sync.services.products import product_sync_start

    with advisory_lock("channels_sync.incremental_product_sync") as acquired:
        if not acquired:
            return 0
        started = 0
        for shop in Shop.objects.filter(is_active=True, last_product_sync_at__isnull=False):
            try:
                product_sync_start(shop=shop, mode=ProductSyncRun.Mode.INCREMENTAL, user=None)
                started += 1
            except Exception:  # noqa: BLE001 - one shop's refusal must not stop the others
                logger.info("product sync not started", extra={"shop": shop.pk})
        return started


# -- orders (issue 12) ------------------------------------------------------------------------


@shared_task(name="channels_sync.orders_pull", **TASK_RETRY)
def orders_pull_task(shop_id: int, trigger: str = "schedule") -> dict:
    from channels_sync.services.orders import orders_pull

    pull = orders_pull(shop_id, trigger=trigger)
    if pull is None:
        return {"skipped": True}
    return {"status": pull.status, "new": pull.new, "updated": pull.updated, "failed": pull.failed}


@shared_task(name="channels_sync.orders_pull_due", **TASK_RETRY)
def orders_pull_due_task() -> int:
    """Every minute (beat): queue a pull for each shop whose own interval has passed."""
    from datetime import timedelta

    from django.utils import timezone

    from channels_sync.models import Shop, ShopOrderSettings

    with advisory_lock("channels_sync.orders_pull_due") as acquired:
        if not acquired:
            return 0
        now = timezone.now()
        queued = 0
        for shop in Shop.objects.filter(is_active=True, is_order_pull_enabled=True):
            row, _created = ShopOrderSettings.objects.get_or_create(shop=shop)
            last = row.last_pull_started_at
            if last is None or last + timedelta(minutes=row.pull_interval_minutes) <= now:
                ShopOrderSettings.objects.filter(pk=row.pk).update(last_pull_started_at=now)
                orders_pull_task.delay(shop.pk)
                queued += 1
        return queued


@shared_task(name="channels_sync.reroute_short_orders", **TASK_RETRY)
def short_orders_reroute_task() -> int:
    from channels_sync.services.orders import short_orders_reroute

    with advisory_lock("channels_sync.reroute_short_orders") as acquired:
        if not acquired:
            return 0
        return short_orders_reroute()


@shared_task(name="channels_sync.shipment_book", **TASK_RETRY)
def shipment_book_task(shipment_id: int) -> str:
    from channels_sync.services.shipping import shipment_book

    shipment = shipment_book(shipment_id)
    return shipment.status if shipment else "gone"


@shared_task(name="channels_sync.fulfilment_report", **TASK_RETRY)
def fulfilment_report_task(shipment_id: int) -> str:
    from channels_sync.services.shipping import fulfilment_report

    return fulfilment_report(shipment_id)


@shared_task(name="channels_sync.fulfilment_reports_due", **TASK_RETRY)
def fulfilment_reports_due_task() -> int:
    """Every minute (beat): report fulfilments still pending (the platform was down)."""
    from channels_sync.models import Shipment
    from channels_sync.services.shipping import fulfilment_report

    with advisory_lock("channels_sync.fulfilment_reports_due") as acquired:
        if not acquired:
            return 0
        ids = list(Shipment.objects.filter(report_status="pending").values_list("pk", flat=True))
        for pk in ids:
            fulfilment_report(pk)
        return len(ids)


@shared_task(name="channels_sync.tracking_pull", **TASK_RETRY)
def tracking_pull_task() -> int:
    from channels_sync.services.shipping import tracking_pull

    with advisory_lock("channels_sync.tracking_pull") as acquired:
        return tracking_pull() if acquired else 0
