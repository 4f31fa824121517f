"""Logistics rules, confirming orders, booking shipments, shipping the stock and reporting the
fulfilment back to the platform (确认发货).

- ``rule_choose(facts)``: the first active ``LogisticsRule`` by priority whose every filled
  condition matches (shop, country, state, postcode range, weight, order value, goods
  category), with the reason each earlier rule lost (the rule tester shows them).
- ``orders_confirm(order_ids=..., user=...)``: per order, in its own transaction with the order
  row locked: RESERVED -> CONFIRMED (compare-and-set), the rule chosen, a ``Shipment`` written
  with the idempotency key ``ship-<order>``, and the booking queued after commit
  (``channels_sync.shipment_book``). Returns (confirmed ids, {order id: refusal}).
- ``shipment_book(shipment_id)``: BOOKING is stored before the carrier call (no network inside
  a transaction); the carrier adapter looks the key up before creating, so a retry after a
  lost answer or a killed worker finds the first booking. Then, in one transaction with the
  shipment locked and still BOOKING: tracking number and label stored, the reserved stock
  issued (``ledger.issue(kind=out_order_shipment, from_reserved=True)``, key
  ``order-ship:<order>:<warehouse>``), the order SHIPPED and the fulfilment report queued
  (``report_status = pending`` is the outbox row, drained by ``fulfilment_report``). A failed
  booking leaves the order CONFIRMED with the error, and ``shipment_retry`` books again.
- ``fulfilment_report(shipment_id)``: tells the platform (carrier, tracking number); each call
  is an ``OrderEvent`` (REPORTED / REPORT_FAILED with the platform's message).
- ``tracking_pull()``: carrier scan events of booked shipments until delivered.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_sync.carriers import for_carrier
from channels_sync.carriers.base import Address, CarrierError, ShipmentRequest
from channels_sync.exceptions import ChannelError
from channels_sync.models import (
    LogisticsRule,
    Order,
    OrderAllocation,
    OrderEvent,
    Shipment,
)
from inventory import ledger
from inventory.models import Goods
from wms.locks import advisory_lock
from wms.outbox import enqueue_on_commit

logger = logging.getLogger(__name__)

MAX_REPORT_ATTEMPTS = 8


@dataclass
class OrderFacts:
    shop_id: int | None
    country: str
    state: str
    postcode: str
    weight: Decimal
    value: Decimal
    category_ids: set[int] = field(default_factory=set)


@dataclass
class RuleTrace:
    rule: LogisticsRule
    matched: bool
    reasons: list[str]


def order_facts(order: Order) -> OrderFacts:
    goods_ids = list(order.lines.exclude(goods=None).values_list("goods_id", flat=True))
    categories = set(
        Goods.objects.filter(pk__in=goods_ids, category__isnull=False).values_list(
            "category_id", flat=True
        )
    )
    return OrderFacts(
        shop_id=order.shop_id,
        country=order.country,
        state=order.state,
        postcode=order.postcode,
        weight=order.weight,
        value=order.total,
        category_ids=categories,
    )


def _postcode_in(code: str, low: str, high: str) -> bool:
    code = code.strip()
    if code.isdigit() and (not low or low.isdigit()) and (not high or high.isdigit()):
        n = int(code)
        return (not low or n >= int(low)) and (not high or n <= int(high))
    return (not low or code >= low) and (not high or code <= high)


def _n(value: Decimal) -> str:
    text = format(Decimal(value).normalize(), "f")
    return text


def rule_explain(rule: LogisticsRule, facts: OrderFacts) -> list[str]:
    """Why ``rule`` does not match ``facts`` (empty: it matches)."""
    why = []
    if rule.shop_id and rule.shop_id != facts.shop_id:
        why.append(_("another shop"))
    if rule.country and rule.country.upper() != (facts.country or "").upper():
        why.append(_("country is not %(c)s") % {"c": rule.country})
    if rule.state and rule.state.upper() != (facts.state or "").upper():
        why.append(_("state is not %(s)s") % {"s": rule.state})
    if (rule.postcode_from or rule.postcode_to) and not _postcode_in(
        facts.postcode or "", rule.postcode_from, rule.postcode_to
    ):
        why.append(
            _("postcode outside %(a)s–%(b)s")
            % {"a": rule.postcode_from or "…", "b": rule.postcode_to or "…"}
        )
    if rule.weight_min is not None and facts.weight < rule.weight_min:
        why.append(_("lighter than %(w)s kg") % {"w": _n(rule.weight_min)})
    if rule.weight_max is not None and facts.weight > rule.weight_max:
        why.append(_("heavier than %(w)s kg") % {"w": _n(rule.weight_max)})
    if rule.value_min is not None and facts.value < rule.value_min:
        why.append(_("order value below %(v)s") % {"v": _n(rule.value_min)})
    if rule.value_max is not None and facts.value > rule.value_max:
        why.append(_("order value above %(v)s") % {"v": _n(rule.value_max)})
    if rule.category_id and rule.category_id not in facts.category_ids:
        why.append(_("no goods of category %(c)s") % {"c": rule.category})
    return why


def rule_choose(facts: OrderFacts) -> tuple[LogisticsRule | None, list[RuleTrace]]:
    """The first matching active rule by priority, and the trace of the rules tried."""
    trace = []
    rules = LogisticsRule.objects.filter(is_active=True).select_related("carrier", "category")
    for rule in rules.order_by("priority", "pk"):
        reasons = rule_explain(rule, facts)
        trace.append(RuleTrace(rule, not reasons, reasons))
        if not reasons:
            return rule, trace
    return None, trace


def orders_confirm(*, order_ids: list[int], user) -> tuple[list[int], dict[int, str]]:
    confirmed: list[int] = []
    refused: dict[int, str] = {}
    for pk in sorted(set(order_ids)):
        try:
            order_confirm(order_id=pk, user=user)
            confirmed.append(pk)
        except ChannelError as exc:
            refused[pk] = str(exc.message)
    return confirmed, refused


def order_confirm(*, order_id: int, user) -> Shipment:
    """Confirm one order (see module). Raises ``ChannelError`` with the reason."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            raise ChannelError(_("No such order."))
        if order.status != Order.Status.RESERVED:
            raise ChannelError(
                _("Order %(name)s is %(status)s: only reserved orders can be confirmed.")
                % {"name": order, "status": order.get_status_display()}
            )
        rule, _trace = rule_choose(order_facts(order))
        if rule is None:
            raise ChannelError(
                _("No logistics rule matches order %(name)s: add one or widen a rule.")
                % {"name": order}
            )
        if rule.method == LogisticsRule.Method.CARRIER and not rule.carrier.is_active:
            raise ChannelError(_("Carrier %(c)s is switched off.") % {"c": rule.carrier})
        shipment = Shipment.objects.create(
            order=order,
            method=rule.method,
            carrier=rule.carrier if rule.method == LogisticsRule.Method.CARRIER else None,
            service=rule.service or (rule.carrier.default_service if rule.carrier else ""),
            rule=rule,
            idempotency_key=f"ship-{order.pk}",
        )
        Order.objects.filter(pk=order.pk, status=Order.Status.RESERVED).update(
            status=Order.Status.CONFIRMED, confirmed_at=timezone.now()
        )
        OrderEvent.objects.create(
            order=order,
            kind=OrderEvent.Kind.CONFIRMED,
            user=user,
            data={"rule": rule.pk, "method": rule.method, "carrier": rule.carrier_id},
            message=str(rule),
        )
        enqueue_on_commit("channels_sync.shipment_book", shipment.pk)
        return shipment


def shipment_retry(*, shipment_id: int, user) -> None:
    """Book a FAILED shipment again (the same key: never a second parcel)."""
    with transaction.atomic():
        updated = (
            Shipment.objects.filter(pk=shipment_id, status=Shipment.Status.FAILED)
            .exclude(order__status=Order.Status.CANCELLED)
            .update(status=Shipment.Status.PENDING)
        )
        if not updated:
            if Shipment.objects.filter(
                pk=shipment_id, order__status=Order.Status.CANCELLED
            ).exists():
                raise ChannelError(_("The order was cancelled on the platform: nothing to book."))
            raise ChannelError(_("Only a failed booking can be retried."))
        enqueue_on_commit("channels_sync.shipment_book", shipment_id)


def _request(shipment: Shipment) -> ShipmentRequest:
    order = shipment.order
    warehouse = order.warehouse
    sender = Address(
        name=(warehouse.name if warehouse else "Warehouse")[:40],
        lines=tuple((warehouse.address if warehouse else "").splitlines()[:2] or ["-"]),
        suburb="",
        state="",
        postcode="",
        country="AU",
    )
    recipient = Address(
        name=order.ship_name or order.customer_name or "-",
        lines=tuple(x for x in (order.address1, order.address2) if x),
        suburb=order.city,
        state=order.state,
        postcode=order.postcode,
        country=order.country,
        email=order.customer_email,
    )
    return ShipmentRequest(
        reference=shipment.idempotency_key,
        order_name=order.name,
        service=shipment.service,
        sender=sender,
        recipient=recipient,
        weight_kg=order.weight,
        value=order.total,
        currency=order.currency,
        contents=tuple((li.sku, li.title, li.quantity) for li in order.lines.all()),
    )


def shipment_book(shipment_id: int, *, carrier_options: dict | None = None) -> Shipment | None:
    """Book one shipment (see the module docstring). Under the session advisory lock
    ``channels_sync.shipment_book:<shipment>``: a second run at the same time (the task
    delivered twice) returns the shipment as it is without calling the carrier, since its
    look-up could not yet see the first run's booking; the lock dies with a killed worker's
    connection, so a redelivery after a crash still books."""
    with advisory_lock(f"channels_sync.shipment_book:{shipment_id}") as acquired:
        if not acquired:
            return Shipment.objects.filter(pk=shipment_id).first()
        return _book(shipment_id, carrier_options)


def _book(shipment_id: int, carrier_options: dict | None) -> Shipment | None:
    with transaction.atomic():
        shipment = (
            Shipment.objects.select_for_update(of=("self",))
            .select_related("order", "order__warehouse", "carrier")
            .filter(pk=shipment_id)
            .first()
        )
        if shipment is None or shipment.status not in {
            Shipment.Status.PENDING,
            Shipment.Status.BOOKING,
        }:
            return shipment
        if shipment.order.status == Order.Status.CANCELLED:
            return shipment  # cancelled on the platform before booking: never book it
        Shipment.objects.filter(pk=shipment.pk).update(
            status=Shipment.Status.BOOKING, attempts=shipment.attempts + 1
        )
    booking = None
    if shipment.method == "carrier":
        adapter = None
        try:
            adapter = for_carrier(shipment.carrier, **(carrier_options or {}))
            booking = adapter.book_shipment(_request(shipment))
        except CarrierError as exc:
            with transaction.atomic():
                Shipment.objects.filter(pk=shipment.pk, status=Shipment.Status.BOOKING).update(
                    status=Shipment.Status.FAILED, last_error=str(exc)[:1000]
                )
                OrderEvent.objects.create(
                    order_id=shipment.order_id,
                    kind=OrderEvent.Kind.BOOKING_FAILED,
                    message=str(exc)[:1000],
                )
            shipment.refresh_from_db()
            return shipment
        finally:
            if adapter is not None:
                adapter.close()
    return _ship(shipment.pk, booking)


def _ship(shipment_id: int, booking) -> Shipment:
    with transaction.atomic():
        shipment = Shipment.objects.select_for_update(of=("self",)).get(pk=shipment_id)
        if shipment.status != Shipment.Status.BOOKING:
            return shipment  # another run finished it
        order = Order.objects.select_for_update().get(pk=shipment.order_id)
        now = timezone.now()
        if booking is not None:
            shipment.carrier_ref = booking.carrier_ref
            shipment.tracking_number = booking.tracking_number
            shipment.label_pdf = booking.label_pdf
        shipment.status = Shipment.Status.BOOKED
        shipment.booked_at = now
        shipment.last_error = ""
        shipment.report_status = "pending"
        shipment.save(
            update_fields=[
                "carrier_ref",
                "tracking_number",
                "label_pdf",
                "status",
                "booked_at",
                "last_error",
                "report_status",
            ]
        )
        by_warehouse: dict[int, list[ledger.Pick]] = defaultdict(list)
        for a in OrderAllocation.objects.filter(order=order).order_by("pk"):
            by_warehouse[a.warehouse_id].append(
                ledger.Pick(goods_id=a.goods_id, quantity=a.quantity, balance_id=a.balance_id)
            )
        for warehouse_id, picks in sorted(by_warehouse.items()):
            ledger.issue(
                kind=ledger.Kind.OUTBOUND_ORDER_SHIPMENT,
                warehouse_id=warehouse_id,
                lines=picks,
                document=ledger.Document(type="shop_order", id=order.pk, ref=order.name),
                reason="order shipment",
                idempotency_key=f"order-ship:{order.pk}:{warehouse_id}",
                from_reserved=True,
            )
        Order.objects.filter(pk=order.pk).update(status=Order.Status.SHIPPED, shipped_at=now)
        OrderEvent.objects.create(
            order=order,
            kind=OrderEvent.Kind.SHIPPED,
            data={
                "tracking": shipment.tracking_number,
                "existed": bool(booking and booking.existed),
            },
        )
        enqueue_on_commit("channels_sync.fulfilment_report", shipment.pk)
        return shipment


def _carrier_label(shipment: Shipment) -> str:
    if shipment.carrier_id:
        return shipment.carrier.get_kind_display()
    return str(LogisticsRule.Method(shipment.method).label)


def fulfilment_report(shipment_id: int, *, source=None) -> str:
    """Report one shipped order to its platform; returns the report status ("skipped" when
    there is nothing to report, or when another run is reporting it right now). Under the
    session advisory lock ``channels_sync.fulfilment_report:<shipment>``: the task queued after
    shipping and the minute beat never report one shipment at once (both would read that no
    fulfilment exists, and the second create is a duplicate or a false failure)."""
    with advisory_lock(f"channels_sync.fulfilment_report:{shipment_id}") as acquired:
        if not acquired:
            return "skipped"
        return _report(shipment_id, source)


def _report(shipment_id: int, source) -> str:
    from channels_sync.adapters.http import PlatformError
    from channels_sync.adapters.orders import order_source_for

    shipment = (
        Shipment.objects.select_related("order", "order__shop", "carrier")
        .filter(pk=shipment_id, report_status__in=["pending", "failed"])
        .first()
    )
    if shipment is None:
        return "skipped"
    order = shipment.order
    own = source is None
    number = shipment.tracking_number or f"LOCAL-{order.pk}"
    try:
        source = source or order_source_for(order.shop)
        result = source.report_fulfilment(
            order_ref=order.platform_order_id,
            carrier=str(_carrier_label(shipment)),
            tracking_number=number,
        )
    except (PlatformError, ChannelError) as exc:
        attempts = shipment.report_attempts + 1
        transient = getattr(exc, "transient", False)
        status = "pending" if transient and attempts < MAX_REPORT_ATTEMPTS else "failed"
        Shipment.objects.filter(pk=shipment.pk).update(
            report_status=status, report_attempts=attempts, report_error=str(exc)[:1000]
        )
        OrderEvent.objects.create(
            order=order, kind=OrderEvent.Kind.REPORT_FAILED, message=str(exc)[:1000]
        )
        return status
    finally:
        if own and source is not None:
            source.close()
    Shipment.objects.filter(pk=shipment.pk).update(
        report_status="done", report_attempts=shipment.report_attempts + 1, report_error=""
    )
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.REPORTED,
        data={"fulfilment": result.fulfilment_ref, "already": result.already_reported},
    )
    return "done"


def fulfilment_report_retry(*, shipment_id: int) -> None:
    with transaction.atomic():
        if not Shipment.objects.filter(pk=shipment_id, report_status="failed").update(
            report_status="pending", report_attempts=0
        ):
            raise ChannelError(_("Only a failed report can be retried."))
        enqueue_on_commit("channels_sync.fulfilment_report", shipment_id)


def tracking_pull(*, carrier_options: dict | None = None) -> int:
    """Read scan events of booked carrier shipments; delivered ones stop being asked."""
    from channels_sync.models import Carrier

    updated = 0
    for carrier in Carrier.objects.filter(is_active=True):
        rows = list(
            Shipment.objects.filter(carrier=carrier, status=Shipment.Status.BOOKED).exclude(
                tracking_number=""
            )
        )
        if not rows:
            continue
        adapter = for_carrier(carrier, **(carrier_options or {}))
        try:
            events = adapter.tracking_events([s.tracking_number for s in rows])
        except CarrierError:
            logger.warning("tracking not read", extra={"carrier": carrier.pk})
            continue
        finally:
            adapter.close()
        for s in rows:
            found = events.get(s.tracking_number)
            if found is None:
                continue
            data = [e.__dict__ for e in found]
            delivered = any(e.delivered for e in found)
            changes = {"tracking_events": data}
            if delivered:
                changes.update(status=Shipment.Status.DELIVERED, delivered_at=timezone.now())
            if data != s.tracking_events or delivered:
                Shipment.objects.filter(pk=s.pk, status=Shipment.Status.BOOKED).update(**changes)
                OrderEvent.objects.create(
                    order_id=s.order_id,
                    kind=OrderEvent.Kind.TRACKING,
                    message=found[0].description if found else "",
                )
                updated += 1
    return updated
