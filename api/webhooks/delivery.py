"""Sending webhook deliveries, and the actions on them.

``deliver(delivery_id)`` claims a due pending delivery with a compare-and-set lease (two
workers never send the same delivery at once; a worker killed mid-send leaves the lease to
expire and the sweeper tries again), POSTs it signed, logs the attempt (append-only), and
either marks it delivered (2xx), schedules the next attempt with exponential backoff and jitter
(honouring ``Retry-After``), or after ``MAX_ATTEMPTS`` marks it failed. No lock is held during
the HTTP call. The POST goes only to a public address (``api.webhooks.ssrf``: checked when
the subscription is saved and again on the connected socket) and follows no redirect.
Receivers must treat ``X-WMS-Delivery`` (the event id) as idempotency key: a delivery can
arrive twice (a worker lost after the POST, a redeliver).
"""

from __future__ import annotations

import datetime
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.exceptions import WebhookError
from api.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from api.webhooks import events, signing, ssrf
from wms import backoff as wms_backoff

MAX_ATTEMPTS = 8
LEASE = datetime.timedelta(minutes=2)
TIMEOUT_SECONDS = 10
BACKOFF_BASE = 30  # seconds: 30 s, 1 min, 2 min ... capped at an hour, with jitter
BACKOFF_CAP = 3600


def backoff(attempts: int, retry_after: float | None = None) -> datetime.timedelta:
    """Equal jitter (``wms.backoff``): a failing receiver always gets some rest."""
    return datetime.timedelta(
        seconds=wms_backoff.delay(
            attempts, base=BACKOFF_BASE, cap=BACKOFF_CAP, retry_after=retry_after, jitter="equal"
        )
    )


def body_of(delivery: WebhookDelivery) -> bytes:
    envelope = {
        "id": str(delivery.event_id),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


_retry_after = wms_backoff.retry_after_seconds


def _post(
    url: str, body: bytes, headers: dict[str, str]
) -> tuple[int | None, str, str, int | None]:
    """(status, response excerpt, error, Retry-After seconds)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with ssrf.opener().open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, response.read(500).decode(errors="replace"), "", None
    except urllib.error.HTTPError as error:
        excerpt = error.read(500).decode(errors="replace") if error.fp else ""
        return (
            error.code,
            excerpt,
            f"HTTP {error.code}",
            _retry_after(error.headers.get("Retry-After")),
        )
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        return None, "", str(getattr(error, "reason", error))[:500], None


def deliver(delivery_id: int, *, now: datetime.datetime | None = None) -> str | None:
    """One attempt at a due pending delivery; returns its new status, or None when it was not
    due, not pending, or another worker holds it."""
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + LEASE)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    body = body_of(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "WMS-Webhooks/1",
        "X-WMS-Event": delivery.event,
        "X-WMS-Delivery": str(delivery.event_id),
        signing.HEADER: signing.header_value(subscription.secret, body),
    }
    started = time.monotonic()
    if subscription.is_active:
        status_code, excerpt, error, retry_after = _post(subscription.url, body, headers)
    else:
        status_code, excerpt, error, retry_after = None, "", _("Subscription is paused."), None
    duration = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    attempts = delivery.attempts + 1
    done = timezone.now()
    if ok:
        fields = {"status": WebhookDelivery.Status.DELIVERED, "delivered_at": done}
    elif attempts >= MAX_ATTEMPTS:
        fields = {"status": WebhookDelivery.Status.FAILED}
    else:
        fields = {"next_attempt_at": done + backoff(attempts, retry_after)}
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            attempted_at=done,
            status_code=status_code,
            error=error[:500],
            duration_ms=duration,
            response_excerpt=excerpt[:500],
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempts=attempts, last_status_code=status_code, last_error=error[:500], **fields
        )
    return fields.get("status", WebhookDelivery.Status.PENDING)


def due_deliveries(*, now: datetime.datetime | None = None, limit: int = 200) -> list[int]:
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now (delivered or failed ones too): back to pending with a fresh
    attempt budget; its log keeps every earlier attempt."""
    from api.webhooks.outbox import _queue

    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        transaction.on_commit(partial(_queue, [delivery.pk]), robust=True)
    delivery.refresh_from_db()
    return delivery


def _clean(url: str, wanted: list[str]) -> tuple[str, list[str]]:
    url = (url or "").strip()
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise WebhookError(_("Enter an http:// or https:// URL."), field="url")
    allow_http = settings.DEBUG or getattr(settings, "WMS_WEBHOOKS_ALLOW_HTTP", False)
    if parsed.scheme != "https" and not allow_http:
        raise WebhookError(_("Webhook URLs must use https://."), field="url")
    ssrf.check_url(url)
    wanted = sorted(set(wanted or []))
    if not wanted:
        raise WebhookError(_("Choose at least one event."), field="events")
    unknown = [code for code in wanted if not events.is_event(code)]
    if unknown:
        raise WebhookError(
            _("Unknown events: %(events)s.") % {"events": ", ".join(unknown)}, field="events"
        )
    return url, wanted


def subscription_create(
    *, url: str, events: list[str], user, description: str = ""
) -> WebhookSubscription:
    """A new active subscription with a fresh signing secret (shown on its page)."""
    url, wanted = _clean(url, events)
    return WebhookSubscription.objects.create(
        url=url,
        events=wanted,
        description=(description or "").strip()[:200],
        secret=f"whsec_{secrets.token_urlsafe(32)}",
        created_by=user,
    )


def subscription_update(
    *,
    subscription: WebhookSubscription,
    url: str,
    events: list[str],
    is_active: bool,
    description: str = "",
) -> WebhookSubscription:
    url, wanted = _clean(url, events)
    subscription.url = url
    subscription.events = wanted
    subscription.is_active = is_active
    subscription.description = (description or "").strip()[:200]
    subscription.save(update_fields=["url", "events", "is_active", "description"])
    return subscription
