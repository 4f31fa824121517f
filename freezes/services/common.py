"""Pieces shared by the freeze services: the ledger document of a freeze, writing lines and
events, releasing lines, closing a freeze, stopping a sticky freeze from catching arrivals.

Everything here runs inside a caller's transaction with the locks of ``freezes.locks`` taken
in its order; the public services in the sibling modules say which.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from freezes import hooks
from freezes.exceptions import FreezeClosed
from freezes.locks import lock_freeze_exclusive
from freezes.models import Freeze, FreezeEvent, FreezeLine, FreezeRule, ReleaseRequest
from inventory import ledger
from inventory.exceptions import InvalidQuantity
from inventory.locks import lock_balances
from inventory.models import DocumentType, StockMovement
from inventory.reasons import reason as reason_code

Kind = StockMovement.Kind


def create_once(model: type[models.Model], refusal: Callable[[], Exception], **fields):
    """``model.objects.create(**fields)`` in a savepoint of the caller's transaction; a clash on
    its unique ``idempotency_key`` (the same form submitted twice, both passing the early
    check at once) raises ``refusal()``, nothing written; any other integrity error propagates."""
    try:
        with transaction.atomic():
            return model.objects.create(**fields)
    except IntegrityError as error:
        if "idempotency_key" in str(error):
            raise refusal() from error
        raise


def document(freeze: Freeze) -> ledger.Document:
    """The ledger document of every posting a freeze makes (so the ledger screen links it)."""
    return ledger.Document(type=DocumentType.FREEZE, id=freeze.pk, ref=freeze.number)


def ledger_reason(freeze: Freeze, text: str = "") -> str:
    """The reason stored on the freeze's movements: its reason code and a detail (a code such
    as ``auto_release``, a document number, a rule's name or a person's words), never
    translated text (``inventory.reasons``)."""
    return reason_code(freeze.reason, text)[: ledger.REASON_MAX]


def check_active(freeze: Freeze) -> None:
    if not freeze.is_active:
        raise FreezeClosed(
            _("%(freeze)s is closed: it can no longer be changed.") % {"freeze": freeze.number}
        )


def add_event(
    freeze: Freeze,
    kind: str,
    *,
    actor=None,
    rule: FreezeRule | None = None,
    quantity: int = 0,
    comment: str = "",
    document_ref: str = "",
    request: ReleaseRequest | None = None,
    inspection=None,
    now: datetime.datetime | None = None,
) -> FreezeEvent:
    event = FreezeEvent.objects.create(
        freeze=freeze,
        kind=kind,
        actor_id=getattr(actor, "pk", actor),
        rule=rule,
        quantity=quantity,
        reason=freeze.reason,
        comment=comment,
        document_ref=document_ref[:40],
        request=request,
        inspection=inspection,
        created_at=now or timezone.now(),
    )
    hooks.fire(event)
    return event


# --------------------------------------------------------------------------------------------
# Freezing
# --------------------------------------------------------------------------------------------


def create_lines(
    freeze: Freeze, movements: Iterable[StockMovement], *, now: datetime.datetime
) -> int:
    """Write the lines of a new freeze from its freeze movements; return the units frozen."""
    per_balance: dict[int, list] = {}
    for movement in movements:
        entry = per_balance.setdefault(
            movement.balance_id, [movement.goods_id, movement.warehouse_id, 0]
        )
        entry[2] += movement.quantity
    FreezeLine.objects.bulk_create(
        [
            FreezeLine(
                freeze=freeze,
                balance_id=balance_id,
                goods_id=goods_id,
                warehouse_id=warehouse_id,
                quantity=quantity,
                created_at=now,
            )
            for balance_id, (goods_id, warehouse_id, quantity) in sorted(per_balance.items())
        ],
        batch_size=2000,
    )
    return sum(entry[2] for entry in per_balance.values())


def insert_lines_from_movements(freeze: Freeze, *, now: datetime.datetime) -> int:
    """Write a new freeze's lines from its freeze movements in one ``INSERT ... SELECT`` (no
    row passes through Python); return the units frozen."""
    q = connection.ops.quote_name
    line = q(FreezeLine._meta.db_table)
    movement = q(StockMovement._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {line} (freeze_id, balance_id, goods_id, warehouse_id, quantity, "
            f"released, shipped, created_at) "
            f"SELECT %s, m.balance_id, m.goods_id, m.warehouse_id, SUM(m.quantity), 0, 0, %s "
            f"FROM {movement} m WHERE m.document_type = %s AND m.document_id = %s "
            f"AND m.kind = %s GROUP BY m.balance_id, m.goods_id, m.warehouse_id",
            [freeze.pk, now, document(freeze).type, freeze.pk, Kind.FREEZE],
        )
        cursor.execute(
            f"SELECT COALESCE(SUM(quantity), 0) FROM {line} WHERE freeze_id = %s", [freeze.pk]
        )
        return int(cursor.fetchone()[0])


def add_to_lines(
    freeze: Freeze, movements: Iterable[StockMovement], *, now: datetime.datetime
) -> int:
    """Add freeze movements to an existing freeze's lines (sticky arrivals); the caller holds
    the balances' locks. Returns the units added."""
    per_balance: dict[int, list] = {}
    for movement in movements:
        entry = per_balance.setdefault(
            movement.balance_id, [movement.goods_id, movement.warehouse_id, 0]
        )
        entry[2] += movement.quantity
    existing = dict(
        FreezeLine.objects.filter(freeze=freeze, balance_id__in=sorted(per_balance)).values_list(
            "balance_id", "pk"
        )
    )
    for balance_id, (_goods, _warehouse, quantity) in sorted(per_balance.items()):
        if balance_id in existing:
            FreezeLine.objects.filter(pk=existing[balance_id]).update(
                quantity=F("quantity") + quantity
            )
    FreezeLine.objects.bulk_create(
        [
            FreezeLine(
                freeze=freeze,
                balance_id=balance_id,
                goods_id=goods_id,
                warehouse_id=warehouse_id,
                quantity=quantity,
                created_at=now,
            )
            for balance_id, (goods_id, warehouse_id, quantity) in sorted(per_balance.items())
            if balance_id not in existing
        ]
    )
    return sum(entry[2] for entry in per_balance.values())


# --------------------------------------------------------------------------------------------
# Releasing
# --------------------------------------------------------------------------------------------


def lock_lines(freeze: Freeze, line_ids: Iterable[int] | None = None) -> list[FreezeLine]:
    """Lock the balances of the freeze's held lines (or of ``line_ids``) in primary-key order,
    then read those lines afresh (exact: lines are written only under their balance's lock).
    Returns the lines still holding units, earliest expiry first, then by id."""
    lines = FreezeLine.objects.filter(freeze=freeze)
    lines = lines.held() if line_ids is None else lines.filter(pk__in=sorted(set(line_ids)))
    lock_balances(lines.values_list("balance_id", flat=True))
    fresh = list(
        lines.filter(quantity__gt=F("released") + F("shipped")).annotate(
            expiry=F("balance__batch__expiry_date")
        )
    )
    fresh.sort(key=lambda line: (line.expiry is None, line.expiry or datetime.date.max, line.pk))
    return fresh


def allocate(lines: Sequence[FreezeLine], quantity: int | None) -> dict[int, int]:
    """Units to take per line: everything held (``quantity`` None) or ``quantity`` units from the
    lines in the order given (earliest expiry first). Raises ``InvalidQuantity`` when the lines
    hold less than asked."""
    held = sum(line.held for line in lines)
    if quantity is None:
        return {line.pk: line.held for line in lines if line.held > 0}
    if quantity > held:
        raise InvalidQuantity(
            _(
                "Cannot release or take %(requested)s units: only %(held)s are frozen here "
                "(%(over)s too many)."
            )
            % {"requested": quantity, "held": held, "over": quantity - held}
        )
    out: dict[int, int] = {}
    remaining = quantity
    for line in lines:
        if remaining == 0:
            break
        take = min(line.held, remaining)
        if take > 0:
            out[line.pk] = take
            remaining -= take
    return out


def release_lines(
    freeze: Freeze,
    *,
    lines: Sequence[FreezeLine],
    take: dict[int, int],
    actor,
    reason_text: str,
) -> int:
    """Unfreeze ``take`` units per line through the ledger and record them on the lines. The
    caller holds the freeze and the balance locks (``lock_lines``). Returns the units released."""
    by_id = {line.pk: line for line in lines}
    holds = [
        ledger.Hold(by_id[pk].balance_id, quantity)
        for pk, quantity in sorted(take.items())
        if quantity > 0
    ]
    if not holds:
        return 0
    ledger.unfreeze(
        holds=holds,
        document=document(freeze),
        operator=actor,
        reason=ledger_reason(freeze, reason_text),
    )
    for pk, quantity in sorted(take.items()):
        if quantity > 0:
            FreezeLine.objects.filter(pk=pk).update(released=F("released") + quantity)
    return sum(take.values())


def held_total(freeze: Freeze) -> int:
    return sum(line.held for line in FreezeLine.objects.filter(freeze=freeze).held())


def close_if_done(
    freeze: Freeze, *, actor=None, rule=None, force_stop_catching: bool = False, now=None
) -> bool:
    """Close the (locked) freeze when it holds nothing any more and no longer catches arrivals
    (``force_stop_catching``: a release of everything ends a sticky freeze too). Returns whether
    it closed. Pending release requests of a closed freeze are cancelled later by
    ``release.requests_cancel_closed``: request rows are locked before freeze rows, never
    after (``freezes.locks``)."""
    now = now or timezone.now()
    if not freeze.is_active:
        return False
    if FreezeLine.objects.filter(freeze=freeze).held().exists():
        return False
    if freeze.is_catching and not force_stop_catching:
        return False
    changes = {"status": Freeze.Status.CLOSED, "closed_at": now}
    if freeze.is_catching:
        changes["sticky_ended_at"] = now
    Freeze.objects.filter(pk=freeze.pk).update(**changes)
    for name, value in changes.items():
        setattr(freeze, name, value)
    add_event(freeze, FreezeEvent.Kind.CLOSED, actor=actor, rule=rule, now=now)
    return True


def stop_catching(freeze_id: int, *, actor=None, rule=None, now=None) -> bool:
    """End a sticky freeze's catching of arrivals, in a transaction of its own that takes the
    freeze row ``FOR UPDATE`` and nothing else (see ``freezes.locks``): it waits for receipts
    that are adding lines to it, and every later receipt sees it stopped. Call it BEFORE the
    transaction that releases everything, outside any other atomic block, so no line can be
    added between that release and the close. Returns whether it changed anything."""
    now = now or timezone.now()
    with transaction.atomic():
        freeze = lock_freeze_exclusive(freeze_id)
        if freeze is None or not freeze.is_catching:
            return False
        Freeze.objects.filter(pk=freeze.pk).update(sticky_ended_at=now)
        freeze.sticky_ended_at = now
        add_event(freeze, FreezeEvent.Kind.STICKY_ENDED, actor=actor, rule=rule, now=now)
    return True


def resume_catching(
    freeze_id: int, *, stopped_at: datetime.datetime, actor=None, rule=None, now=None
) -> bool:
    """Undo a ``stop_catching`` made at ``stopped_at`` whose release then did not happen (the
    request was decided or withdrawn meanwhile, the release time moved, the stock left): the
    freeze catches arrivals again, with a ``sticky_resumed`` event. Compare-and-set on
    ``sticky_ended_at``, in its own transaction taking the freeze ``FOR UPDATE`` like
    ``stop_catching`` (and nothing else). Returns whether it changed anything: nothing when the
    freeze closed or was stopped again by someone else."""
    now = now or timezone.now()
    with transaction.atomic():
        freeze = lock_freeze_exclusive(freeze_id)
        if freeze is None or not freeze.is_active or freeze.sticky_ended_at != stopped_at:
            return False
        Freeze.objects.filter(pk=freeze.pk).update(sticky_ended_at=None)
        freeze.sticky_ended_at = None
        add_event(freeze, FreezeEvent.Kind.STICKY_RESUMED, actor=actor, rule=rule, now=now)
    return True


def units_by_freeze(freeze_ids: Iterable[int]) -> dict[int, int]:
    """Units held per freeze (one query)."""
    out: dict[int, int] = defaultdict(int)
    for freeze_id, quantity, released, shipped in (
        FreezeLine.objects.filter(freeze_id__in=sorted(set(freeze_ids)))
        .held()
        .values_list("freeze_id", "quantity", "released", "shipped")
    ):
        out[freeze_id] += quantity - released - shipped
    return dict(out)
