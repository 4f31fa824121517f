"""The webhook outbox: ``publish(event, payload)`` writes one ``WebhookDelivery`` per active
subscription to ``event``, inside the caller's transaction, and queues the sends after commit.
A rolled-back posting leaves no delivery; a broker outage delays sends (the sweeper picks up
pending rows every minute), never loses them.

Wired from ``ApiConfig.ready()``: an in-transaction ledger hook (``stock.changed`` for every
posting) and a freezes event hook (``freeze.created``, ``freeze.released``).
"""

from __future__ import annotations

import time
import uuid
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api.models import WebhookDelivery, WebhookSubscription
from api.webhooks import events

RELEASE_KINDS = frozenset({"released", "released_at_time", "released_on_qc", "released_outside"})


def _queue(ids: list[int]) -> None:
    """Send the deliveries' tasks (after commit). The deliveries are themselves the durable
    outbox: when the broker is down nothing is lost, ``api.sweep_webhooks`` sends them."""
    from wms.outbox import task_by_name

    task = task_by_name("api.deliver_webhook")
    for delivery_id in ids:
        try:
            task.delay(delivery_id)
        except Exception:  # noqa: BLE001 - broker down: the sweeper sends it later
            return


# "Does anyone listen to X?" is answered from a per-process snapshot of the active
# subscriptions, refreshed at most every SNAPSHOT_SECONDS and dropped at once when this process
# saves or deletes a subscription. It is only a gate: ``publish`` re-reads the subscriptions it
# writes for inside the business transaction, so a subscription deactivated or deleted in another
# process meanwhile gets nothing, and a posting never touches the subscription table while nobody
# subscribes (the ledger's ``stock.changed`` hook runs inside every posting). A subscription saved
# in another process starts receiving events at most SNAPSHOT_SECONDS later
# (``WMS_WEBHOOK_SNAPSHOT_SECONDS``; the tests use an hour so that query counts never depend on
# when a refresh falls).
def snapshot_seconds() -> float:
    return float(getattr(settings, "WMS_WEBHOOK_SNAPSHOT_SECONDS", 1.0))


_snapshot: tuple[float, dict[str, list[int]]] | None = None


def forget_snapshot(*_args, **_kwargs) -> None:
    """Drop this process's snapshot (a subscription was saved or deleted here; tests)."""
    global _snapshot
    _snapshot = None


def _listening() -> dict[str, list[int]]:
    global _snapshot
    now = time.monotonic()
    if _snapshot is None or _snapshot[0] <= now:
        wanted: dict[str, list[int]] = {}
        rows = WebhookSubscription.objects.filter(is_active=True).values_list("pk", "events")
        for pk, events_ in rows:
            for event in events_ or []:
                wanted.setdefault(event, []).append(pk)
        _snapshot = (now + snapshot_seconds(), wanted)
    return _snapshot[1]


def anyone_listens(event: str) -> bool:
    """Whether this process's snapshot lists a subscription to ``event`` (no query while it is
    fresh): the cheap gate a hook asks before building a payload."""
    return bool(_listening().get(event))


def subscribers(event: str) -> list[int]:
    """Active subscriptions to ``event``, read in the current transaction; no query at all when
    the snapshot says nobody listens (filtered here so it also runs on SQLite, which has no
    JSON containment)."""
    candidates = _listening().get(event)
    if not candidates:
        return []
    return [
        pk
        for pk, wanted in WebhookSubscription.objects.filter(is_active=True).values_list(
            "pk", "events"
        )
        if event in (wanted or [])
    ]


def publish(event: str, payload: dict) -> list[int]:
    """Write the deliveries of ``event`` for its subscribers (in the current transaction) and
    queue their sends after commit. Returns the delivery ids."""
    targets = subscribers(event)
    if not targets:
        return []
    now = timezone.now()
    event_id = uuid.uuid4()
    rows = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                subscription_id=pk,
                event=event,
                event_id=event_id,
                payload=payload,
                next_attempt_at=now,
                created_at=now,
            )
            for pk in targets
        ]
    )
    ids = [row.pk for row in rows]
    transaction.on_commit(partial(_queue, ids), robust=True)
    return ids


def on_posting(event) -> None:
    """Ledger in-transaction hook: ``stock.changed`` with every movement of the posting. Each
    movement names its own document too: a batch posting (an order pull's page of
    reservations, ``ledger.reserve_many``) spans many documents under one event."""
    if not anyone_listens(events.STOCK_CHANGED):
        return
    from inventory.models import Goods

    goods_ids = sorted({m.goods_id for m in event.movements})
    skus = dict(Goods.objects.filter(pk__in=goods_ids).values_list("pk", "sku"))
    publish(
        events.STOCK_CHANGED,
        {
            "document_type": event.document_type,
            "document_id": event.document_id,
            "document_ref": event.document_ref,
            "operator_id": event.operator_id,
            "movements": [
                {
                    "id": m.pk,
                    "kind": m.kind,
                    "goods_id": m.goods_id,
                    "sku": skus.get(m.goods_id, ""),
                    "warehouse_id": m.warehouse_id,
                    "bin_id": m.bin_id,
                    "batch_id": m.batch_id,
                    "on_hand_delta": m.on_hand_delta,
                    "frozen_delta": m.frozen_delta,
                    "reserved_delta": m.reserved_delta,
                    "document_type": m.document_type,
                    "document_id": m.document_id,
                    "document_ref": m.document_ref,
                }
                for m in event.movements
            ],
        },
    )


def on_freeze_event(event) -> None:
    """Freezes event hook: ``freeze.created`` and ``freeze.released`` (any way of release)."""
    if event.kind == "created":
        code = events.FREEZE_CREATED
    elif event.kind in RELEASE_KINDS:
        code = events.FREEZE_RELEASED
    else:
        return
    freeze = event.freeze
    publish(
        code,
        {
            "freeze_id": freeze.pk,
            "freeze_number": freeze.number,
            "step": event.kind,
            "reason": freeze.reason,
            "quantity": event.quantity,
            "actor_id": event.actor_id,
            "comment": event.comment,
            "status": freeze.status,
            "scope": {
                "warehouse": freeze.warehouse_id,
                "goods": freeze.goods_id,
                "batch": freeze.batch_id,
                "bin": freeze.bin_id,
                "category": freeze.category_id,
                "brand": freeze.brand_id,
            },
            "at": event.created_at.isoformat(),
        },
    )


def register() -> None:
    from django.db.models.signals import post_delete, post_save

    from freezes import hooks as freeze_hooks
    from inventory import hooks as ledger_hooks

    post_save.connect(forget_snapshot, sender=WebhookSubscription, dispatch_uid="api-snapshot")
    post_delete.connect(forget_snapshot, sender=WebhookSubscription, dispatch_uid="api-snapshot-d")

    ledger_hooks.register_in_transaction(on_posting)
    freeze_hooks.register_event_hook(on_freeze_event)
