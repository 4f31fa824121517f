"""After-commit ledger hook of orders: stock arriving (on hand up) asks for short orders to be
routed again, at most once every few seconds per process; the minute beat
(``channels_sync.reroute_short_orders``) is the safety net when the broker is down."""

from __future__ import annotations

import logging

from inventory import hooks

logger = logging.getLogger(__name__)


def reroute_after_stock_arrives(event: hooks.PostingEvent) -> None:
    if not any((m.on_hand_delta or 0) > 0 for m in event.movements):
        return
    from django.core.cache import cache

    from wms.outbox import task_by_name

    if not cache.add("channels_sync:reroute-soon", 1, timeout=5):
        return
    try:
        task_by_name("channels_sync.reroute_short_orders").apply_async(retry=False)
    except Exception:  # noqa: BLE001 - broker down: the minute beat reroutes them
        logger.warning("short-order reroute not queued")


def register() -> None:
    hooks.register_after_commit(reroute_after_stock_arrives)


def unregister() -> None:
    hooks.unregister_after_commit(reroute_after_stock_arrives)
