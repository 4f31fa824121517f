"""In-transaction hooks of store allocation, for other apps to subscribe to (the API's webhook
outbox, for one) without this app knowing them.

``grab_answered``: a list of callables ``hook(requests)`` receiving a list of ``GrabRequest``
objects that were just answered (granted, partly granted or refused): one request for a
first-come grab, every answered request of a window when it closes (priority at close). Each
request carries its answer (``status``, ``granted``, ``reason_code``, ``reason_params``,
``answered_at``) and its ids (``pk``, ``window_id``, ``pool_id``, ``store_id``); related objects
are not loaded. A hook may carry ``wanted() -> bool`` (see ``wants_answers``). A hook runs INSIDE the transaction that wrote the answer, so what it writes
commits or rolls back with it; it must not raise for a valid answer (raising undoes the
answer) and should stay short (one INSERT): during a first-come grab the pool's hot row stays
locked until the hook returns. With no hook registered a first-come grab is a single
auto-committed statement; with one, that statement and the hooks share one transaction.

Register once, at app start (``AppConfig.ready``)::

    from allocation import hooks
    hooks.grab_answered.append(my_outbox_writer)
"""

from __future__ import annotations

from collections.abc import Callable

grab_answered: list[Callable[[list], None]] = []


def wants_answers() -> bool:
    """Whether a first-come grab must run its hooks: a hook may carry ``wanted()`` (the API's
    asks whether anyone subscribes to ``grab.answered``, from a per-process snapshot, no query);
    a hook without it always runs. False lets the grab stay one auto-committed statement."""
    return _wanted(grab_answered)


def _wanted(registry: list) -> bool:
    return any(getattr(hook, "wanted", None) is None or hook.wanted() for hook in list(registry))


def answered(requests: list) -> None:
    """Call every ``grab_answered`` hook with the answered requests (none: nothing to do)."""
    if not requests:
        return
    for hook in list(grab_answered):
        hook(requests)


#: ``hook(changes)``: replenishment orders whose status just changed, as a list of plain
#: dicts ``{"order_id", "ref", "store_id", "window_id", "warehouse_id", "status", "kind",
#: "actor_id", "note", "details", "at"}`` (``kind`` is the timeline event: created, picking,
#: shipped, received, cancelled; ``note`` as stored — a person's words; ``details`` the event's
#: data, e.g. a receipt's ``{"shortages": [[sku, short, damaged], ...]}``). Runs INSIDE the transaction that changed them, like ``grab_answered``.
order_status_changed: list[Callable[[list[dict]], None]] = []


def wants_order_changes() -> bool:
    """Like ``wants_answers`` for ``order_status_changed`` (a window close describes every new
    order only when a hook wants them)."""
    return _wanted(order_status_changed)


def orders_changed(changes: list[dict]) -> None:
    """Call every ``order_status_changed`` hook (no changes: nothing to do)."""
    if not changes:
        return
    for hook in list(order_status_changed):
        hook(changes)
