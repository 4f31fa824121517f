"""Store returns (门店退货): filed by the store against a received order, received by the
warehouse as an inbound sales return through ``inventory.services.stock`` (so the auto-freeze
rules for returns freeze it inside the receiving transaction). Both steps are on the order's
timeline."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from allocation.exceptions import AllocationError, InvalidQuantity, InvalidState, NotAllowed
from allocation.models import (
    OrderEvent,
    ReplenishmentOrder,
    Store,
    StoreReturn,
    StoreReturnLine,
)
from inventory.models import InboundSheet
from inventory.services import stock as stock_services


def return_file(
    *,
    user,
    order_id: int,
    lines: Mapping[int, int],
    reason: str,
    note: str = "",
    client_key: str = "",
) -> StoreReturn:
    """File a return of a received order of one of the user's stores: per order line id, the
    units sent back (at most what arrived, less what earlier returns took). Refuses another
    store's order (NotAllowed), an order not received, no units, too many units, a bad reason.
    Locks the order row, so two returns filed at once cannot both take the same units.
    ``client_key`` (the return form's token): the order's return filed with the same key is
    returned as it is, nothing filed again (a double tap files one return)."""
    client_key = (client_key or "").strip()[:64]
    if reason not in StoreReturn.Reason.values:
        raise AllocationError(_("Choose a reason."), field="reason")
    with transaction.atomic():
        order = (
            ReplenishmentOrder.objects.select_for_update()
            .filter(pk=order_id, store__in=Store.objects.for_user(user))
            .first()
        )
        if order is None:
            raise NotAllowed(_("No such order for your stores."))
        if client_key:
            same = StoreReturn.objects.filter(order=order, client_key=client_key).first()
            if same is not None:
                return same
        if order.status != ReplenishmentOrder.Status.RECEIVED:
            raise InvalidState(_("Only a received order can have a return."))
        order_lines = {ln.pk: ln for ln in order.lines.select_related("goods")}
        returned = dict(
            StoreReturnLine.objects.filter(order_line__order=order)
            .values("order_line_id")
            .annotate(n=Sum("quantity"))
            .values_list("order_line_id", "n")
        )
        wanted = {}
        for line_id, quantity in lines.items():
            if line_id not in order_lines:
                raise NotAllowed(_("A line does not belong to this order."))
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise InvalidQuantity(_("Enter whole numbers of zero or more."))
            if quantity == 0:
                continue
            line = order_lines[line_id]
            room = (line.received or 0) - returned.get(line_id, 0)
            if quantity > room:
                raise InvalidQuantity(
                    _("%(sku)s: at most %(room)s units can be returned.")
                    % {"sku": line.goods.sku, "room": room}
                )
            wanted[line_id] = quantity
        if not wanted:
            raise InvalidQuantity(_("Enter the units to return."))
        store_return = StoreReturn.objects.create(
            order=order,
            store_id=order.store_id,
            reason=reason,
            note=note[:255],
            filed_by=user,
            client_key=client_key,
        )
        StoreReturnLine.objects.bulk_create(
            [
                StoreReturnLine(
                    store_return=store_return,
                    order_line=order_lines[line_id],
                    goods_id=order_lines[line_id].goods_id,
                    quantity=quantity,
                )
                for line_id, quantity in wanted.items()
            ]
        )
        OrderEvent.objects.create(
            order=order,
            kind=OrderEvent.Kind.RETURN_FILED,
            actor=user,
            note=f"{store_return.ref}: {store_return.reason}",  # a code: shown in the reader's language
        )
        return store_return


def return_receive(*, return_id: int, bin, user) -> StoreReturn:
    """Receive a filed return into ``bin`` of the order's warehouse: one inbound sales-return
    sheet (each line keeps the batch it left with), posted through the stock services so the
    returns auto-freeze rule applies in the same transaction. Compare-and-set filed ->
    received; receiving twice is refused."""
    with transaction.atomic():
        store_return = StoreReturn.objects.select_for_update().get(pk=return_id)
        if store_return.status != StoreReturn.Status.FILED:
            raise InvalidState(_("This return has already been received."))
        order = store_return.order
        if bin.warehouse_id != order.warehouse_id:
            raise NotAllowed(_("Choose a bin of warehouse the order left from."), field="bin")
        sheet = stock_services.inbound_sheet_create(
            warehouse=order.warehouse,
            type=InboundSheet.Type.SALES_RETURN,
            user=user,
            reference=f"{store_return.ref} {order.store.code}"[:40],
            note=store_return.note,
        )
        for line in store_return.lines.select_related("goods", "order_line__balance__batch"):
            stock_services.inbound_line_add(
                sheet=sheet,
                goods=line.goods,
                bin=bin,
                quantity=line.quantity,
                batch=line.order_line.balance.batch,
            )
        stock_services.inbound_sheet_post(sheet_id=sheet.pk, user=user)
        store_return.status = StoreReturn.Status.RECEIVED
        store_return.received_by = user
        store_return.received_at = timezone.now()
        store_return.inbound_sheet = sheet
        store_return.save(update_fields=["status", "received_by", "received_at", "inbound_sheet"])
        OrderEvent.objects.create(
            order=order,
            kind=OrderEvent.Kind.RETURN_RECEIVED,
            actor=user,
            note=f"{store_return.ref} -> {sheet.pk}",
        )
        return store_return
