"""Scanning on the floor: each scan of a session (receive, pick, move, count) turned into the
same document services the forms call, so frozen-stock, expiry and permission rules hold.

``scan_apply`` is the one entry point of a scan: it locks the session row, reads the code through
the resolver (``inventory.selectors.scan.code_resolve``), refuses a wrong bin or goods at once (a
``refused`` outcome; nothing is written but the session's last code), asks about a scanner bounce
(the same code again within ``BOUNCE_SECONDS``: a ``bounce`` outcome, nothing added until the
clerk confirms), and otherwise acts:

* receive: a bin scan sets the bin; a goods scan adds ``quantity`` (default 1) to the draft inbound
  sheet's line of that goods, bin and batch (``inbound_line_scan``); a GS1 scan names the batch and
  its expiry;
* pick: a bin scan is accepted only when the sheet's pick plan (``inventory.selectors.picking``)
  still has units there; a goods scan only when the plan has that goods (and batch) left in that
  bin: a GS1 label of a batch the ledger keeps for the goods must be the stop's batch; a batch
  the ledger does not know is ignored, the label counting for stock kept without a batch (its
  printed expiry still counts); ``pick_ship`` posts the sheet from what was picked
  (``outbound_sheet_ship_picked``);
* move: the first bin is the source, goods scans load the clerk's hands (only available units:
  frozen or reserved ones are refused), the next other bin is the destination and posts one
  ``bin_transfer`` per goods;
* count: a bin scan sets the bin; a goods scan adds ``quantity`` to the counted quantity of the
  draft count's line (``count_line_scan``).

Lock order: the session row, then what the document services lock (document row, then balances).
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory import ledger
from inventory.codes import normalize_scan
from inventory.exceptions import InvalidInput, NotAllowed, StockError
from inventory.models import (
    Batch,
    DocumentStatus,
    Goods,
    InboundLine,
    InboundSheet,
    OutboundLine,
    OutboundSheet,
    ScanSession,
    StockBalance,
    StockCount,
    StockCountLine,
    StockTransfer,
)
from inventory.selectors import picking
from inventory.selectors.scan import BatchHit, BinHit, code_resolve
from inventory.services import stock as stock_services
from warehouses.models import Bin

#: Two scans of one code closer than this are a scanner bounce until the clerk says otherwise.
BOUNCE_SECONDS = 0.3

Mode = ScanSession.Mode


@dataclass(frozen=True)
class ScanOutcome:
    """What the screen says after a scan. ``status``: ``ok`` (done, short beep), ``refused``
    (nothing done: low beep and a red flash), ``bounce`` (ask "scanned twice: add another?"),
    ``done`` (the last unit of a pick list: ship now). ``quantity`` is the quantity of the scan:
    a ``bounce`` keeps it, so "add another" adds what the clerk typed for the bounced scan."""

    status: str
    message: str
    code: str = ""
    quantity: int = 1


class ScanRefused(StockError):
    """A scan that does not fit where the clerk is (wrong bin, wrong goods, bin first...)."""

    code = "scan_refused"


# --------------------------------------------------------------------------------------------
# Document services the scans call (beside the forms' own in inventory.services.stock)
# --------------------------------------------------------------------------------------------


def inbound_line_scan(
    *,
    sheet: InboundSheet,
    goods: Goods,
    bin: Bin,
    quantity: int = 1,
    batch_no: str = "",
    expiry_date: datetime.date | None = None,
) -> InboundLine:
    """Add ``quantity`` units of ``goods`` (of batch ``batch_no``, created with ``expiry_date``
    when new) in ``bin`` to a draft inbound sheet: onto the sheet's line of the same goods, bin
    and batch when there is one, else a new line through ``inbound_line_add``. Locks the sheet
    row. Raises what ``inbound_line_add`` and ``batch_for_line`` raise (inactive goods or bin, a
    bin of another warehouse, a batch known with another expiry, a posted sheet)."""
    ledger.check_quantity(quantity)
    if not goods.is_active:
        raise NotAllowed(_("Goods %(sku)s is inactive.") % {"sku": goods.sku})
    with transaction.atomic():
        sheet = stock_services._locked_draft(InboundSheet, sheet.pk)
        stock_services._check_bin(bin, sheet.warehouse_id)
        batch = None
        if batch_no:
            batch = stock_services.batch_for_line(
                goods=goods, batch_no=batch_no, expiry_date=expiry_date
            )
        line = (
            InboundLine.objects.filter(sheet=sheet, goods=goods, bin=bin, batch=batch)
            .order_by("pk")
            .first()
        )
        if line is None:
            return stock_services.inbound_line_add(
                sheet=sheet, goods=goods, bin=bin, quantity=quantity, batch=batch
            )
        ledger.check_quantity(line.quantity + quantity)
        InboundLine.objects.filter(pk=line.pk).update(quantity=F("quantity") + quantity)
        line.quantity += quantity
        return line


def count_line_scan(
    *, count: StockCount, goods: Goods, bin: Bin, quantity: int = 1, batch: Batch | None = None
) -> StockCountLine:
    """Add ``quantity`` counted units of ``goods`` (``batch``) in ``bin`` to a draft count, through
    ``count_line_set``. Locks the count row first, so two clerks counting one bin add up."""
    ledger.check_quantity(quantity)
    with transaction.atomic():
        count = stock_services._locked_draft(StockCount, count.pk)
        counted = (
            StockCountLine.objects.filter(count=count, goods=goods, bin=bin, batch=batch)
            .values_list("counted_quantity", flat=True)
            .first()
        ) or 0
        return stock_services.count_line_set(
            count=count, goods=goods, bin=bin, batch=batch, counted=counted + quantity
        )


@dataclass(frozen=True)
class Picked:
    """Units picked for a sheet: ``quantity`` of a goods (batch) taken from a bin."""

    goods_id: int
    bin_id: int
    batch_id: int | None
    quantity: int


def scan_pick_refusal(lines) -> str | None:
    """Why an outbound sheet cannot be picked by scan, or None. A combo goods holds no stock of
    its own (its components are picked), and a goods taken both from frozen and from available
    stock on one sheet cannot be told apart by a scan: both are posted from the sheet's page."""
    combos = sorted({line.goods.sku for line in lines if line.goods.is_combo})
    if combos:
        return _(
            "%(skus)s: combo goods cannot be picked by scan; post this sheet from its page."
        ) % {"skus": ", ".join(combos)}
    frozen = {line.goods_id for line in lines if line.from_frozen}
    mixed = sorted(
        {line.goods.sku for line in lines if not line.from_frozen and line.goods_id in frozen}
    )
    if mixed:
        return _(
            "%(skus)s: taken both from frozen and from available stock on this sheet; post it "
            "from its page."
        ) % {"skus": ", ".join(mixed)}
    return None


def outbound_sheet_ship_picked(*, sheet_id: int, user, picks: list[Picked]) -> OutboundSheet:
    """Post a draft outbound sheet as it was picked: its lines become the picked (goods, bin,
    batch, quantity) rows, each goods' units exactly those ordered, then ``outbound_sheet_post``
    posts it (frozen, expiry and permission checks there), all in one transaction: a refusal
    leaves the sheet's lines as they were. Locks the sheet row, then the balances. Raises
    InvalidInput when the picked units differ from the sheet's."""
    with transaction.atomic():
        sheet = stock_services._locked_draft(OutboundSheet, sheet_id)
        lines = list(sheet.lines.select_related("goods"))
        wanted: Counter[int] = Counter()
        for line in lines:
            wanted[line.goods_id] += line.quantity
        got: Counter[int] = Counter()
        for pick in picks:
            got[pick.goods_id] += pick.quantity
        if not lines:
            raise InvalidInput(_("The sheet has no lines."))
        refusal = scan_pick_refusal(lines)
        if refusal:
            raise InvalidInput(refusal)
        if wanted != got:
            skus = {line.goods_id: line.goods.sku for line in lines}
            missing = [
                f"{skus.get(goods_id, goods_id)} ({wanted[goods_id] - got[goods_id]})"
                for goods_id in sorted(set(wanted) | set(got))
                if wanted[goods_id] != got[goods_id]
            ]
            raise InvalidInput(
                _("Not everything is picked yet: %(left)s.") % {"left": ", ".join(missing)}
            )
        from_frozen = {line.goods_id for line in lines if line.from_frozen}
        OutboundLine.objects.filter(sheet=sheet).delete()
        OutboundLine.objects.bulk_create(
            [
                OutboundLine(
                    sheet=sheet,
                    goods_id=pick.goods_id,
                    bin_id=pick.bin_id,
                    batch_id=pick.batch_id,
                    quantity=pick.quantity,
                    from_frozen=pick.goods_id in from_frozen,
                )
                for pick in picks
                if pick.quantity > 0
            ]
        )
        return stock_services.outbound_sheet_post(sheet_id=sheet.pk, user=user)


# --------------------------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------------------------


#: A scan session untouched this long was abandoned (the clerk walked away): the daily clean-up
#: forgets it. Nothing is lost: scanned lines are on the draft documents already, and a move
#: posts only when its destination bin is scanned.
STALE_AFTER = datetime.timedelta(days=7)


def scan_sessions_forget_stale(*, now: datetime.datetime | None = None) -> int:
    """Delete the scan sessions untouched for ``STALE_AFTER``; returns how many."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    deleted, _by_model = ScanSession.objects.filter(updated_at__lt=cutoff).delete()
    return deleted


def scan_session_open(*, user, mode: str, document_id: int = 0) -> ScanSession:
    """The user's session of ``mode`` on a document (created empty the first time)."""
    session, _created = ScanSession.objects.get_or_create(
        user=user, mode=mode, document_id=document_id
    )
    return session


def count_set_blind(*, count: StockCount, blind: bool, user) -> StockCount:
    """Switch a draft count blind or back, for everyone counting it: a blind count's scan
    screen shows no expected quantities, and its page hides them from those who may not switch
    it. Only a holder of ``inventory.change_blind_mode`` (a supervisor) may:
    raises NotAllowed for anyone else and InvalidInput when the count is posted, writing nothing
    either way. A compare-and-set on the draft count row; locks nothing."""
    if not user.has_perm("inventory.change_blind_mode"):
        raise NotAllowed(_("Only a supervisor may switch blind counting on or off."))
    updated = StockCount.objects.filter(pk=count.pk, status=DocumentStatus.DRAFT).update(
        is_blind=bool(blind)
    )
    if not updated:
        raise InvalidInput(_("%(doc)s is posted.") % {"doc": count.number})
    count.is_blind = bool(blind)
    return count


def pick_key(bin_id: int, goods_id: int, batch_id: int | None) -> str:
    return f"{bin_id}:{goods_id}:{batch_id or 0}"


def scan_apply(
    *,
    session: ScanSession,
    user,
    code: str,
    document=None,
    quantity: int = 1,
    confirm: bool = False,
    gap_ms: int | None = None,
) -> ScanOutcome:
    """Apply one scan to the user's session of ``session.mode`` on ``session.document_id`` (an
    unsaved ``ScanSession`` will do: it is found, or created, and locked by that key; see the
    module docstring). Never raises a StockError:
    a refusal is a ``refused`` outcome and its transaction part is rolled back. Locks the session
    row for the whole scan. ``gap_ms`` is the screen's own measure of the time since the same
    code was scanned (the server's clock also counts the round trip); without it the server's
    times decide whether a repeat is a bounce. ``document`` is the session's document when the
    caller already holds it (read again otherwise). The plan a pick scan used is left on
    ``session.plan`` for the screen."""
    with transaction.atomic():
        mine = ScanSession.objects.select_for_update(of=("self",)).select_related("bin__warehouse")
        key = {"user": user, "mode": session.mode, "document_id": session.document_id}
        locked = mine.filter(**key).first()
        if locked is None:
            scan_session_open(**key)
            locked = mine.get(**key)
        now = timezone.now()
        text = normalize_scan(code)[:200]
        if gap_ms is not None:
            soon = gap_ms < BOUNCE_SECONDS * 1000
        else:
            soon = (
                locked.last_scan_at is not None
                and (now - locked.last_scan_at).total_seconds() < BOUNCE_SECONDS
            )
        bounce = not confirm and bool(text) and text == locked.last_code and soon
        locked.last_code, locked.last_scan_at, locked.updated_at = text, now, now
        handler = _HANDLERS[locked.mode]
        try:
            with transaction.atomic():
                outcome = handler(locked, user, text, quantity, bounce, document)
        except StockError as error:
            outcome = ScanOutcome("refused", str(error), text)
        locked.save()
    session.pk, session.bin, session.state = locked.pk, locked.bin, locked.state
    session.plan = getattr(locked, "plan", None)
    return outcome


def _resolve(user, code: str, warehouse_id: int | None):
    """The one bin or goods the code names, or ScanRefused saying why not."""
    result = code_resolve(user=user, code=code, warehouse=warehouse_id, label_batch=True)
    if not result.hits:
        raise ScanRefused(result.problem or _("Nothing found for %(code)s.") % {"code": code})
    kinds = {hit.kind for hit in result.hits}
    if "document" in kinds:
        raise ScanRefused(
            _("%(code)s is a document number: scan a bin or goods here.") % {"code": code}
        )
    if len(result.hits) > 1:
        if kinds == {"bin"}:
            raise ScanRefused(
                _("Bin %(code)s exists in several warehouses: scan its label.") % {"code": code}
            )
        raise ScanRefused(
            _("%(code)s names more than one goods or bin: scan the goods' barcode.")
            % {"code": code}
        )
    return result.hits[0]


def _bin_of(hit, warehouse_id: int | None) -> Bin:
    bin_ = hit.bin
    if warehouse_id is not None and bin_.warehouse_id != warehouse_id:
        raise ScanRefused(_("Bin %(bin)s belongs to another warehouse.") % {"bin": bin_.code})
    return bin_


def _need_bin(session: ScanSession) -> Bin:
    if session.bin is None:
        raise ScanRefused(_("Scan the bin first, then the goods."))
    return session.bin


def _bounce(code: str, quantity: int) -> ScanOutcome:
    if quantity == 1:
        message = _("%(code)s was scanned twice at once: add another?") % {"code": code}
    else:
        message = _("%(code)s was scanned twice at once: add another %(n)s?") % {
            "code": code,
            "n": quantity,
        }
    return ScanOutcome("bounce", message, code, quantity)


def _goods_and_batch(hit) -> tuple[Goods, BatchHit | None]:
    if isinstance(hit, BatchHit):
        return hit.goods, hit
    return hit.goods, None


def _document_of(session: ScanSession, model, document):
    if document is not None and isinstance(document, model) and document.pk == session.document_id:
        return document
    return model.objects.filter(pk=session.document_id).first()


def _receive(session, user, code, quantity, bounce, document=None) -> ScanOutcome:
    sheet = _document_of(session, InboundSheet, document)
    if sheet is None:
        raise ScanRefused(_("This document no longer exists."))
    hit = _resolve(user, code, sheet.warehouse_id)
    if isinstance(hit, BinHit):
        bin_ = _bin_of(hit, sheet.warehouse_id)
        stock_services._check_bin(bin_, sheet.warehouse_id)
        session.bin = bin_
        return ScanOutcome("ok", _("Bin %(bin)s: scan the goods.") % {"bin": bin_.code}, code)
    bin_ = _need_bin(session)
    goods, batch_hit = _goods_and_batch(hit)
    if bounce:
        return _bounce(code, quantity)
    line = inbound_line_scan(
        sheet=sheet,
        goods=goods,
        bin=bin_,
        quantity=quantity,
        batch_no=batch_hit.batch_no if batch_hit else "",
        expiry_date=batch_hit.expiry if batch_hit else None,
    )
    return ScanOutcome(
        "ok",
        _("+%(n)s %(sku)s into %(bin)s (line: %(total)s).")
        % {"n": quantity, "sku": goods.sku, "bin": bin_.code, "total": line.quantity},
        code,
    )


def pick_progress(session: ScanSession, plan: list[picking.PickRow]) -> list[dict]:
    """The plan merged per stop (bin, goods, batch) with what the session picked of it, in walk
    order: dicts of ``row`` (a PickRow carrying the stop's total), ``key``, ``picked``, ``left``."""
    picked = session.state.get("picked", {})
    stops: dict[str, dict] = {}
    for row in plan:
        if row.bin_id is None:
            continue
        key = pick_key(row.bin_id, row.goods_id, row.batch_id)
        if key in stops:
            stops[key]["row"].quantity += row.quantity
        else:
            stops[key] = {"row": picking.PickRow(**row.__dict__), "key": key}
    for stop in stops.values():
        stop["picked"] = min(int(picked.get(stop["key"], 0)), stop["row"].quantity)
        stop["left"] = stop["row"].quantity - stop["picked"]
    return sorted(stops.values(), key=lambda stop: stop["row"].walk_key)


def _stops_for_label(stops: list[dict], batch_hit: BatchHit | None) -> list[dict]:
    """The stops a scanned label may be picked for. A plain barcode: any. A GS1 label naming a
    batch the ledger keeps for the goods: the stops of that batch only (a unit of it picked for
    another stop would be posted from stock it did not come from). A label naming a batch the
    ledger does not know for the goods (not batch-managed, or received without batches): the
    batch element says nothing the ledger tracks, so the GTIN counts for the stops of stock
    kept without a batch; a stop of a batch never takes it."""
    if batch_hit is None:
        return stops
    if batch_hit.batch is not None:
        return [stop for stop in stops if stop["row"].batch_id == batch_hit.batch.pk]
    return [stop for stop in stops if stop["row"].batch_id is None]


def _check_label_expiry(batch_hit: BatchHit, sheet: OutboundSheet) -> None:
    """A label picked for stock kept without a batch still may not be past the expiry it
    prints (17), unless the sheet ships expired goods by override."""
    if (
        batch_hit.expiry is not None
        and batch_hit.expiry < timezone.localdate()
        and not sheet.allow_expired
    ):
        raise ScanRefused(
            _("Expired: this label of %(sku)s says it expired on %(date)s.")
            % {"sku": batch_hit.goods.sku, "date": batch_hit.expiry.isoformat()}
        )


def _pick(session, user, code, quantity, bounce, document=None) -> ScanOutcome:
    sheet = _document_of(session, OutboundSheet, document)
    if sheet is None:
        raise ScanRefused(_("This document no longer exists."))
    hit = _resolve(user, code, sheet.warehouse_id)
    session.plan = picking.pick_plan([sheet])
    stops = pick_progress(session, session.plan)
    if isinstance(hit, BinHit):
        bin_ = _bin_of(hit, sheet.warehouse_id)
        here = [stop for stop in stops if stop["row"].bin_id == bin_.pk and stop["left"] > 0]
        if not here:
            raise ScanRefused(
                _("Wrong bin: nothing on this pick list is to be picked from %(bin)s.")
                % {"bin": bin_.code}
            )
        session.bin = bin_
        todo = ", ".join(f"{stop['row'].sku} × {stop['left']}" for stop in here)
        return ScanOutcome(
            "ok", _("Bin %(bin)s: pick %(todo)s.") % {"bin": bin_.code, "todo": todo}, code
        )
    bin_ = _need_bin(session)
    goods, batch_hit = _goods_and_batch(hit)
    mine = [stop for stop in stops if stop["row"].goods_id == goods.pk]
    here = _stops_for_label(
        [stop for stop in mine if stop["row"].bin_id == bin_.pk and stop["left"] > 0], batch_hit
    )
    if here and batch_hit is not None and here[0]["row"].batch_id is None:
        _check_label_expiry(batch_hit, sheet)
    if not here:
        if not mine:
            raise ScanRefused(
                _("Wrong goods: %(sku)s is not on this pick list.") % {"sku": goods.sku}
            )
        elsewhere = sorted(
            {stop["row"].bin_code for stop in mine if stop["left"] > 0 and stop["row"].bin_id}
        )
        if batch_hit is not None and any(
            stop["row"].bin_id == bin_.pk and stop["left"] > 0 for stop in mine
        ):
            raise ScanRefused(
                _("Wrong batch: %(batch)s of %(sku)s is not the one to pick from %(bin)s.")
                % {"batch": batch_hit.batch_no, "sku": goods.sku, "bin": bin_.code}
            )
        if elsewhere:
            raise ScanRefused(
                _("Wrong bin: pick %(sku)s from %(bins)s, not from %(bin)s.")
                % {"sku": goods.sku, "bins": ", ".join(elsewhere), "bin": bin_.code}
            )
        raise ScanRefused(_("All of %(sku)s is picked already.") % {"sku": goods.sku})
    left = sum(stop["left"] for stop in here)
    if quantity > left:
        raise ScanRefused(
            _("Only %(left)s of %(sku)s are left to pick from %(bin)s.")
            % {"left": left, "sku": goods.sku, "bin": bin_.code}
        )
    if bounce:
        return _bounce(code, quantity)
    picked = dict(session.state.get("picked", {}))
    todo = quantity
    for stop in here:
        take = min(todo, stop["left"])
        picked[stop["key"]] = stop["picked"] + take
        stop["left"] -= take
        todo -= take
        if not todo:
            break
    session.state = {**session.state, "picked": picked}
    if all(stop["left"] == 0 for stop in stops):
        return ScanOutcome("done", _("Everything is picked: ship the sheet."), code)
    return ScanOutcome(
        "ok",
        _("+%(n)s %(sku)s from %(bin)s (%(left)s left here).")
        % {"n": quantity, "sku": goods.sku, "bin": bin_.code, "left": left - quantity},
        code,
    )


def pick_ship(*, session: ScanSession, user) -> OutboundSheet:
    """Post the session's outbound sheet from what was picked (``outbound_sheet_ship_picked``)
    and clear the session. Raises StockError (not all picked, frozen, expired, permission)."""
    sheet = OutboundSheet.objects.filter(pk=session.document_id).first()
    if sheet is None:
        raise InvalidInput(_("This document no longer exists."))
    stops = pick_progress(session, picking.pick_plan([sheet]))
    picks = [
        Picked(
            goods_id=stop["row"].goods_id,
            bin_id=stop["row"].bin_id,
            batch_id=stop["row"].batch_id,
            quantity=stop["picked"],
        )
        for stop in stops
        if stop["picked"] > 0
    ]
    with transaction.atomic():
        posted = outbound_sheet_ship_picked(sheet_id=sheet.pk, user=user, picks=picks)
        ScanSession.objects.filter(pk=session.pk).delete()
    return posted


def _balances_in_bin(goods: Goods, bin_: Bin) -> list[StockBalance]:
    return list(
        StockBalance.objects.filter(goods=goods, bin=bin_)
        .select_related("batch")
        .order_by(F("batch__expiry_date").asc(nulls_last=True), "pk")
    )


def _move(session, user, code, quantity, bounce, document=None) -> ScanOutcome:
    hit = _resolve(user, code, session.bin.warehouse_id if session.bin else None)
    items = [list(item) for item in session.state.get("items", [])]
    if isinstance(hit, BinHit):
        bin_ = _bin_of(hit, session.bin.warehouse_id if session.bin else None)
        if not items or session.bin is None:
            session.bin = bin_
            session.state = {**session.state, "items": []}
            return ScanOutcome(
                "ok", _("From bin %(bin)s: scan the goods to move.") % {"bin": bin_.code}, code
            )
        if bin_.pk == session.bin_id:
            raise ScanRefused(_("This is the bin the goods come from: scan the destination bin."))
        return _move_post(session, user, bin_, items, code)
    from_bin = _need_bin(session)
    goods, batch_hit = _goods_and_batch(hit)
    if goods.is_combo:
        raise ScanRefused(_("A combo goods holds no stock: move its components."))
    carried = Counter({(g, b): q for g, b, q, _sku in items})
    balances = _balances_in_bin(goods, from_bin)
    if batch_hit is not None:  # as on a pick: a batch the ledger keeps, else unbatched stock
        known = batch_hit.batch.pk if batch_hit.batch is not None else None
        balances = [b for b in balances if b.batch_id == known]
    chosen = next(
        (b for b in balances if b.available - carried[(goods.pk, b.batch_id)] >= quantity), None
    )
    if chosen is None:
        on_hand = sum(b.on_hand for b in balances)
        frozen = sum(b.frozen for b in balances)
        reserved = sum(b.reserved for b in balances)
        free = sum(max(b.available - carried[(goods.pk, b.batch_id)], 0) for b in balances)
        raise ScanRefused(
            _(
                "Not enough %(sku)s in %(bin)s to move %(n)s: %(free)s available "
                "(%(on_hand)s on hand, %(frozen)s frozen, %(reserved)s reserved)."
            )
            % {
                "sku": goods.sku,
                "bin": from_bin.code,
                "n": quantity,
                "free": free,
                "on_hand": on_hand,
                "frozen": frozen,
                "reserved": reserved,
            }
        )
    if bounce:
        return _bounce(code, quantity)
    for item in items:
        if item[0] == goods.pk and item[1] == chosen.batch_id:
            item[2] += quantity
            break
    else:
        items.append([goods.pk, chosen.batch_id, quantity, goods.sku])
    session.state = {**session.state, "items": items}
    total = sum(item[2] for item in items)
    return ScanOutcome(
        "ok",
        _("+%(n)s %(sku)s from %(bin)s (carrying %(total)s): scan more, or the destination bin.")
        % {"n": quantity, "sku": goods.sku, "bin": from_bin.code, "total": total},
        code,
    )


def _move_post(session, user, to_bin: Bin, items: list, code: str) -> ScanOutcome:
    if not user.has_perm("inventory.transfer_stock"):
        raise NotAllowed(_("You may not move stock between bins."))
    goods = {g.pk: g for g in Goods.objects.filter(pk__in=sorted({item[0] for item in items}))}
    batches = {b.pk: b for b in Batch.objects.filter(pk__in=sorted({i[1] for i in items if i[1]}))}
    moved = session.state.get("moves", 0) + 1
    transfers: list[StockTransfer] = []
    for index, (goods_id, batch_id, quantity, _sku) in enumerate(items):
        transfers.append(
            stock_services.bin_transfer(
                goods=goods[goods_id],
                from_bin=session.bin,
                to_bin=to_bin,
                quantity=quantity,
                user=user,
                batch=batches.get(batch_id),
                note=_("Moved by scan"),
                idempotency_key=f"scan-move-{session.pk}-{moved}-{index}",
            )
        )
    units = sum(item[2] for item in items)
    message = _("Moved %(n)s units from %(from)s to %(to)s (%(docs)s).") % {
        "n": units,
        "from": session.bin.code,
        "to": to_bin.code,
        "docs": ", ".join(t.number for t in transfers),
    }
    session.bin = None
    session.state = {**session.state, "items": [], "moves": moved, "last": message}
    return ScanOutcome("ok", message, code)


def _count(session, user, code, quantity, bounce, document=None) -> ScanOutcome:
    count = _document_of(session, StockCount, document)
    if count is None:
        raise ScanRefused(_("This document no longer exists."))
    hit = _resolve(user, code, count.warehouse_id)
    if isinstance(hit, BinHit):
        session.bin = _bin_of(hit, count.warehouse_id)
        return ScanOutcome(
            "ok", _("Bin %(bin)s: scan each goods in it.") % {"bin": session.bin.code}, code
        )
    bin_ = _need_bin(session)
    goods, batch_hit = _goods_and_batch(hit)
    if goods.is_combo:
        raise ScanRefused(_("A combo goods holds no stock: count its components."))
    batch = None
    if batch_hit is not None:
        batch = batch_hit.batch or stock_services.batch_for_line(
            goods=goods, batch_no=batch_hit.batch_no, expiry_date=batch_hit.expiry
        )
    else:
        kept = {b.batch_id for b in _balances_in_bin(goods, bin_) if b.on_hand > 0}
        if len(kept) > 1:
            raise ScanRefused(
                _("%(sku)s is kept in several batches in %(bin)s: scan the batch label.")
                % {"sku": goods.sku, "bin": bin_.code}
            )
        if kept:
            batch_id = kept.pop()
            batch = Batch.objects.get(pk=batch_id) if batch_id else None
    if bounce:
        return _bounce(code, quantity)
    line = count_line_scan(count=count, goods=goods, bin=bin_, quantity=quantity, batch=batch)
    return ScanOutcome(
        "ok",
        _("%(sku)s in %(bin)s: %(n)s counted.")
        % {"sku": goods.sku, "bin": bin_.code, "n": line.counted_quantity},
        code,
    )


_HANDLERS = {Mode.RECEIVE: _receive, Mode.PICK: _pick, Mode.MOVE: _move, Mode.COUNT: _count}
