"""Postings that change on-hand stock: ``receive``, ``issue``, ``transfer`` and ``adjust``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.exceptions import InsufficientStock, InvalidInput, NotAllowed
from inventory.ledger.checks import (
    check_batches,
    check_bins_active_locked,
    check_bins_in_warehouse,
    check_goods_active,
    check_key_unused,
    check_kind,
    check_lines,
    check_not_combo,
    check_quantity,
    clean_key,
    clean_reason,
    goods_label,
    load_bins,
    load_goods,
    load_goods_locked,
)
from inventory.ledger.combos import expand_combos, lock_receipt_goods
from inventory.ledger.picking import allocate_pick, issue_candidates, issue_one_balance
from inventory.ledger.values import (
    FROM_FROZEN_KINDS,
    ISSUE_KINDS,
    RECEIVE_KINDS,
    Change,
    Count,
    Document,
    Kind,
    Move,
    Pick,
    Posting,
    Receipt,
)
from inventory.ledger.writes import commit, ensure_balances, existing_balances
from inventory.locks import lock_balances, lock_bins_shared


def receive(
    *,
    kind: str,
    lines: Sequence[Receipt],
    document: Document,
    operator=None,
    reason: str = "",
    warehouse_id: int | None = None,
    idempotency_key: str | None = None,
) -> Posting:
    """Put stock into bins (inbound purchase, sales return, outbound reversal, transfer in).

    Combo lines receive their components, through combos inside combos (a combo line cannot name
    a batch); the goods rows (the combos inside included) are held ``FOR KEY SHARE`` and
    ``is_combo`` and the components re-read under that lock, so no goods becomes a combo (and no
    recipe changes) while stock is put on it (``combos.lock_receipt_goods``). Raises
    ``InvalidQuantity`` (quantity not a positive integer), ``InvalidInput`` (batch of another
    goods, bad kind), ``NotAllowed`` (inactive goods or bin, a bin outside ``warehouse_id``),
    ``AlreadyPosted``. Creates missing balance rows, share-locks the bins, locks the balances in
    pk order. Fires hooks (auto-freeze on receipt runs inside this transaction)."""
    check_kind(kind, RECEIVE_KINDS)
    check_lines(lines)
    for line in lines:
        check_quantity(line.quantity)
    goods = load_goods({line.goods_id for line in lines})
    inner: set[int] = set()
    named, lines = lines, expand_combos(lines, goods, inner=inner)
    if kind != Kind.OUTBOUND_REVERSAL:
        check_goods_active(goods, {line.goods_id for line in lines})
    bins = load_bins({line.bin_id for line in lines})
    check_bins_in_warehouse(bins, {line.bin_id for line in lines}, warehouse_id)
    check_batches(lines)
    key = clean_key(idempotency_key)
    reason = clean_reason(reason)

    with transaction.atomic():
        lines = lock_receipt_goods(
            named, lines, inner=inner, check_active=kind != Kind.OUTBOUND_REVERSAL
        )
        check_bins_active_locked({line.bin_id for line in lines}, bins)
        keys = [(line.goods_id, line.bin_id, line.batch_id) for line in lines]
        ids = ensure_balances(keys, bins)
        locked = lock_balances(ids.values())
        changes = [
            Change(
                balance_id=ids[(line.goods_id, line.bin_id, line.batch_id)],
                kind=kind,
                quantity=line.quantity,
                on_hand=line.quantity,
                from_bin_id=line.from_bin_id,
                to_bin_id=line.bin_id,
            )
            for line in lines
        ]
        return commit(changes, locked, document, operator, reason, key)


def issue(
    *,
    kind: str,
    warehouse_id: int,
    lines: Sequence[Pick],
    document: Document,
    operator=None,
    reason: str = "",
    idempotency_key: str | None = None,
    allow_expired: bool = False,
    override_reason: str = "",
    from_reserved: bool = False,
) -> Posting:
    """Take stock out of ``warehouse_id`` (outbound kinds, inbound reversal, transfer out).

    Picks first-expiry-first-out unless a batch or balance is named. Expired batches need
    ``allow_expired=True`` with an ``override_reason`` (recorded on the movements).
    ``Pick.from_frozen`` takes frozen units (only for ``FROM_FROZEN_KINDS``; the freezes app's
    in-transaction hook records it on its freeze lines); ``from_reserved=True`` ships reserved
    units (an order that reserved stock earlier). Combo lines issue their components, through
    combos inside combos.

    Raises ``InvalidQuantity``, ``InvalidInput``, ``InsufficientStock`` (with the shortfall),
    ``ExpiredBatch``, ``NotAllowed`` (frozen stock on another kind, a balance of another
    warehouse), ``AlreadyPosted``. Locks the candidate balances in pk order (or, for one named
    balance, takes the lock with a conditional UPDATE)."""
    check_kind(kind, ISSUE_KINDS)
    check_lines(lines)
    for line in lines:
        check_quantity(line.quantity)
        if line.from_frozen and kind not in FROM_FROZEN_KINDS:
            raise NotAllowed(
                _("Frozen stock can leave only as scrap/other outbound or purchase return.")
            )
        if line.from_frozen and from_reserved:
            raise InvalidInput(_("A line cannot take both frozen and reserved stock."))
    override_reason = (override_reason or "").strip()
    if allow_expired and not override_reason:
        raise InvalidInput(_("Give a reason for shipping expired batches."))
    key = clean_key(idempotency_key)
    reason = clean_reason(reason)

    if len(lines) == 1 and lines[0].balance_id is not None and not allow_expired:
        return issue_one_balance(
            kind=kind,
            warehouse_id=warehouse_id,
            pick=lines[0],
            document=document,
            operator=operator,
            reason=reason,
            key=key,
            from_reserved=from_reserved,
        )

    goods = load_goods({line.goods_id for line in lines})
    lines = expand_combos(lines, goods)
    if key:
        check_key_unused(key)
    today = timezone.localdate()

    with transaction.atomic():
        candidates = issue_candidates(warehouse_id, lines)
        locked = lock_balances(candidates.keys())
        column = "reserved" if from_reserved else None
        changes: list[Change] = []
        taken: dict[tuple[int, str], int] = defaultdict(int)
        for line in lines:
            changes += allocate_pick(
                line,
                kind=kind,
                candidates=candidates,
                locked=locked,
                taken=taken,
                column="frozen" if line.from_frozen else column,
                allow_expired=allow_expired,
                override_reason=override_reason,
                today=today,
                goods=goods,
                warehouse_id=warehouse_id,
            )
        return commit(changes, locked, document, operator, reason, key)


def transfer(
    *,
    moves: Sequence[Move],
    document: Document,
    operator=None,
    reason: str = "",
    idempotency_key: str | None = None,
) -> Posting:
    """Move available stock bin to bin inside one warehouse, in one step: per move a
    ``transfer_out`` row on the source balance and a ``transfer_in`` row on the destination,
    both showing from and to bin. Frozen and reserved units stay where they are.

    Raises ``InvalidQuantity``, ``InvalidInput`` (same bin twice, batch of another goods),
    ``NotAllowed`` (bins of different warehouses, inactive destination bin or goods, combo
    goods), ``InsufficientStock``, ``AlreadyPosted``. Locks destination bins (share) and both
    balances of every move in pk order."""
    check_lines(moves)
    for move in moves:
        check_quantity(move.quantity)
        if move.from_bin_id == move.to_bin_id:
            raise InvalidInput(_("Source and destination bin are the same."))
    goods = load_goods({move.goods_id for move in moves})
    check_goods_active(goods, goods.keys())
    check_not_combo(goods)
    bins = load_bins({m.from_bin_id for m in moves} | {m.to_bin_id for m in moves})
    for move in moves:
        if bins[move.from_bin_id].warehouse_id != bins[move.to_bin_id].warehouse_id:
            raise NotAllowed(
                _(
                    "Bins %(a)s and %(b)s are in different warehouses: use a warehouse "
                    "transfer, which records the stock in transit."
                )
                % {"a": bins[move.from_bin_id].code, "b": bins[move.to_bin_id].code}
            )
    check_batches(moves)
    key = clean_key(idempotency_key)
    reason = clean_reason(reason)
    if key:
        check_key_unused(key)

    with transaction.atomic():
        locked_goods = load_goods_locked(goods.keys())  # no goods becomes a combo meanwhile
        check_goods_active(locked_goods, locked_goods.keys())
        check_not_combo(locked_goods)
        check_bins_active_locked({m.to_bin_id for m in moves}, bins)
        sources = existing_balances([(m.goods_id, m.from_bin_id, m.batch_id) for m in moves])
        destinations = ensure_balances([(m.goods_id, m.to_bin_id, m.batch_id) for m in moves], bins)
        locked = lock_balances([*sources.values(), *destinations.values()])
        spent: dict[int, int] = defaultdict(int)
        changes: list[Change] = []
        for move in moves:
            source_id = sources.get((move.goods_id, move.from_bin_id, move.batch_id))
            available = 0
            if source_id is not None:
                available = locked[source_id].available - spent[source_id]
            if move.quantity > available:
                source = locked.get(source_id)
                raise InsufficientStock(
                    requested=move.quantity,
                    available=max(available, 0),
                    goods_label=goods_label(goods, move.goods_id, bins[move.from_bin_id].code),
                    on_hand=source.on_hand if source else 0,
                    frozen=source.frozen if source else 0,
                    reserved=source.reserved if source else 0,
                    balance_ids=[source_id] if source else [],
                )
            spent[source_id] += move.quantity
            common = {
                "quantity": move.quantity,
                "from_bin_id": move.from_bin_id,
                "to_bin_id": move.to_bin_id,
            }
            changes.append(
                Change(
                    balance_id=source_id,
                    kind=Kind.TRANSFER_OUT,
                    on_hand=-move.quantity,
                    **common,
                )
            )
            changes.append(
                Change(
                    balance_id=destinations[(move.goods_id, move.to_bin_id, move.batch_id)],
                    kind=Kind.TRANSFER_IN,
                    on_hand=move.quantity,
                    **common,
                )
            )
        return commit(changes, locked, document, operator, reason, key)


def adjust(
    *,
    warehouse_id: int,
    lines: Sequence[Count],
    document: Document,
    reason: str,
    operator=None,
    idempotency_key: str | None = None,
) -> Posting:
    """Set on-hand quantities to counted ones (stock count): a ``count_gain`` or ``count_loss``
    movement per line whose count differs from on hand at lock time. ``Posting.on_hand_before``
    gives the on-hand quantity each line was counted against (balance id -> units).

    Raises ``InvalidInput`` (no reason, the same balance twice, combo goods), ``InvalidQuantity``
    (a negative count), ``NotAllowed`` (a bin outside the warehouse, a gain into an inactive
    bin, a count below the frozen plus reserved units: release them first), ``AlreadyPosted``.
    Locks bins (share) and balances in pk order."""
    reason = clean_reason(reason)
    if not reason:
        raise InvalidInput(_("Give a reason for the stock count adjustment."))
    check_lines(lines)
    seen = set()
    for line in lines:
        check_quantity(line.counted, minimum=0)
        identity = (line.goods_id, line.bin_id, line.batch_id)
        if identity in seen:
            raise InvalidInput(_("The same goods, bin and batch is counted twice."))
        seen.add(identity)
    goods = load_goods({line.goods_id for line in lines})
    check_not_combo(goods)
    bins = load_bins({line.bin_id for line in lines})
    check_bins_in_warehouse(bins, {line.bin_id for line in lines}, warehouse_id)
    check_batches(lines)
    key = clean_key(idempotency_key)
    if key:
        check_key_unused(key)

    with transaction.atomic():
        check_not_combo(load_goods_locked(goods.keys()))  # no goods becomes a combo meanwhile
        active = lock_bins_shared({line.bin_id for line in lines})
        keys = [(line.goods_id, line.bin_id, line.batch_id) for line in lines]
        ids = existing_balances(keys)
        gains = [k for line, k in zip(lines, keys, strict=True) if line.counted > 0]
        ids.update(ensure_balances([k for k in gains if k not in ids], bins))
        locked = lock_balances(ids.values())
        changes: list[Change] = []
        before: dict[int, int] = {}
        for line, identity in zip(lines, keys, strict=True):
            balance_id = ids.get(identity)
            row = locked.get(balance_id) if balance_id is not None else None
            on_hand = row.on_hand if row else 0
            held = (row.frozen + row.reserved) if row else 0
            if balance_id is not None:
                before[balance_id] = on_hand
            delta = line.counted - on_hand
            if delta == 0:
                continue
            if line.counted < held:
                raise NotAllowed(
                    _(
                        "%(goods)s: %(held)s units are frozen or reserved, more than the "
                        "%(counted)s counted. Release them before adjusting below."
                    )
                    % {
                        "goods": goods_label(goods, line.goods_id, bins[line.bin_id].code),
                        "held": held,
                        "counted": line.counted,
                    }
                )
            if delta > 0 and not active.get(line.bin_id, False):
                raise NotAllowed(
                    _("Bin %(bin)s is inactive: stock cannot be added to it.")
                    % {"bin": bins[line.bin_id].code}
                )
            changes.append(
                Change(
                    balance_id=balance_id,
                    kind=Kind.COUNT_GAIN if delta > 0 else Kind.COUNT_LOSS,
                    quantity=abs(delta),
                    on_hand=delta,
                    to_bin_id=line.bin_id if delta > 0 else None,
                    from_bin_id=line.bin_id if delta < 0 else None,
                )
            )
        posting = commit(changes, locked, document, operator, reason, key) if changes else None
        result = posting or Posting(movements=[])
        result.on_hand_before = before
        return result
