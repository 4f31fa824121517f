"""Celery tasks of the API app: webhook sends (thin, safe to run twice)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from api.models import WebhookDelivery
from api.webhooks import delivery
from wms.celery import TASK_RETRY

logger = logging.getLogger(__name__)


@shared_task(name="api.deliver_webhook", **TASK_RETRY)
def webhook_deliver_task(delivery_id: int) -> str | None:
    """One attempt; when it stays pending, the next attempt is queued at its backoff time."""
    status = delivery.deliver(delivery_id)
    if status == WebhookDelivery.Status.PENDING:
        row = WebhookDelivery.objects.filter(pk=delivery_id).values("next_attempt_at").first()
        if row:
            wait = max((row["next_attempt_at"] - timezone.now()).total_seconds(), 1)
            webhook_deliver_task.apply_async((delivery_id,), countdown=wait)
    return status


@shared_task(name="api.sweep_webhooks", **TASK_RETRY)
def webhooks_sweep_task() -> int:
    """Every minute: send pending deliveries that are due (lost queue messages, broker
    outages, expired leases of killed workers)."""
    sent = 0
    for delivery_id in delivery.due_deliveries():
        if delivery.deliver(delivery_id) is not None:
            sent += 1
    if sent:
        logger.info("api.sweep_webhooks: %s attempts", sent)
    return sent
