"""Stock documents: inbound and outbound sheets, transfers and counts, posted through the ledger.

Every function here is one business action in one transaction, with keyword-only arguments,
raising ``inventory.exceptions.StockError`` subclasses that views turn into messages. None of
them writes ``StockBalance`` or ``StockMovement``: quantities change only in ``inventory.ledger``.

Document state changes are compare-and-set (``filter(pk=..., status=DRAFT).update(...)``, count
checked) or take the document row lock first (``inventory.locks.lock_document``), before the
ledger locks bins and balances: the lock order of ``inventory.locks``. A posting also carries an
idempotency key derived from the document, so a posted document never posts twice (double
submit, two tabs).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory import hooks, ledger
from inventory.exceptions import (
    AlreadyPosted,
    InvalidInput,
    InvalidQuantity,
    NotAllowed,
)
from inventory.locks import lock_document
from inventory.models import (
    Batch,
    DocumentStatus,
    DocumentType,
    Goods,
    InboundLine,
    InboundSheet,
    OutboundLine,
    OutboundSheet,
    StockBalance,
    StockCount,
    StockCountLine,
    StockMovement,
    StockTransfer,
    StockTransferLine,
)
from inventory.reasons import reason as reason_code
from warehouses.models import Bin, Warehouse

Kind = StockMovement.Kind

INBOUND_KINDS = {
    InboundSheet.Type.PURCHASE: Kind.INBOUND_PURCHASE,
    InboundSheet.Type.SALES_RETURN: Kind.INBOUND_SALES_RETURN,
}
OUTBOUND_KINDS = {
    OutboundSheet.Type.PURCHASE_RETURN: Kind.OUTBOUND_PURCHASE_RETURN,
    OutboundSheet.Type.ORDER_REISSUE: Kind.OUTBOUND_ORDER_REISSUE,
    OutboundSheet.Type.ORDER_SHIPMENT: Kind.OUTBOUND_ORDER_SHIPMENT,
    OutboundSheet.Type.STORE_REPLENISHMENT: Kind.OUTBOUND_STORE_REPLENISHMENT,
    OutboundSheet.Type.OTHER: Kind.OUTBOUND_OTHER,
}


def _document(doc) -> ledger.Document:
    kind = {
        InboundSheet: DocumentType.INBOUND,
        OutboundSheet: DocumentType.OUTBOUND,
        StockTransfer: DocumentType.TRANSFER,
        StockCount: DocumentType.COUNT,
    }[type(doc)]
    return ledger.Document(type=kind, id=doc.pk, ref=doc.number)


def _check_bin(bin: Bin, warehouse_id: int, *, must_be_active: bool = True) -> None:
    if bin.warehouse_id != warehouse_id:
        raise NotAllowed(_("Bin %(bin)s belongs to another warehouse.") % {"bin": bin.code})
    if must_be_active and not bin.is_active:
        raise NotAllowed(
            _("Bin %(bin)s is inactive: stock cannot be put into it.") % {"bin": bin.code}
        )


def _check_batch(batch: Batch | None, goods: Goods) -> None:
    if batch is not None and batch.goods_id != goods.pk:
        raise InvalidInput(_("This batch belongs to another goods."))
    if batch is not None and goods.is_combo:
        raise InvalidInput(_("A combo goods line cannot name a batch."))


def _locked_draft(model, pk: int):
    """Lock a document row and return it; refuse when it is not a draft any more."""
    doc = lock_document(model, pk)
    if doc is None:
        raise InvalidInput(_("This document no longer exists."))
    if doc.status != DocumentStatus.DRAFT:
        raise NotAllowed(
            _("%(doc)s is posted: it cannot be changed, only reversed.") % {"doc": doc.number}
        )
    return doc


def _claim(
    model, pk: int, *, from_status: str, to_status: str, too_early: str = "", **fields
) -> None:
    """Compare-and-set a document's status; AlreadyPosted when another request got there first.
    ``too_early``: the refusal (NotAllowed, ``%(doc)s`` its number) when the document is still a
    draft and the step needs it past that (receiving a transfer not shipped yet)."""
    changed = model.objects.filter(pk=pk, status=from_status).update(status=to_status, **fields)
    if changed != 1:
        number = f"{model.PREFIX}-{pk:06d}"
        if too_early and model.objects.filter(pk=pk, status=DocumentStatus.DRAFT).exists():
            raise NotAllowed(too_early % {"doc": number})
        raise AlreadyPosted(
            _("%(doc)s was already posted (or changed) by another request; nothing was done.")
            % {"doc": number}
        )


def batch_for_line(
    *,
    goods: Goods,
    batch_no: str,
    production_date: datetime.date | None = None,
    expiry_date: datetime.date | None = None,
) -> Batch:
    """The goods' batch numbered ``batch_no``, created with the given dates when new (expiry
    defaults to production date + shelf life). An existing batch keeps its dates; giving other
    dates for it is refused (InvalidInput) rather than silently ignored; so is a production
    date whose default expiry would be past the last date there is (on ``production_date``)."""
    batch_no = (batch_no or "").strip()
    if not batch_no:
        raise InvalidInput(_("Give a batch number."))
    if goods.is_combo:
        raise InvalidInput(_("A combo goods line cannot name a batch."))
    if production_date and expiry_date and expiry_date < production_date:
        raise InvalidInput(_("The expiry date is before the production date."))
    if expiry_date is None and production_date and goods.shelf_life_days:
        try:
            expiry_date = production_date + datetime.timedelta(days=goods.shelf_life_days)
        except OverflowError:
            raise InvalidInput(_("Enter a valid date."), field="production_date") from None
    try:
        with transaction.atomic():
            batch, created = Batch.objects.get_or_create(
                goods=goods,
                batch_no=batch_no,
                defaults={
                    "production_date": production_date,
                    "expiry_date": expiry_date,
                    "inbound_date": timezone.localdate(),
                },
            )
    except IntegrityError:
        batch, created = Batch.objects.get(goods=goods, batch_no=batch_no), False
    if not created and (
        (production_date and batch.production_date and production_date != batch.production_date)
        or (expiry_date and batch.expiry_date and expiry_date != batch.expiry_date)
    ):
        raise InvalidInput(
            _("Batch %(batch)s of %(sku)s exists with other dates (expiry %(expiry)s).")
            % {"batch": batch_no, "sku": goods.sku, "expiry": batch.expiry_date or "-"}
        )
    return batch


# --------------------------------------------------------------------------------------------
# Inbound sheets
# --------------------------------------------------------------------------------------------


def inbound_sheet_create(
    *, warehouse: Warehouse, type: str, user, reference: str = "", note: str = ""
) -> InboundSheet:
    """A new draft inbound sheet. Raises NotAllowed for an inactive warehouse."""
    if not warehouse.is_active:
        raise NotAllowed(_("Warehouse %(code)s is inactive.") % {"code": warehouse.code})
    if type not in InboundSheet.Type.values:
        raise InvalidInput(_("Unknown inbound type."))
    return InboundSheet.objects.create(
        warehouse=warehouse, type=type, reference=reference, note=note, created_by=user
    )


def inbound_line_add(
    *,
    sheet: InboundSheet,
    goods: Goods,
    bin: Bin,
    quantity: int,
    batch: Batch | None = None,
    batch_no: str = "",
    production_date: datetime.date | None = None,
    expiry_date: datetime.date | None = None,
) -> InboundLine:
    """Add a line to a draft sheet (locks the sheet row). A ``batch_no`` instead of ``batch``
    finds or creates that batch (``batch_for_line``) in the same transaction, so a refused line
    leaves no new batch behind. Refuses inactive goods or bin, a bin of another warehouse, a
    batch of another goods, a non-positive quantity, a posted sheet."""
    ledger.check_quantity(quantity)
    if not goods.is_active:
        raise NotAllowed(_("Goods %(sku)s is inactive.") % {"sku": goods.sku})
    _check_batch(batch, goods)
    with transaction.atomic():
        sheet = _locked_draft(InboundSheet, sheet.pk)
        if batch is None and (batch_no or "").strip():
            batch = batch_for_line(
                goods=goods,
                batch_no=batch_no,
                production_date=production_date,
                expiry_date=expiry_date,
            )
        _check_bin(bin, sheet.warehouse_id)
        return InboundLine.objects.create(
            sheet=sheet, goods=goods, bin=bin, batch=batch, quantity=quantity
        )


def inbound_line_remove(*, line: InboundLine) -> None:
    """Remove a line of a draft sheet."""
    with transaction.atomic():
        _locked_draft(InboundSheet, line.sheet_id)
        InboundLine.objects.filter(pk=line.pk).delete()


def inbound_sheet_delete(*, sheet: InboundSheet) -> None:
    """Delete a draft sheet and its lines; a posted sheet is refused (reverse it instead)."""
    with transaction.atomic():
        _locked_draft(InboundSheet, sheet.pk)
        InboundSheet.objects.filter(pk=sheet.pk).delete()


def inbound_sheet_post(*, sheet_id: int, user) -> InboundSheet:
    """Post a draft inbound sheet: compare-and-set draft -> posted, then one ledger receipt of
    every line (combos receive their components), in one transaction. A second post (double
    submit, another tab) raises AlreadyPosted and writes nothing. Hooks fire inside (auto-freeze
    of sales returns) and after commit (stock push)."""
    with transaction.atomic():
        _claim(
            InboundSheet,
            sheet_id,
            from_status=DocumentStatus.DRAFT,
            to_status=DocumentStatus.POSTED,
            posted_by=user,
            posted_at=timezone.now(),
        )
        sheet = InboundSheet.objects.get(pk=sheet_id)
        lines = list(sheet.lines.all())
        if not lines:
            raise InvalidInput(_("The sheet has no lines."))
        ledger.receive(
            kind=INBOUND_KINDS[sheet.type],
            lines=[
                ledger.Receipt(
                    goods_id=line.goods_id,
                    bin_id=line.bin_id,
                    quantity=line.quantity,
                    batch_id=line.batch_id,
                )
                for line in lines
            ],
            document=_document(sheet),
            operator=user,
            reason=sheet.reference,
            warehouse_id=sheet.warehouse_id,
            idempotency_key=f"inbound-{sheet.pk}-post",
        )
        return sheet


@dataclass(frozen=True)
class ImportedLine:
    """One checked row of an inbound sheet import: ``batch_no`` (optional) names the goods'
    batch, created with the dates given when it does not exist yet."""

    goods_id: int
    bin_id: int
    quantity: int
    batch_no: str = ""
    production_date: datetime.date | None = None
    expiry_date: datetime.date | None = None


def inbound_sheet_import(
    *,
    warehouse: Warehouse,
    type: str,
    user,
    lines: list[ImportedLine],
    reference: str = "",
    note: str = "",
) -> InboundSheet:
    """Create and post one inbound sheet from checked import rows (the first stock take of a
    new warehouse is one such import), in one transaction: missing batches are created in bulk
    (expiry from the shelf life when not given), lines are inserted in bulk, and the sheet is
    posted through ``inbound_sheet_post`` (one ledger receipt). Raises StockError from the
    posting; the caller's transaction then writes nothing."""
    if not lines:
        raise InvalidInput(_("The sheet has no lines."))
    for line in lines:
        ledger.check_quantity(line.quantity)
    with transaction.atomic():
        sheet = inbound_sheet_create(
            warehouse=warehouse, type=type, user=user, reference=reference, note=note
        )
        InboundSheet.objects.filter(pk=sheet.pk).update(is_import=True)
        batch_ids = _import_batches(lines)
        InboundLine.objects.bulk_create(
            [
                InboundLine(
                    sheet=sheet,
                    goods_id=line.goods_id,
                    bin_id=line.bin_id,
                    batch_id=batch_ids.get((line.goods_id, line.batch_no)),
                    quantity=line.quantity,
                )
                for line in lines
            ],
            batch_size=2000,
        )
        return inbound_sheet_post(sheet_id=sheet.pk, user=user)


def _import_batches(lines: list[ImportedLine]) -> dict[tuple[int, str], int]:
    """Ids of the batches the lines name, creating the missing ones (two or three queries)."""
    wanted: dict[tuple[int, str], ImportedLine] = {}
    for line in lines:
        if not line.batch_no:
            continue
        key = (line.goods_id, line.batch_no)
        known = wanted.get(key)
        # The first dates given for a batch anywhere in the file are its dates.
        wanted[key] = (
            line
            if known is None
            else ImportedLine(
                goods_id=line.goods_id,
                bin_id=line.bin_id,
                quantity=line.quantity,
                batch_no=line.batch_no,
                production_date=known.production_date or line.production_date,
                expiry_date=known.expiry_date or line.expiry_date,
            )
        )
    if not wanted:
        return {}
    goods_ids = sorted({goods_id for goods_id, _no in wanted})

    def existing() -> dict[tuple[int, str], int]:
        rows = Batch.objects.filter(
            goods_id__in=goods_ids, batch_no__in=sorted({no for _g, no in wanted})
        ).values_list("goods_id", "batch_no", "pk")
        return {(g, no): pk for g, no, pk in rows if (g, no) in wanted}

    found = existing()
    missing = [key for key in wanted if key not in found]
    if missing:
        shelf_life = dict(
            Goods.objects.filter(pk__in=goods_ids).values_list("pk", "shelf_life_days")
        )
        today = timezone.localdate()
        new = []
        for goods_id, batch_no in sorted(missing):
            line = wanted[(goods_id, batch_no)]
            expiry = line.expiry_date
            if expiry is None and line.production_date and shelf_life.get(goods_id):
                expiry = line.production_date + datetime.timedelta(days=shelf_life[goods_id])
            new.append(
                Batch(
                    goods_id=goods_id,
                    batch_no=batch_no,
                    production_date=line.production_date,
                    expiry_date=expiry,
                    inbound_date=today,
                )
            )
        Batch.objects.bulk_create(new, ignore_conflicts=True, batch_size=2000)
        found = existing()
    return found


def inbound_sheet_reverse(*, sheet_id: int, user, reason: str) -> InboundSheet:
    """Reverse a posted inbound sheet with a new posted sheet (``reversal_of``) taking the same
    units back out of the same bins and batches. Raises NotAllowed (a draft, a reversal, already
    reversed), InsufficientStock (units already shipped, frozen or reserved), InvalidInput (no
    reason). Locks the original sheet row, then the balances."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give a reason for the reversal."))
    with transaction.atomic():
        original = lock_document(InboundSheet, sheet_id)
        _check_reversible(original)
        reversal = InboundSheet.objects.create(
            warehouse_id=original.warehouse_id,
            type=original.type,
            reference=original.reference,
            note=reason,
            reversal_of=original,
            status=DocumentStatus.POSTED,
            created_by=user,
            posted_by=user,
            posted_at=timezone.now(),
        )
        lines = list(original.lines.select_related("goods"))
        InboundLine.objects.bulk_create(
            [
                InboundLine(
                    sheet=reversal,
                    goods_id=line.goods_id,
                    bin_id=line.bin_id,
                    batch_id=line.batch_id,
                    quantity=line.quantity,
                )
                for line in lines
            ]
        )
        ledger.issue(
            kind=Kind.INBOUND_REVERSAL,
            warehouse_id=original.warehouse_id,
            lines=_exact_picks(
                [(line.goods, line.bin_id, line.batch_id, line.quantity) for line in lines]
            ),
            document=_document(reversal),
            operator=user,
            reason=reason_code("reversal", f"{original.number}: {reason}"),
            idempotency_key=f"inbound-{original.pk}-reverse",
            allow_expired=True,
            override_reason="receipt_reversal",
        )
        return reversal


def _check_reversible(original) -> None:
    if original is None:
        raise InvalidInput(_("This document no longer exists."))
    if original.status != DocumentStatus.POSTED:
        raise NotAllowed(_("Only a posted sheet can be reversed; a draft can be deleted."))
    if original.reversal_of_id is not None:
        raise NotAllowed(_("A reversal cannot be reversed; post a new sheet instead."))
    if type(original).objects.filter(reversal_of=original).exists():
        raise AlreadyPosted(_("%(doc)s is already reversed.") % {"doc": original.number})


def _exact_picks(rows: list[tuple[Goods, int, int | None, int]]) -> list[ledger.Pick]:
    """Picks naming the exact balance of each (goods, bin, batch); combos by their components
    (first-expiry-first-out within the bin)."""
    balance_ids = {
        (g, b, x): pk
        for pk, g, b, x in StockBalance.objects.filter(
            goods_id__in=sorted({goods.pk for goods, *_rest in rows}),
            bin_id__in=sorted({bin_id for _g, bin_id, *_rest in rows}),
        ).values_list("pk", "goods_id", "bin_id", "batch_id")
    }
    picks = []
    for goods, bin_id, batch_id, quantity in rows:
        if goods.is_combo:
            picks.append(ledger.Pick(goods_id=goods.pk, quantity=quantity, bin_id=bin_id))
            continue
        balance_id = balance_ids.get((goods.pk, bin_id, batch_id))
        if balance_id is None:
            raise InvalidInput(_("The stock to take back is no longer in that bin."))
        picks.append(ledger.Pick(goods_id=goods.pk, quantity=quantity, balance_id=balance_id))
    return picks


# --------------------------------------------------------------------------------------------
# Outbound sheets
# --------------------------------------------------------------------------------------------


def outbound_sheet_create(
    *,
    warehouse: Warehouse,
    type: str,
    user,
    reference: str = "",
    note: str = "",
    allow_expired: bool = False,
    expired_reason: str = "",
) -> OutboundSheet:
    """A new draft outbound sheet. ``allow_expired`` needs ``expired_reason`` and the
    ``inventory.ship_expired`` permission."""
    if not warehouse.is_active:
        raise NotAllowed(_("Warehouse %(code)s is inactive.") % {"code": warehouse.code})
    if type not in OutboundSheet.Type.values:
        raise InvalidInput(_("Unknown outbound type."))
    _check_expired_override(user, allow_expired, expired_reason)
    return OutboundSheet.objects.create(
        warehouse=warehouse,
        type=type,
        reference=reference,
        note=note,
        allow_expired=allow_expired,
        expired_reason=expired_reason.strip() if allow_expired else "",
        created_by=user,
    )


def _check_expired_override(user, allow_expired: bool, expired_reason: str) -> None:
    if not allow_expired:
        return
    if not (expired_reason or "").strip():
        raise InvalidInput(_("Give a reason for shipping expired batches."))
    if not user.has_perm("inventory.ship_expired"):
        raise NotAllowed(_("You may not ship expired batches."))


def _check_frozen_outflow(user, lines) -> None:
    """Frozen stock leaves only with the ``ship_frozen`` permission (a manager's decision)."""
    if any(line.from_frozen for line in lines) and not user.has_perm("inventory.ship_frozen"):
        raise NotAllowed(
            _("Only a user allowed to ship frozen stock may post lines taken from frozen stock.")
        )


def outbound_line_add(
    *,
    sheet: OutboundSheet,
    goods: Goods,
    quantity: int,
    bin: Bin | None = None,
    batch: Batch | None = None,
    from_frozen: bool = False,
) -> OutboundLine:
    """Add a line to a draft outbound sheet (locks the sheet row). ``bin`` and ``batch`` are
    optional (first-expiry-first-out picks the rest at posting). ``from_frozen`` only on purchase
    returns and scrap/other sheets."""
    ledger.check_quantity(quantity)
    _check_batch(batch, goods)
    with transaction.atomic():
        sheet = _locked_draft(OutboundSheet, sheet.pk)
        if bin is not None:
            _check_bin(bin, sheet.warehouse_id, must_be_active=False)
        if from_frozen and sheet.type not in OutboundSheet.FROM_FROZEN_TYPES:
            raise NotAllowed(
                _("Frozen stock can leave only as scrap/other outbound or purchase return.")
            )
        return OutboundLine.objects.create(
            sheet=sheet,
            goods=goods,
            bin=bin,
            batch=batch,
            quantity=quantity,
            from_frozen=from_frozen,
        )


def outbound_line_remove(*, line: OutboundLine) -> None:
    with transaction.atomic():
        _locked_draft(OutboundSheet, line.sheet_id)
        OutboundLine.objects.filter(pk=line.pk).delete()


def outbound_sheet_delete(*, sheet: OutboundSheet) -> None:
    with transaction.atomic():
        _locked_draft(OutboundSheet, sheet.pk)
        OutboundSheet.objects.filter(pk=sheet.pk).delete()


def outbound_sheet_post(*, sheet_id: int, user) -> OutboundSheet:
    """Post a draft outbound sheet: compare-and-set draft -> posted, then one ledger issue of
    every line (first-expiry-first-out unless bin/batch given; expired batches only with the
    sheet's override), in one transaction. Raises AlreadyPosted, InsufficientStock,
    ExpiredBatch, NotAllowed; nothing is written then."""
    with transaction.atomic():
        _claim(
            OutboundSheet,
            sheet_id,
            from_status=DocumentStatus.DRAFT,
            to_status=DocumentStatus.POSTED,
            posted_by=user,
            posted_at=timezone.now(),
        )
        sheet = OutboundSheet.objects.get(pk=sheet_id)
        _check_expired_override(user, sheet.allow_expired, sheet.expired_reason)
        lines = list(sheet.lines.all())
        if not lines:
            raise InvalidInput(_("The sheet has no lines."))
        _check_frozen_outflow(user, lines)
        ledger.issue(
            kind=OUTBOUND_KINDS[sheet.type],
            warehouse_id=sheet.warehouse_id,
            lines=[
                ledger.Pick(
                    goods_id=line.goods_id,
                    quantity=line.quantity,
                    bin_id=line.bin_id,
                    batch_id=line.batch_id,
                    from_frozen=line.from_frozen,
                )
                for line in lines
            ],
            document=_document(sheet),
            operator=user,
            reason=sheet.reference,
            idempotency_key=f"outbound-{sheet.pk}-post",
            allow_expired=sheet.allow_expired,
            override_reason=sheet.expired_reason,
        )
        return sheet


def outbound_sheet_reverse(*, sheet_id: int, user, reason: str) -> OutboundSheet:
    """Reverse a posted outbound sheet with a new posted sheet: the shipped units come back into
    the bins and batches they left (read from the sheet's movements). Units the sheet took from
    frozen stock (scrap, purchase return) come back frozen, in the same transaction, never
    available: an ``out_reversal`` receipt then a ``freeze`` posting on the reversal, and the
    ``frozen_return`` hooks give them back to what held them (the freezes app: the freeze lines
    they left, with an event). Raises NotAllowed (a draft, a reversal, already reversed, a bin
    deactivated since), InvalidInput (no reason). Locks the original sheet row, then what the
    ``prepare`` hooks lock (freeze rows), then the balances."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give a reason for the reversal."))
    with transaction.atomic():
        original = lock_document(OutboundSheet, sheet_id)
        _check_reversible(original)
        shipped = list(
            StockMovement.objects.filter(
                document_type=DocumentType.OUTBOUND,
                document_id=original.pk,
                kind=OUTBOUND_KINDS[original.type],
            )
            .values("goods_id", "bin_id", "batch_id")
            .annotate(units=Sum("quantity"), frozen=Sum("frozen_delta"))
            .order_by("goods_id", "bin_id", "batch_id")
        )
        reversal = OutboundSheet.objects.create(
            warehouse_id=original.warehouse_id,
            type=original.type,
            reference=original.reference,
            note=reason,
            reversal_of=original,
            status=DocumentStatus.POSTED,
            created_by=user,
            posted_by=user,
            posted_at=timezone.now(),
        )
        OutboundLine.objects.bulk_create(
            [
                OutboundLine(
                    sheet=reversal,
                    goods_id=line.goods_id,
                    bin_id=line.bin_id,
                    batch_id=line.batch_id,
                    quantity=line.quantity,
                    from_frozen=line.from_frozen,
                )
                for line in original.lines.all()
            ]
        )
        document = _document(reversal)
        back_frozen = hooks.FrozenReturn(
            original_type=DocumentType.OUTBOUND,
            original_id=original.pk,
            original_ref=original.number,
            document_type=document.type,
            document_id=reversal.pk,
            document_ref=document.ref,
            operator_id=getattr(user, "pk", None),
        )
        takes_frozen = any(row["frozen"] for row in shipped)
        if takes_frozen:
            hooks.frozen_return_prepare(back_frozen)
        text = reason_code("reversal", f"{original.number}: {reason}")
        posting = ledger.receive(
            kind=Kind.OUTBOUND_REVERSAL,
            lines=[
                ledger.Receipt(
                    goods_id=row["goods_id"],
                    bin_id=row["bin_id"],
                    quantity=row["units"],
                    batch_id=row["batch_id"],
                )
                for row in shipped
            ],
            document=document,
            operator=user,
            reason=text,
            warehouse_id=original.warehouse_id,
            idempotency_key=f"outbound-{original.pk}-reverse",
        )
        if takes_frozen:
            _refreeze(shipped, posting, back_frozen, document=document, user=user, reason=text)
        return reversal


def _refreeze(
    shipped: list[dict],
    posting: ledger.Posting,
    back_frozen: hooks.FrozenReturn,
    *,
    document: ledger.Document,
    user,
    reason: str,
) -> None:
    """Freeze again, on the reversal, the units the original sheet took from frozen stock, and
    tell the ``frozen_return`` hooks (the balances are locked by the receipt)."""
    balance_of = {(m.goods_id, m.bin_id, m.batch_id): m.balance_id for m in posting.movements}
    units: dict[int, int] = {}
    for row in shipped:
        if row["frozen"]:
            balance_id = balance_of[(row["goods_id"], row["bin_id"], row["batch_id"])]
            units[balance_id] = units.get(balance_id, 0) - row["frozen"]
    ledger.freeze(
        holds=[ledger.Hold(balance_id, quantity) for balance_id, quantity in sorted(units.items())],
        document=document,
        operator=user,
        reason=reason,
        idempotency_key=f"outbound-{back_frozen.original_id}-reverse-freeze",
    )
    hooks.frozen_return_apply(replace(back_frozen, units=tuple(sorted(units.items()))))


# --------------------------------------------------------------------------------------------
# Transfers
# --------------------------------------------------------------------------------------------


def bin_transfer(
    *,
    goods: Goods,
    from_bin: Bin,
    to_bin: Bin,
    quantity: int,
    user,
    batch: Batch | None = None,
    note: str = "",
    idempotency_key: str | None = None,
) -> StockTransfer:
    """Move available stock from one bin to another of the same warehouse, in one step: a done
    transfer document and its two movements. ``idempotency_key`` (the form's token) makes a
    double submit post once (AlreadyPosted). Raises InsufficientStock, NotAllowed (bins of two
    warehouses, inactive destination), InvalidInput (same bin)."""
    ledger.check_quantity(quantity)
    _check_batch(batch, goods)
    if from_bin.warehouse_id != to_bin.warehouse_id:
        raise NotAllowed(
            _(
                "Bins %(a)s and %(b)s are in different warehouses: use a warehouse transfer, "
                "which records the stock in transit."
            )
            % {"a": from_bin.code, "b": to_bin.code}
        )
    with transaction.atomic():
        now = timezone.now()
        transfer = StockTransfer.objects.create(
            kind=StockTransfer.Kind.BIN,
            status=StockTransfer.Status.DONE,
            from_warehouse_id=from_bin.warehouse_id,
            to_warehouse_id=to_bin.warehouse_id,
            note=note,
            created_by=user,
            shipped_by=user,
            shipped_at=now,
            received_by=user,
            received_at=now,
        )
        StockTransferLine.objects.create(
            transfer=transfer,
            goods=goods,
            batch=batch,
            from_bin=from_bin,
            to_bin=to_bin,
            quantity=quantity,
            received_quantity=quantity,
        )
        ledger.transfer(
            moves=[
                ledger.Move(
                    goods_id=goods.pk,
                    from_bin_id=from_bin.pk,
                    to_bin_id=to_bin.pk,
                    quantity=quantity,
                    batch_id=batch.pk if batch else None,
                )
            ],
            document=_document(transfer),
            operator=user,
            reason=note,
            idempotency_key=idempotency_key or f"transfer-{transfer.pk}",
        )
        return transfer


def warehouse_transfer_create(
    *, from_warehouse: Warehouse, to_warehouse: Warehouse, user, note: str = ""
) -> StockTransfer:
    """A draft warehouse-to-warehouse transfer."""
    if from_warehouse.pk == to_warehouse.pk:
        raise InvalidInput(_("Choose two different warehouses (or use a bin-to-bin transfer)."))
    if not (from_warehouse.is_active and to_warehouse.is_active):
        raise NotAllowed(_("Both warehouses must be active."))
    return StockTransfer.objects.create(
        kind=StockTransfer.Kind.WAREHOUSE,
        from_warehouse=from_warehouse,
        to_warehouse=to_warehouse,
        note=note,
        created_by=user,
    )


def warehouse_transfer_line_add(
    *,
    transfer: StockTransfer,
    goods: Goods,
    from_bin: Bin,
    quantity: int,
    batch: Batch | None = None,
) -> StockTransferLine:
    """Add a line (goods, batch, source bin, quantity) to a draft warehouse transfer."""
    ledger.check_quantity(quantity)
    _check_batch(batch, goods)
    if goods.is_combo:
        raise NotAllowed(_("A combo goods holds no stock: transfer its components."))
    with transaction.atomic():
        transfer = _locked_transfer(transfer.pk, StockTransfer.Status.DRAFT)
        _check_bin(from_bin, transfer.from_warehouse_id, must_be_active=False)
        return StockTransferLine.objects.create(
            transfer=transfer, goods=goods, batch=batch, from_bin=from_bin, quantity=quantity
        )


def warehouse_transfer_line_remove(*, line: StockTransferLine) -> None:
    with transaction.atomic():
        _locked_transfer(line.transfer_id, StockTransfer.Status.DRAFT)
        StockTransferLine.objects.filter(pk=line.pk).delete()


def warehouse_transfer_delete(*, transfer: StockTransfer) -> None:
    with transaction.atomic():
        _locked_transfer(transfer.pk, StockTransfer.Status.DRAFT)
        StockTransfer.objects.filter(pk=transfer.pk).delete()


def _locked_transfer(pk: int, status: str) -> StockTransfer:
    transfer = lock_document(StockTransfer, pk)
    if transfer is None:
        raise InvalidInput(_("This document no longer exists."))
    if transfer.status != status:
        raise NotAllowed(
            _("%(doc)s is %(status)s: this step is not possible now.")
            % {"doc": transfer.number, "status": transfer.get_status_display()}
        )
    return transfer


def warehouse_transfer_ship(*, transfer_id: int, user) -> StockTransfer:
    """Ship a draft warehouse transfer: compare-and-set draft -> in transit and take every line
    out of its source bin (``transfer_out`` movements). From now until receipt the units are in
    transit: on the transfer, in no balance, available nowhere."""
    with transaction.atomic():
        _claim(
            StockTransfer,
            transfer_id,
            from_status=StockTransfer.Status.DRAFT,
            to_status=StockTransfer.Status.IN_TRANSIT,
            shipped_by=user,
            shipped_at=timezone.now(),
        )
        transfer = StockTransfer.objects.get(pk=transfer_id)
        lines = list(transfer.lines.select_related("goods"))
        if not lines:
            raise InvalidInput(_("The transfer has no lines."))
        ledger.issue(
            kind=Kind.TRANSFER_OUT,
            warehouse_id=transfer.from_warehouse_id,
            lines=_exact_picks(
                [(line.goods, line.from_bin_id, line.batch_id, line.quantity) for line in lines]
            ),
            document=_document(transfer),
            operator=user,
            reason=transfer.note,
            idempotency_key=f"transfer-{transfer.pk}-ship",
        )
        return transfer


@dataclass(frozen=True)
class ReceivedLine:
    """What arrived for one transfer line: ``quantity`` units put into ``to_bin``; when less
    than shipped, ``reason`` explains the discrepancy."""

    line_id: int
    to_bin: Bin | None
    quantity: int
    reason: str = ""


def warehouse_transfer_receive(
    *, transfer_id: int, user, received: list[ReceivedLine]
) -> StockTransfer:
    """Receive an in-transit transfer at its destination: compare-and-set in transit -> done,
    record per line the destination bin, the quantity that arrived and the reason of any
    discrepancy, and put what arrived into the bins (``transfer_in`` movements). Every line must
    be answered once. Raises InvalidQuantity (more than shipped, negative), InvalidInput
    (missing line or reason, no bin for units that arrived), NotAllowed (bin of another
    warehouse or inactive, or a transfer not shipped yet), AlreadyPosted (received twice)."""
    by_line = {}
    for item in received:
        if item.line_id in by_line:
            raise InvalidInput(_("A line is answered twice."))
        by_line[item.line_id] = item
    with transaction.atomic():
        _claim(
            StockTransfer,
            transfer_id,
            from_status=StockTransfer.Status.IN_TRANSIT,
            to_status=StockTransfer.Status.DONE,
            too_early=_(
                "%(doc)s has not been shipped yet: ship it before receiving it; nothing was done."
            ),
            received_by=user,
            received_at=timezone.now(),
        )
        transfer = StockTransfer.objects.get(pk=transfer_id)
        lines = list(transfer.lines.all())
        if set(by_line) != {line.pk for line in lines}:
            raise InvalidInput(_("Say for every line how many units arrived."))
        receipts = []
        for line in lines:
            item = by_line[line.pk]
            ledger.check_quantity(item.quantity, minimum=0)
            if item.quantity > line.quantity:
                raise InvalidQuantity(
                    _(
                        "More units arrived than were shipped (%(received)s > %(shipped)s): "
                        "receive the excess on an inbound sheet."
                    )
                    % {"received": item.quantity, "shipped": line.quantity}
                )
            reason = (item.reason or "").strip()
            if item.quantity < line.quantity and not reason:
                raise InvalidInput(
                    _("Explain why %(n)s units did not arrive.")
                    % {"n": line.quantity - item.quantity}
                )
            if item.quantity > 0:
                if item.to_bin is None:
                    raise InvalidInput(_("Choose the bin the units go into."))
                _check_bin(item.to_bin, transfer.to_warehouse_id)
                receipts.append(
                    ledger.Receipt(
                        goods_id=line.goods_id,
                        bin_id=item.to_bin.pk,
                        quantity=item.quantity,
                        batch_id=line.batch_id,
                        from_bin_id=line.from_bin_id,
                    )
                )
            line.to_bin = item.to_bin
            line.received_quantity = item.quantity
            line.discrepancy_reason = reason if item.quantity < line.quantity else ""
        StockTransferLine.objects.bulk_update(
            lines, ["to_bin", "received_quantity", "discrepancy_reason"]
        )
        if receipts:
            ledger.receive(
                kind=Kind.TRANSFER_IN,
                lines=receipts,
                document=_document(transfer),
                operator=user,
                reason=transfer.note,
                warehouse_id=transfer.to_warehouse_id,
                idempotency_key=f"transfer-{transfer.pk}-receive",
            )
        return transfer


# --------------------------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------------------------


def count_create(*, warehouse: Warehouse, reason: str, user, note: str = "") -> StockCount:
    """A draft stock count of one warehouse; the reason is required."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give a reason for the stock count."))
    if not warehouse.is_active:
        raise NotAllowed(_("Warehouse %(code)s is inactive.") % {"code": warehouse.code})
    return StockCount.objects.create(warehouse=warehouse, reason=reason, note=note, created_by=user)


def count_line_set(
    *, count: StockCount, goods: Goods, bin: Bin, counted: int, batch: Batch | None = None
) -> StockCountLine:
    """Record (or correct) the counted quantity of a goods/batch in a bin on a draft count."""
    ledger.check_quantity(counted, minimum=0)
    _check_batch(batch, goods)
    if goods.is_combo:
        raise NotAllowed(_("A combo goods holds no stock: count its components."))
    with transaction.atomic():
        count = _locked_draft(StockCount, count.pk)
        _check_bin(bin, count.warehouse_id, must_be_active=False)
        line, _created = StockCountLine.objects.update_or_create(
            count=count, goods=goods, bin=bin, batch=batch, defaults={"counted_quantity": counted}
        )
        return line


def count_line_remove(*, line: StockCountLine) -> None:
    with transaction.atomic():
        _locked_draft(StockCount, line.count_id)
        StockCountLine.objects.filter(pk=line.pk).delete()


def count_delete(*, count: StockCount) -> None:
    with transaction.atomic():
        _locked_draft(StockCount, count.pk)
        StockCount.objects.filter(pk=count.pk).delete()


def count_post(*, count_id: int, user) -> StockCount:
    """Post a draft count: compare-and-set draft -> posted, then one ledger adjustment setting
    each line's balance to the counted quantity (gain or loss movements with the count's reason),
    and store on each line the on-hand quantity it was counted against. Raises AlreadyPosted,
    NotAllowed (counting below frozen/reserved units), InvalidInput (no lines)."""
    with transaction.atomic():
        _claim(
            StockCount,
            count_id,
            from_status=DocumentStatus.DRAFT,
            to_status=DocumentStatus.POSTED,
            posted_by=user,
            posted_at=timezone.now(),
        )
        count = StockCount.objects.get(pk=count_id)
        lines = list(count.lines.all())
        if not lines:
            raise InvalidInput(_("The count has no lines."))
        posting = ledger.adjust(
            warehouse_id=count.warehouse_id,
            lines=[
                ledger.Count(
                    goods_id=line.goods_id,
                    bin_id=line.bin_id,
                    counted=line.counted_quantity,
                    batch_id=line.batch_id,
                )
                for line in lines
            ],
            document=_document(count),
            operator=user,
            reason=count.reason,
            idempotency_key=f"count-{count.pk}-post",
        )
        balance_of = {
            (g, b, x): pk
            for pk, g, b, x in StockBalance.objects.filter(
                pk__in=list(posting.on_hand_before)
            ).values_list("pk", "goods_id", "bin_id", "batch_id")
        }
        for line in lines:
            balance_id = balance_of.get((line.goods_id, line.bin_id, line.batch_id))
            line.expected_quantity = posting.on_hand_before.get(balance_id, 0)
        StockCountLine.objects.bulk_update(lines, ["expected_quantity"])
        return count
