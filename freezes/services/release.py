"""Releasing frozen stock: requests and their approval, automatic release at a time or on a QC
pass, quality inspection records."""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from freezes.exceptions import AlreadyDecided, ApprovalRefused
from freezes.locks import lock_freeze, lock_freeze_exclusive, lock_freezes
from freezes.models import (
    FREEZE_CLOSED,
    Freeze,
    FreezeEvent,
    FreezeLine,
    QualityInspection,
    ReleaseMode,
    ReleaseRequest,
)
from freezes.services import common
from freezes.services.freezing import APPROVE_PERMISSION
from inventory import ledger
from inventory.exceptions import AlreadyPosted, InvalidInput, InvalidQuantity
from inventory.locks import lock_balances

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Release requests
# --------------------------------------------------------------------------------------------


def release_request_create(
    *,
    freeze: Freeze,
    requester,
    reason: str,
    quantity: int | None = None,
    line: FreezeLine | None = None,
    idempotency_key: str | None = None,
    now: datetime.datetime | None = None,
) -> ReleaseRequest:
    """Ask for the release of all of a freeze (``quantity`` None), ``quantity`` units of it
    (earliest expiry first), or of one ``line``. Writes the request and a ``release_requested``
    event. Raises ``FreezeClosed``, ``InvalidInput`` (no reason, a line of another freeze),
    ``InvalidQuantity`` (more than is frozen now), ``AlreadyPosted`` (the same
    ``idempotency_key`` twice: a double submit; nothing changes). Locks the freeze row (no
    balances)."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the stock should be released."))
    if quantity is not None:
        ledger.check_quantity(quantity)
    if line is not None and line.freeze_id != freeze.pk:
        raise InvalidInput(_("This line belongs to another freeze."))
    idempotency_key = idempotency_key or None
    if idempotency_key and ReleaseRequest.objects.filter(idempotency_key=idempotency_key).exists():
        raise _requested_already()
    with transaction.atomic():
        locked = lock_freeze(freeze.pk)
        common.check_active(locked)
        lines = FreezeLine.objects.filter(freeze=locked)
        if line is not None:
            lines = lines.filter(pk=line.pk)
        held = sum(row.held for row in lines)
        if held <= 0:
            raise InvalidQuantity(
                _("Nothing is frozen here any more: there is nothing to release.")
            )
        if quantity is not None and quantity > held:
            raise InvalidQuantity(
                _(
                    "Cannot release %(requested)s units: only %(held)s are frozen "
                    "(%(over)s too many)."
                )
                % {"requested": quantity, "held": held, "over": quantity - held}
            )
        request = common.create_once(
            ReleaseRequest,
            _requested_already,
            freeze=locked,
            line=line,
            quantity=quantity,
            reason=reason,
            requested_by=requester,
            requested_at=now,
            idempotency_key=idempotency_key,
        )
        common.add_event(
            locked,
            FreezeEvent.Kind.RELEASE_REQUESTED,
            actor=requester,
            quantity=quantity or held,
            comment=reason,
            request=request,
            now=now,
        )
    return request


def _requested_already() -> AlreadyPosted:
    return AlreadyPosted(_("This release was requested already; nothing was changed."))


def check_decider(request: ReleaseRequest, user) -> None:
    """Refuse a decider without the approve permission, the requester, or the freezer."""
    if not user.has_perm(APPROVE_PERMISSION):
        raise ApprovalRefused(_("You do not hold the permission to approve or reject releases."))
    if request.requested_by_id == user.pk:
        raise ApprovalRefused(
            _("You asked for this release yourself: another approver must decide it.")
        )
    if request.freeze.created_by_id == user.pk:
        raise ApprovalRefused(_("You froze this stock yourself: another approver must decide."))


def release_request_approve(
    *,
    request: ReleaseRequest,
    approver,
    comment: str,
    now: datetime.datetime | None = None,
) -> int:
    """Approve a pending request and release the stock through the ledger, in one transaction:
    ``release_approved`` and ``released`` events; a release of everything closes the freeze
    (and ends a sticky freeze, in a short transaction before, once the request is known to be
    pending and something is frozen to release: ``_stop_catching_for``).

    Raises ``ApprovalRefused`` (no permission, own request, own freeze), ``AlreadyDecided``,
    ``FreezeClosed``, ``InvalidInput`` (no comment), ``InvalidQuantity`` (the request asks for
    more than is frozen now; nothing changes and the request stays pending). Locks the request,
    the freeze, then the balances of the released lines in primary-key order. Returns the
    units released."""
    now = now or timezone.now()
    comment = (comment or "").strip()
    if not comment:
        raise InvalidInput(_("Add a comment to your decision."))
    check_decider(request, approver)
    everything = request.quantity is None and request.line_id is None
    stopped = False
    if everything and request.freeze.is_catching and request.is_pending:
        stopped = _stop_catching_for(request, actor=approver, now=now)
    try:
        released = _approve(
            request, approver=approver, comment=comment, everything=everything, now=now
        )
    except Exception:
        # A decision made on another connection since the freeze stopped catching (rejected,
        # withdrawn, approved, the stock gone): nothing was released, so it catches again.
        if stopped:
            common.resume_catching(request.freeze_id, stopped_at=now, actor=approver)
        raise
    request.refresh_from_db()
    return released


def _approve(request: ReleaseRequest, *, approver, comment: str, everything: bool, now) -> int:
    """The release transaction of ``release_request_approve``."""
    with transaction.atomic():
        locked_request = _lock_pending(request)
        freeze = lock_freeze(locked_request.freeze_id)
        common.check_active(freeze)
        line_ids = [locked_request.line_id] if locked_request.line_id else None
        lines = common.lock_lines(freeze, line_ids)
        take = common.allocate(lines, locked_request.quantity)
        if not take:
            raise InvalidQuantity(
                _("Nothing is frozen here any more: there is nothing to release.")
            )
        released = common.release_lines(
            freeze, lines=lines, take=take, actor=approver, reason_text=comment
        )
        ReleaseRequest.objects.filter(pk=locked_request.pk).update(
            status=ReleaseRequest.Status.APPROVED,
            decided_by=approver,
            decided_at=now,
            comment=comment,
            released_quantity=released,
        )
        common.add_event(
            freeze,
            FreezeEvent.Kind.RELEASE_APPROVED,
            actor=approver,
            quantity=released,
            comment=comment,
            request=locked_request,
            now=now,
        )
        common.add_event(
            freeze,
            FreezeEvent.Kind.RELEASED,
            actor=approver,
            quantity=released,
            comment=locked_request.reason,
            request=locked_request,
            now=now,
        )
        common.close_if_done(freeze, actor=approver, force_stop_catching=everything, now=now)
    return released


def release_request_reject(
    *,
    request: ReleaseRequest,
    approver,
    comment: str,
    now: datetime.datetime | None = None,
) -> ReleaseRequest:
    """Reject a pending request with a comment (stock stays frozen); a ``release_rejected``
    event. Raises ``ApprovalRefused``, ``AlreadyDecided``, ``InvalidInput`` (no comment).
    Locks the request."""
    now = now or timezone.now()
    comment = (comment or "").strip()
    if not comment:
        raise InvalidInput(_("Say why the release is rejected."))
    check_decider(request, approver)
    with transaction.atomic():
        locked_request = _lock_pending(request)
        ReleaseRequest.objects.filter(pk=locked_request.pk).update(
            status=ReleaseRequest.Status.REJECTED,
            decided_by=approver,
            decided_at=now,
            comment=comment,
        )
        common.add_event(
            locked_request.freeze,
            FreezeEvent.Kind.RELEASE_REJECTED,
            actor=approver,
            comment=comment,
            request=locked_request,
            now=now,
        )
    request.refresh_from_db()
    return request


def release_request_cancel(
    *, request: ReleaseRequest, user, now: datetime.datetime | None = None
) -> ReleaseRequest:
    """The requester withdraws a pending request: a ``release_withdrawn`` event with the units
    it asked for. Raises ``ApprovalRefused`` for anyone else, ``AlreadyDecided``. Locks the
    request."""
    now = now or timezone.now()
    if request.requested_by_id != user.pk:
        raise ApprovalRefused(_("Only the person who asked for a release can withdraw it."))
    with transaction.atomic():
        locked_request = _lock_pending(request)
        ReleaseRequest.objects.filter(pk=locked_request.pk).update(
            status=ReleaseRequest.Status.CANCELLED, decided_at=now
        )
        common.add_event(
            locked_request.freeze,
            FreezeEvent.Kind.RELEASE_WITHDRAWN,
            actor=user,
            quantity=_units_asked(locked_request),
            request=locked_request,
            now=now,
        )
    request.refresh_from_db()
    return request


def _units_asked(request: ReleaseRequest) -> int:
    """The units a request asked for (a request for everything: as its ``release_requested``
    step recorded them)."""
    if request.quantity is not None:
        return request.quantity
    asked = (
        request.events.filter(kind=FreezeEvent.Kind.RELEASE_REQUESTED)
        .values_list("quantity", flat=True)
        .first()
    )
    return asked or 0


def _stop_catching_for(request: ReleaseRequest, *, actor, now: datetime.datetime) -> bool:
    """Before approving a release of everything of a sticky freeze: stop it catching arrivals,
    in a transaction of its own, only after re-checking under the request's row lock that the
    request is still pending and that something is frozen to release. A refused approval then
    leaves the freeze catching. Lock order (``freezes.locks``): the request, then the freeze
    ``FOR UPDATE`` (``common.stop_catching``); no balance is locked here. Raises
    ``AlreadyDecided``, ``FreezeClosed``, ``InvalidQuantity``. Returns whether it stopped the
    freeze (the caller resumes it with ``common.resume_catching`` when the release then fails)."""
    with transaction.atomic():
        locked_request = _lock_pending(request)
        freeze = lock_freeze_exclusive(locked_request.freeze_id)
        common.check_active(freeze)
        if not FreezeLine.objects.filter(freeze=freeze).held().exists():
            raise InvalidQuantity(
                _("Nothing is frozen here any more: there is nothing to release.")
            )
        return common.stop_catching(freeze.pk, actor=actor, now=now)


def _lock_pending(request: ReleaseRequest) -> ReleaseRequest:
    locked = (
        ReleaseRequest.objects.select_for_update(of=("self",))
        .select_related("freeze")
        .filter(pk=request.pk)
        .first()
    )
    if locked is None or not locked.is_pending:
        raise AlreadyDecided(_("This release request was decided already; nothing was changed."))
    return locked


# --------------------------------------------------------------------------------------------
# Automatic release
# --------------------------------------------------------------------------------------------


def freeze_release_at_time(*, freeze_id: int, now: datetime.datetime | None = None) -> int:
    """Release everything a freeze holds once its ``release_at`` has come (presale start),
    and close it: a ``released_at_time`` event naming the rule when a rule made the freeze.
    Idempotent: a closed freeze, or one whose time has not come (or was changed), is left
    alone and 0 returned. Locks as ``release_request_approve``."""
    now = now or timezone.now()
    current = Freeze.objects.filter(pk=freeze_id).first()
    if current is None or not current.is_active:
        return 0
    if current.release_at is None or current.release_at > now:
        return 0
    stopped = current.is_catching and common.stop_catching(freeze_id, rule=current.rule, now=now)
    released = 0
    try:
        released = _release_at_time(freeze_id, now=now)
    finally:
        if stopped and not released:
            # The time moved (or the freeze emptied) since it stopped catching: it catches again.
            common.resume_catching(freeze_id, stopped_at=now, rule=current.rule)
    return released


def _release_at_time(freeze_id: int, *, now: datetime.datetime) -> int:
    """The release transaction of ``freeze_release_at_time``."""
    with transaction.atomic():
        freeze = lock_freeze(freeze_id)
        if not freeze.is_active or freeze.release_at is None or freeze.release_at > now:
            return 0
        lines = common.lock_lines(freeze)
        take = common.allocate(lines, None)
        released = common.release_lines(
            freeze, lines=lines, take=take, actor=None, reason_text="auto_release"
        )
        common.add_event(
            freeze,
            FreezeEvent.Kind.RELEASED_AT_TIME,
            rule=freeze.rule,
            quantity=released,
            now=now,
        )
        common.close_if_done(freeze, rule=freeze.rule, force_stop_catching=True, now=now)
    return released


def freezes_release_due(*, now: datetime.datetime | None = None, limit: int = 500) -> int:
    """Release every active freeze whose automatic release time has come, each in its own
    transaction (``freeze_release_at_time``), and close active freezes that hold nothing any
    more (stock taken out by other documents). Safe to run twice. Returns how many freezes it
    released."""
    now = now or timezone.now()
    due = list(
        Freeze.objects.active()
        .filter(release_at__lte=now)
        .order_by("release_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for freeze_id in due:
        if freeze_release_at_time(freeze_id=freeze_id, now=now):
            done += 1
    freezes_close_empty(now=now)
    requests_cancel_closed(now=now)
    return done


def requests_cancel_closed(*, now: datetime.datetime | None = None) -> int:
    """Cancel pending release requests whose freeze has closed (released at its time, on QC
    pass, or emptied), each with a ``release_withdrawn`` step by the system on the freeze's
    timeline (comment ``freeze_closed``), so the requester sees why. Locks request rows only
    (``SKIP LOCKED``: one being decided right now is looked at again next minute), before the
    events are written: the lock order of ``freezes.locks``, request before freeze."""
    now = now or timezone.now()
    with transaction.atomic():
        closing = list(
            ReleaseRequest.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(status=ReleaseRequest.Status.PENDING, freeze__status=Freeze.Status.CLOSED)
            .select_related("freeze")
            .order_by("pk")
        )
        if not closing:
            return 0
        ReleaseRequest.objects.filter(pk__in=[r.pk for r in closing]).update(
            status=ReleaseRequest.Status.CANCELLED, decided_at=now
        )
        for request in closing:
            common.add_event(
                request.freeze,
                FreezeEvent.Kind.RELEASE_WITHDRAWN,
                quantity=_units_asked(request),
                comment=FREEZE_CLOSED,
                request=request,
                now=now,
            )
    return len(closing)


def freezes_close_empty(*, now: datetime.datetime | None = None) -> int:
    """Close active freezes that hold nothing and no longer catch arrivals (their stock left
    through another document, whose hook recorded it on the lines). Returns how many."""
    now = now or timezone.now()
    candidates = list(
        Freeze.objects.active()
        .exclude(is_sticky=True, sticky_ended_at=None)
        .exclude(pk__in=FreezeLine.objects.held().values("freeze_id"))
        .values_list("pk", flat=True)[:500]
    )
    closed = 0
    for freeze_id in candidates:
        with transaction.atomic():
            freeze = lock_freeze(freeze_id)
            if freeze is not None and common.close_if_done(freeze, now=now):
                closed += 1
    return closed


# --------------------------------------------------------------------------------------------
# Quality inspection
# --------------------------------------------------------------------------------------------


def inspection_record(
    *,
    inspector,
    result: str,
    freeze: Freeze | None = None,
    batch=None,
    passed: int = 0,
    failed: int = 0,
    note: str = "",
    idempotency_key: str | None = None,
    now: datetime.datetime | None = None,
) -> QualityInspection:
    """Record a QC result against a freeze or a batch, with a ``qc_result`` event on each
    freeze concerned. Freezes set to release on QC pass release automatically: everything
    they hold (of the batch) on a pass, ``passed`` units (earliest expiry first) on a partial
    result; on a fail the stock stays frozen (the screen suggests scrap or return).

    Raises ``InvalidInput`` (no subject or both, unknown result, partial without both
    quantities), ``InvalidQuantity`` (negative, or more passed than is frozen),
    ``FreezeClosed``, ``AlreadyPosted`` (the same ``idempotency_key`` twice: a double submit;
    nothing changes). Locks the freezes (primary-key order), then the balances of the lines
    released."""
    now = now or timezone.now()
    if (freeze is None) == (batch is None):
        raise InvalidInput(_("Inspect either a freeze or a batch."))
    if result not in QualityInspection.Result.values:
        raise InvalidInput(_("Choose the QC result: pass, fail or partial."))
    for value in (passed, failed):
        ledger.check_quantity(value, minimum=0)
    if result == QualityInspection.Result.PARTIAL and (passed <= 0 or failed <= 0):
        raise InvalidInput(_("A partial result needs both the passed and the failed quantity."))
    note = (note or "").strip()
    idempotency_key = idempotency_key or None
    if (
        idempotency_key
        and QualityInspection.objects.filter(idempotency_key=idempotency_key).exists()
    ):
        raise _qc_recorded_already()

    with transaction.atomic():
        if freeze is not None:
            locked = lock_freeze(freeze.pk)
            common.check_active(locked)
            freezes = {locked.pk: locked}
        else:
            freezes = lock_freezes(
                FreezeLine.objects.held()
                .filter(balance__batch=batch, freeze__status=Freeze.Status.ACTIVE)
                .values_list("freeze_id", flat=True)
            )
            freezes = {pk: f for pk, f in freezes.items() if f.is_active}
        _lock_balances_for_qc(freezes, batch, releasing=result != QualityInspection.Result.FAIL)
        inspection = common.create_once(
            QualityInspection,
            _qc_recorded_already,
            freeze=freeze,
            batch=batch,
            result=result,
            passed_quantity=passed,
            failed_quantity=failed,
            note=note,
            inspector=inspector,
            created_at=now,
            idempotency_key=idempotency_key,
        )
        # A pass releases everything; a partial result the passed units; a fail nothing.
        quota = None if result == QualityInspection.Result.PASS else passed
        releasing = result != QualityInspection.Result.FAIL
        released_total = 0
        auto_release = False
        for freeze_id in sorted(freezes):
            current = freezes[freeze_id]
            common.add_event(
                current,
                FreezeEvent.Kind.QC_RESULT,
                actor=inspector,
                quantity=failed if result == QualityInspection.Result.FAIL else passed,
                comment=f"{result}: {note}" if note else result,
                inspection=inspection,
                now=now,
            )
            if not releasing or not current.release_on_qc_pass or quota == 0:
                continue
            auto_release = True
            released = _release_on_qc(current, batch, quota, inspector, inspection, now)
            released_total += released
            if quota is not None:
                quota -= released
        if auto_release and quota:
            raise InvalidQuantity(
                _(
                    "%(passed)s units passed, but only %(held)s are frozen for release on QC "
                    "pass here."
                )
                % {"passed": passed, "held": released_total}
            )
        if released_total:
            QualityInspection.objects.filter(pk=inspection.pk).update(
                released_quantity=released_total
            )
            inspection.released_quantity = released_total
    return inspection


def _qc_recorded_already() -> AlreadyPosted:
    return AlreadyPosted(_("This QC result was recorded already; nothing was changed."))


def _lock_balances_for_qc(freezes: dict[int, Freeze], batch, *, releasing: bool) -> None:
    """Lock, in one statement and primary-key order, every balance a QC result may release
    (several freezes' lines): locking them freeze by freeze would break the global order."""
    ids = [pk for pk, freeze in freezes.items() if freeze.release_on_qc_pass]
    if not releasing or not ids:
        return
    lines = FreezeLine.objects.held().filter(freeze_id__in=ids)
    if batch is not None:
        lines = lines.filter(balance__batch=batch)
    lock_balances(lines.values_list("balance_id", flat=True))


def _release_on_qc(freeze: Freeze, batch, quantity: int | None, inspector, inspection, now) -> int:
    """Release a locked freeze's stock (of ``batch`` only, when given) on a QC pass: all of
    it, or at most ``quantity`` units earliest expiry first. A sticky freeze keeps catching
    arrivals (they need their own inspection). Returns the units released."""
    line_ids = None
    if batch is not None:
        line_ids = list(
            FreezeLine.objects.filter(freeze=freeze, balance__batch=batch).values_list(
                "pk", flat=True
            )
        )
    lines = common.lock_lines(freeze, line_ids)
    held = sum(line.held for line in lines)
    take = common.allocate(lines, None if quantity is None else min(quantity, held))
    released = common.release_lines(
        freeze, lines=lines, take=take, actor=inspector, reason_text="qc_passed"
    )
    if released:
        common.add_event(
            freeze,
            FreezeEvent.Kind.RELEASED_ON_QC,
            actor=inspector,
            rule=freeze.rule,
            quantity=released,
            inspection=inspection,
            now=now,
        )
    common.close_if_done(freeze, actor=inspector, rule=freeze.rule, now=now)
    return released


def release_mode_of(freeze: Freeze) -> str:
    """How the freeze is released: automatically at its time, on QC pass, or by request."""
    if freeze.release_at is not None:
        return ReleaseMode.AT_TIME
    if freeze.release_on_qc_pass:
        return ReleaseMode.ON_QC_PASS
    return ReleaseMode.MANUAL
