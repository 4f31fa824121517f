"""The webhook event types. Extensible: an app registers its own from ``AppConfig.ready()``
(``register_event("order.status_changed", _("Order status changed"))``) and writes them with
``outbox.publish``; subscriptions choose among whatever is registered."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

STOCK_CHANGED = "stock.changed"
FREEZE_CREATED = "freeze.created"
FREEZE_RELEASED = "freeze.released"
ORDER_STATUS_CHANGED = "order.status_changed"
GRAB_ANSWERED = "grab.answered"
SYNC_FAILED = "sync.failed"

_EVENTS: dict[str, str | Promise] = {
    STOCK_CHANGED: _("Stock changed"),
    FREEZE_CREATED: _("Freeze created"),
    FREEZE_RELEASED: _("Freeze released"),
    ORDER_STATUS_CHANGED: _("Replenishment order status changed"),
    GRAB_ANSWERED: _("Grab request answered"),
    SYNC_FAILED: _("Stock push failed"),
}


def register_event(code: str, label: str | Promise) -> None:
    _EVENTS[code] = label


def event_choices() -> list[tuple[str, str | Promise]]:
    return list(_EVENTS.items())


def is_event(code: str) -> bool:
    return code in _EVENTS
