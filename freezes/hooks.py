"""Hooks the freezes app calls, so apps above it (the API's webhooks) can act on freeze events
without being imported here.

``register_event_hook(fn)``: ``fn(event: FreezeEvent) -> None`` is called inside the service's
transaction right after each freeze event is written (``services.common.add_event``), so
anything it writes (an outbox row) commits or rolls back with the event. It must not do network
I/O or lock stock rows; it queues work with ``transaction.on_commit``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from freezes.models import FreezeEvent

EventHook = Callable[["FreezeEvent"], None]
event_hooks: list[EventHook] = []


def register_event_hook(fn: EventHook) -> EventHook:
    """Call ``fn(event)`` after every freeze event is written. Idempotent."""
    if fn not in event_hooks:
        event_hooks.append(fn)
    return fn


def unregister_event_hook(fn: EventHook) -> None:
    if fn in event_hooks:
        event_hooks.remove(fn)


def fire(event: FreezeEvent) -> None:
    for fn in list(event_hooks):
        fn(event)
