"""Webhook events of the allocation and platform sync domains, written through their hook
registries (the domains never import the API):

* ``grab.answered`` (``allocation.hooks.grab_answered``): grab requests just answered, granted,
  partly granted or refused, first come at once or priority at close when the window closes;
* ``order.status_changed`` (``allocation.hooks.order_status_changed``): one event per
  replenishment order status change (created, picking, shipped, received, cancelled);
* ``sync.failed`` (``channels_sync.hooks.sync_failed``): the listings of one pushed batch the
  platform refused, with its message.

Each hook runs inside the domain's transaction, so the deliveries commit or roll back with the
change (``api.webhooks.outbox.publish``). With no subscriber to the event a hook costs no query
(``outbox.anyone_listens``, the per-process snapshot) and writes nothing; each hook also
carries ``wanted()`` so a domain can skip calling it at all (a first-come grab then stays one
auto-committed statement).
"""

from __future__ import annotations

from api.webhooks import events, outbox


def on_grab_answered(requests: list) -> None:
    if not requests or not outbox.anyone_listens(events.GRAB_ANSWERED):
        return
    from allocation.reasons import reason_text

    outbox.publish(
        events.GRAB_ANSWERED,
        {
            "requests": [
                {
                    "request_id": r.pk,
                    "window_id": r.window_id,
                    "pool_id": r.pool_id,
                    "store_id": r.store_id,
                    "quantity": r.quantity,
                    "granted": r.granted,
                    "status": r.status,
                    "reason_code": r.reason_code,
                    "reason": str(reason_text(r.reason_code, r.reason_params))
                    if r.reason_code
                    else "",
                    "answered_at": r.answered_at.isoformat() if r.answered_at else None,
                }
                for r in requests
            ]
        },
    )


def on_order_status_changed(changes: list[dict]) -> None:
    if not changes or not outbox.anyone_listens(events.ORDER_STATUS_CHANGED):
        return
    for change in changes:
        outbox.publish(events.ORDER_STATUS_CHANGED, {"order_type": "replenishment", **change})


def on_sync_failed(failure: dict) -> None:
    if outbox.anyone_listens(events.SYNC_FAILED):
        outbox.publish(events.SYNC_FAILED, failure)


on_grab_answered.wanted = lambda: outbox.anyone_listens(events.GRAB_ANSWERED)
on_order_status_changed.wanted = lambda: outbox.anyone_listens(events.ORDER_STATUS_CHANGED)
on_sync_failed.wanted = lambda: outbox.anyone_listens(events.SYNC_FAILED)


def register() -> None:
    from allocation import hooks as allocation_hooks
    from channels_sync import hooks as channel_hooks

    for registry, hook in (
        (allocation_hooks.grab_answered, on_grab_answered),
        (allocation_hooks.order_status_changed, on_order_status_changed),
        (channel_hooks.sync_failed, on_sync_failed),
    ):
        if hook not in registry:
            registry.append(hook)
