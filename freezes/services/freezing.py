"""Manual freezes: create one from a scope, change it, scrap or return its stock."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from freezes.exceptions import ApprovalRefused, ScopeMatchesNothing
from freezes.locks import lock_freeze
from freezes.models import Freeze, FreezeEvent, FreezeLine, Reason
from freezes.scope import Scope, balances_in_scope
from freezes.services import common
from inventory import ledger
from inventory.exceptions import (
    AlreadyPosted,
    InsufficientStock,
    InvalidInput,
    InvalidQuantity,
)
from inventory.models import StockMovement

Kind = StockMovement.Kind

#: The permission that lets a user decide releases (and set an automatic release).
APPROVE_PERMISSION = "freezes.approve_release"

#: Balances per ledger posting when freezing everything in a scope. The ledger freezes a
#: posting's balances set-based (a few statements whatever their number), so chunks only pace
#: the progress of a large freeze job.
FREEZE_ALL_CHUNK = 5000

#: Outbound kinds that may take frozen stock, as offered on the freeze screen.
SHIP_OUT_KINDS = {
    "scrap": (Kind.OUTBOUND_OTHER, FreezeEvent.Kind.SCRAPPED),
    "purchase_return": (Kind.OUTBOUND_PURCHASE_RETURN, FreezeEvent.Kind.RETURNED),
}


#: How far ahead an automatic release may be set. Also keeps a time typed as the last minute of
#: year 9999 west of UTC (year 10000 once stored in UTC, unreadable) out of the database.
RELEASE_HORIZON = datetime.timedelta(days=3653)


def check_release_horizon(release_at: datetime.datetime | None, now: datetime.datetime) -> None:
    """Refuse an automatic release time more than ten years ahead (``InvalidInput``)."""
    if release_at is not None and release_at > now + RELEASE_HORIZON:
        raise InvalidInput(
            _("The automatic release time is too far ahead: set it within ten years.")
        )


def check_scope(scope: Scope) -> None:
    """Refuse an empty scope (it would freeze the whole stock) and reversed date ranges."""
    if scope.is_empty():
        raise InvalidInput(
            _(
                "Choose what to freeze: at least one of goods, batch, bin, warehouse, category, "
                "brand, or an inbound or production date range."
            )
        )
    for start, end, label in (
        (scope.inbound_from, scope.inbound_to, _("inbound")),
        (scope.produced_from, scope.produced_to, _("production")),
    ):
        if start is not None and end is not None and start > end:
            raise InvalidInput(
                _("The %(what)s date range ends before it starts.") % {"what": label}
            )


def check_request(
    *,
    scope: Scope,
    reason: str,
    note: str,
    quantity: int | None,
    release_at: datetime.datetime | None,
    now: datetime.datetime,
) -> str:
    """The checks of a freeze request that need no stock: raises ``InvalidInput`` or
    ``InvalidQuantity``; returns the cleaned note."""
    check_scope(scope)
    if reason not in Reason.values:
        raise InvalidInput(_("Choose a reason for the freeze."))
    if quantity is not None:
        ledger.check_quantity(quantity)
    if release_at is not None and release_at <= now:
        raise InvalidInput(_("The automatic release time must be in the future."))
    check_release_horizon(release_at, now)
    note = (note or "").strip()
    if reason == Reason.OTHER and not note:
        raise InvalidInput(_("Say why in the note when the reason is “Other”."))
    return note


def freeze_create(
    *,
    scope: Scope,
    reason: str,
    operator,
    note: str = "",
    quantity: int | None = None,
    is_sticky: bool = False,
    release_on_qc_pass: bool = False,
    release_at: datetime.datetime | None = None,
    idempotency_key: str | None = None,
    now: datetime.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> Freeze:
    """Freeze the stock ``scope`` covers: everything available (``quantity`` None) or
    ``quantity`` units first-expiry-first-out. Writes the freeze, one line per balance frozen
    and a ``created`` event, all in one transaction (``progress(balances done)`` is told along
    the way; large freezes run as a ``FreezeJob``, see ``services.jobs``).

    Raises ``InvalidInput`` (empty scope, bad reason or dates, a release time in the past),
    ``InvalidQuantity``, ``ScopeMatchesNothing`` (no stock on hand in the scope),
    ``InsufficientStock`` (more than available, with the shortfall; or nothing available),
    ``AlreadyPosted`` (the same ``idempotency_key`` twice: a double submit). Locks the matching
    balances in primary-key order through the ledger."""
    now = now or timezone.now()
    note = check_request(
        scope=scope, reason=reason, note=note, quantity=quantity, release_at=release_at, now=now
    )

    candidates = list(balances_in_scope(scope).order_by("pk").values_list("pk", "available_qty"))
    if not candidates:
        raise ScopeMatchesNothing(_("Nothing matches this scope: there is no stock on hand in it."))
    available = sum(max(units, 0) for _pk, units in candidates)
    if quantity is not None and quantity > available:
        raise _shortfall(quantity, available)
    if available <= 0:
        raise InsufficientStock(
            _(
                "Everything in this scope is already frozen or reserved: nothing is available "
                "to freeze."
            ),
            requested=quantity or 0,
        )

    with transaction.atomic():
        freeze = common.create_once(
            Freeze,
            lambda: AlreadyPosted(_("This freeze was created already; nothing was changed.")),
            reason=reason,
            note=note,
            requested_quantity=quantity,
            is_sticky=is_sticky,
            release_on_qc_pass=release_on_qc_pass,
            release_at=release_at,
            created_by=operator,
            created_at=now,
            idempotency_key=idempotency_key or None,
            **scope.as_model_fields(),
        )
        reason_text = common.ledger_reason(freeze, note)
        if quantity is None:
            ids = [pk for pk, units in candidates if units > 0]
            movements = freeze_everything_available(
                freeze, ids, operator=operator, reason=reason_text, progress=progress
            )
            if not movements:
                raise InsufficientStock(
                    _("Nothing in this scope is available to freeze any more."), requested=0
                )
        else:
            try:
                posting = ledger.freeze_fefo(
                    balance_ids=[pk for pk, _units in candidates],
                    quantity=quantity,
                    document=common.document(freeze),
                    operator=operator,
                    reason=reason_text,
                )
            except InsufficientStock as error:
                raise _shortfall(quantity, error.available) from error
            movements = posting.movements
        frozen = common.insert_lines_from_movements(freeze, now=now)
        common.add_event(
            freeze, FreezeEvent.Kind.CREATED, actor=operator, quantity=frozen, comment=note, now=now
        )
    return freeze


def freeze_everything_available(
    freeze: Freeze,
    balance_ids: Sequence[int],
    *,
    operator,
    reason: str,
    progress: Callable[[int], None] | None = None,
) -> list[StockMovement]:
    """Freeze everything available on ``balance_ids`` for ``freeze`` with the ledger's set-based
    ``freeze_all_available``: one posting per ``FREEZE_ALL_CHUNK`` balances, in ascending
    primary-key ranges (so the whole freeze locks in one global order); chunks with nothing
    left available at lock time are skipped. ``progress(balances done)`` is told after each
    chunk. Runs inside the caller's transaction. Returns the freeze movements (none when
    nothing was available)."""
    movements: list[StockMovement] = []
    ids = sorted(set(balance_ids))
    for start in range(0, len(ids), FREEZE_ALL_CHUNK):
        try:
            posting = ledger.freeze_all_available(
                balance_ids=ids[start : start + FREEZE_ALL_CHUNK],
                document=common.document(freeze),
                operator=operator,
                reason=reason,
            )
        except InsufficientStock as error:
            if error.requested != 0:
                raise
        else:
            movements += posting.movements
        if progress is not None:
            progress(min(start + FREEZE_ALL_CHUNK, len(ids)))
    return movements


def _shortfall(requested: int, available: int) -> InsufficientStock:
    return InsufficientStock(
        _(
            "Cannot freeze %(requested)s units: only %(available)s are available in this scope "
            "(short by %(shortfall)s)."
        )
        % {
            "requested": requested,
            "available": available,
            "shortfall": requested - available,
        },
        requested=requested,
        available=available,
    )


def freeze_update(
    *,
    freeze: Freeze,
    operator,
    note: str,
    release_at: datetime.datetime | None,
    release_on_qc_pass: bool,
    now: datetime.datetime | None = None,
) -> Freeze:
    """Change a freeze's note and automatic release. Setting or bringing forward an automatic
    release (a time, or "on QC pass") lets the stock go without a release request, so it needs
    the approve permission and someone other than the freezer (``check_release_change``);
    switching it off or postponing it does not. Raises ``FreezeClosed`` for a closed freeze,
    ``InvalidInput`` for a release time in the past, ``ApprovalRefused``. Locks the freeze
    row."""
    now = now or timezone.now()
    note = (note or "").strip()
    if release_at is not None and release_at <= now:
        raise InvalidInput(_("The automatic release time must be in the future."))
    check_release_horizon(release_at, now)
    with transaction.atomic():
        locked = lock_freeze(freeze.pk)
        common.check_active(locked)
        if locked.reason == Reason.OTHER and not note:
            raise InvalidInput(_("Say why in the note when the reason is “Other”."))
        check_release_change(
            locked, operator=operator, release_at=release_at, release_on_qc_pass=release_on_qc_pass
        )
        changed = []
        for name, value in (
            ("note", note),
            ("release_at", release_at),
            ("release_on_qc_pass", release_on_qc_pass),
        ):
            if getattr(locked, name) != value:
                setattr(locked, name, value)
                changed.append(name)
        if changed:
            locked.save(update_fields=changed)
            common.add_event(
                locked,
                FreezeEvent.Kind.UPDATED,
                actor=operator,
                comment=", ".join(changed),
                now=now,
            )
    return locked


def brings_release_forward(
    freeze: Freeze, *, release_at: datetime.datetime | None, release_on_qc_pass: bool
) -> bool:
    """Whether the change would let the freeze's stock go sooner than it may now: a release
    time where there was none or an earlier one, or "release on QC pass" switched on."""
    if release_on_qc_pass and not freeze.release_on_qc_pass:
        return True
    if release_at is None:
        return False
    return freeze.release_at is None or release_at < freeze.release_at


def check_release_change(
    freeze: Freeze, *, operator, release_at: datetime.datetime | None, release_on_qc_pass: bool
) -> None:
    """Refuse setting or bringing forward an automatic release of an existing freeze to a user
    without the approve permission, or to the person who froze the stock: it would release the
    stock with nobody else deciding (the two-person rule of release requests). Raises
    ``ApprovalRefused``."""
    if not brings_release_forward(
        freeze, release_at=release_at, release_on_qc_pass=release_on_qc_pass
    ):
        return
    if operator is None or not operator.has_perm(APPROVE_PERMISSION):
        raise ApprovalRefused(
            _(
                "Setting or bringing forward an automatic release lets the stock go without a "
                "release request, so it needs the permission to approve releases. Ask for a "
                "release instead: an approver will decide."
            )
        )
    if freeze.created_by_id is not None and freeze.created_by_id == operator.pk:
        raise ApprovalRefused(
            _(
                "You froze this stock yourself: another approver must set or bring forward its "
                "automatic release, or ask for a release."
            )
        )


def freeze_stop_sticky(*, freeze: Freeze, operator, now: datetime.datetime | None = None) -> bool:
    """Stop a sticky freeze from freezing new arrivals (it keeps what it holds). Raises
    ``FreezeClosed``; returns False when it was not catching. Its own short transaction (see
    ``common.stop_catching``)."""
    common.check_active(freeze)
    return common.stop_catching(freeze.pk, actor=operator, now=now)


def freeze_ship_out(
    *,
    freeze: Freeze,
    line: FreezeLine,
    quantity: int,
    outbound: str,
    operator,
    reason: str,
    idempotency_key: str | None = None,
    now: datetime.datetime | None = None,
) -> FreezeEvent:
    """Take ``quantity`` frozen units of one line out of the warehouse as scrap
    (``outbound="scrap"``) or purchase return (``"purchase_return"``): an outbound-from-frozen
    posting on the freeze's document, recorded on the line and as a ``scrapped``/``returned``
    event. The freeze closes when it holds nothing more and no longer catches arrivals.

    Raises ``InvalidInput`` (unknown outbound kind, no reason, a line of another freeze),
    ``InvalidQuantity`` (more than the line holds), ``FreezeClosed``, ``AlreadyPosted`` (the
    same ``idempotency_key`` twice: a double submit; nothing changes). Locks the freeze, then
    the line's balance."""
    now = now or timezone.now()
    if outbound not in SHIP_OUT_KINDS:
        raise InvalidInput(_("Frozen stock can leave only as scrap or purchase return."))
    movement_kind, event_kind = SHIP_OUT_KINDS[outbound]
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give a reason for taking the frozen stock out."))
    ledger.check_quantity(quantity)
    if line.freeze_id != freeze.pk:
        raise InvalidInput(_("This line belongs to another freeze."))
    with transaction.atomic():
        locked = lock_freeze(freeze.pk)
        common.check_active(locked)
        fresh = common.lock_lines(locked, [line.pk])
        held = fresh[0].held if fresh else 0
        if quantity > held:
            raise InvalidQuantity(
                _(
                    "Cannot take %(requested)s units out: this line holds only %(held)s frozen "
                    "units."
                )
                % {"requested": quantity, "held": held}
            )
        row = fresh[0]
        posting = ledger.issue(
            kind=movement_kind,
            warehouse_id=row.warehouse_id,
            lines=[
                ledger.Pick(
                    goods_id=row.goods_id,
                    quantity=quantity,
                    balance_id=row.balance_id,
                    from_frozen=True,
                )
            ],
            document=common.document(locked),
            operator=operator,
            reason=common.ledger_reason(locked, reason),
            idempotency_key=idempotency_key,
            allow_expired=True,
            override_reason="frozen_taken_out",
        )
        FreezeLine.objects.filter(pk=row.pk).update(shipped=F("shipped") + quantity)
        event = common.add_event(
            locked,
            event_kind,
            actor=operator,
            quantity=quantity,
            comment=reason,
            document_ref=f"{locked.number}#{posting.movements[0].pk}",
            now=now,
        )
        common.close_if_done(locked, actor=operator, now=now)
    return event
