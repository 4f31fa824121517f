"""Replenishment orders: created (at the window's close) -> picking -> shipped -> received, or
cancelled before shipping. Every status change is a compare-and-set on the order row under its
lock and one append-only ``OrderEvent`` (the timeline). Shipping posts
``out_store_replenishment`` movements from the reservation (``ledger.issue(from_reserved=True)``
on each line's balance); cancelling unreserves it."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from allocation import hooks
from allocation.exceptions import InvalidQuantity, InvalidState, NotAllowed
from allocation.models import OrderEvent, ReplenishmentLine, ReplenishmentOrder, Store
from inventory import ledger
from inventory.models import StockMovement

DOCUMENT_TYPE = "replenishment"
Status = ReplenishmentOrder.Status


def document(order: ReplenishmentOrder) -> ledger.Document:
    return ledger.Document(type=DOCUMENT_TYPE, id=order.pk, ref=order.ref)


def _locked(order_id: int) -> ReplenishmentOrder:
    return ReplenishmentOrder.objects.select_for_update().get(pk=order_id)


def _event(order, kind, user, note: str = "", details: dict | None = None) -> OrderEvent:
    event = OrderEvent.objects.create(
        order=order, kind=kind, actor=user, note=note[:255], details=details or {}
    )
    hooks.orders_changed([hooks_change(order, event)])
    return event


def hooks_change(order: ReplenishmentOrder, event: OrderEvent) -> dict:
    """The plain description of a status change that ``allocation.hooks`` subscribers get."""
    return {
        "order_id": order.pk,
        "ref": order.ref,
        "store_id": order.store_id,
        "window_id": order.window_id,
        "warehouse_id": order.warehouse_id,
        "status": order.status,
        "kind": event.kind,
        "actor_id": event.actor_id,
        "note": event.note,
        "details": event.details,
        "at": event.created_at.isoformat(),
    }


def order_start_picking(*, order_id: int, user) -> ReplenishmentOrder:
    """created -> picking (printing the pick list). Picking again is harmless."""
    with transaction.atomic():
        order = _locked(order_id)
        if order.status == Status.PICKING:
            return order
        if order.status != Status.CREATED:
            raise InvalidState(
                _("Order %(ref)s is %(status)s: it cannot be picked.")
                % {"ref": order.ref, "status": order.get_status_display()}
            )
        order.status = Status.PICKING
        order.save(update_fields=["status"])
        _event(order, OrderEvent.Kind.PICKING, user)
        return order


def order_ship(*, order_id: int, user) -> ReplenishmentOrder:
    """created/picking -> shipped: one ledger posting taking every line's units from the
    reservation on its balance. Shipping twice is harmless (the key posts once); a cancelled
    or received order is refused."""
    with transaction.atomic():
        order = _locked(order_id)
        if order.status == Status.SHIPPED:
            return order
        if order.status not in (Status.CREATED, Status.PICKING):
            raise InvalidState(
                _("Order %(ref)s is %(status)s: it cannot be shipped.")
                % {"ref": order.ref, "status": order.get_status_display()}
            )
        lines = list(order.lines.all())
        ledger.issue(
            kind=StockMovement.Kind.OUTBOUND_STORE_REPLENISHMENT,
            warehouse_id=order.warehouse_id,
            lines=[
                ledger.Pick(goods_id=ln.goods_id, quantity=ln.quantity, balance_id=ln.balance_id)
                for ln in lines
            ],
            document=document(order),
            operator=user,
            reason=order.store.code,
            from_reserved=True,
            idempotency_key=f"replenishment-{order.pk}-ship",
        )
        order.status = Status.SHIPPED
        order.shipped_at = timezone.now()
        order.save(update_fields=["status", "shipped_at"])
        _event(order, OrderEvent.Kind.SHIPPED, user)
        return order


def order_cancel(*, order_id: int, user, note: str = "") -> ReplenishmentOrder:
    """created/picking -> cancelled, unreserving its stock. A shipped or received order is
    refused (the goods left the warehouse: the store files a return)."""
    with transaction.atomic():
        order = _locked(order_id)
        if order.status == Status.CANCELLED:
            return order
        if order.status not in (Status.CREATED, Status.PICKING):
            raise InvalidState(
                _("Order %(ref)s has been shipped: it cannot be cancelled; file a return.")
                % {"ref": order.ref}
                if order.status in (Status.SHIPPED, Status.RECEIVED)
                else _("This order cannot be cancelled.")
            )
        ledger.unreserve(
            holds=[
                ledger.Hold(balance_id=ln.balance_id, quantity=ln.quantity)
                for ln in order.lines.all()
            ],
            document=document(order),
            operator=user,
            reason=note[:200],
            idempotency_key=f"replenishment-{order.pk}-cancel",
        )
        order.status = Status.CANCELLED
        order.save(update_fields=["status"])
        _event(order, OrderEvent.Kind.CANCELLED, user, note)
        return order


def order_receive(
    *, order_id: int, user, received: Mapping[int, tuple[int, int]], note: str = ""
) -> ReplenishmentOrder:
    """shipped -> received by the store manager of the order's store: per line id
    (units arrived, of which damaged); lines not named arrived in full. Refuses receiving more
    than was shipped, damaged above received, negative or non-whole numbers, another store's
    order (NotAllowed), an order not shipped yet; receiving twice is refused too."""
    with transaction.atomic():
        order = _locked(order_id)
        if not Store.objects.for_user(user).filter(pk=order.store_id).exists():
            raise NotAllowed(_("You do not run this store."))
        if order.status != Status.SHIPPED:
            raise InvalidState(
                _("Order %(ref)s is %(status)s: only a shipped order can be received.")
                % {"ref": order.ref, "status": order.get_status_display()}
            )
        lines = list(order.lines.select_related("goods"))
        known = {ln.pk for ln in lines}
        if set(received) - known:
            raise NotAllowed(_("A line does not belong to this order."))
        shortages = []
        for line in lines:
            got, damaged = received.get(line.pk, (line.quantity, 0))
            for value in (got, damaged):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise InvalidQuantity(_("Enter whole numbers of zero or more."))
            if got > line.quantity:
                raise InvalidQuantity(
                    _("%(sku)s: %(got)s received but only %(shipped)s were shipped.")
                    % {"sku": line.goods.sku, "got": got, "shipped": line.quantity}
                )
            if damaged > got:
                raise InvalidQuantity(
                    _("%(sku)s: more damaged (%(damaged)s) than received (%(got)s).")
                    % {"sku": line.goods.sku, "damaged": damaged, "got": got}
                )
            line.received, line.damaged = got, damaged
            if got < line.quantity or damaged:
                shortages.append([line.goods.sku, line.quantity - got, damaged])
        ReplenishmentLine.objects.bulk_update(lines, ["received", "damaged"])
        order.status = Status.RECEIVED
        order.received_at = timezone.now()
        order.save(update_fields=["status", "received_at"])
        _event(
            order,
            OrderEvent.Kind.RECEIVED,
            user,
            note.strip(),
            {"shortages": shortages} if shortages else None,
        )
        return order
