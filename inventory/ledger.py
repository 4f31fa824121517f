"""The stock ledger: the ONLY module that writes ``StockBalance`` and ``StockMovement``.

Every quantity change in the product is one of the functions below (``tests/
test_ledger_is_only_writer.py`` fails if anything else writes those tables). Each call is one
posting:

* it validates its input first and raises a typed ``inventory.exceptions.StockError``
  (``InvalidQuantity``, ``InvalidInput``, ``InsufficientStock``, ``NotAllowed``, ``ExpiredBatch``,
  ``AlreadyPosted``) before or instead of writing anything;
* it runs in one ``transaction.atomic()`` (joining the caller's transaction when there is one, so
  a document service posts its document and its movements together);
* it takes its locks in the order stated in ``inventory.locks``: missing balance rows are created
  first (``bulk_create(ignore_conflicts=True)``, sorted), destination bins are share-locked, then
  every balance row the posting touches is locked ``FOR UPDATE`` in primary-key order in one
  statement; quantities are checked against the locked, committed values; balances are written
  with one ``UPDATE ... FROM unnest(...)`` on PostgreSQL (``bulk_update`` elsewhere) and
  movements with one ``bulk_create``;
* ``idempotency_key`` (optional, unique, at most 80 characters) is stored on the posting's first
  movement: a second posting with the same key raises ``AlreadyPosted`` and writes nothing, even
  when both run at the same time;
* afterwards ``inventory.hooks.fire`` runs the in-transaction hooks (auto-freeze on receipt)
  while the rows are still locked, and queues the after-commit hooks (stock push) with
  ``transaction.on_commit``.

A single-balance shipment (``issue`` with one ``Pick`` naming ``balance_id``) takes the fast path:
one conditional ``UPDATE ... WHERE available >= n RETURNING`` (the row lock is taken by that
statement and nothing else is waited for while holding it), then the movement insert.

Freezing everything available on many balances (a near-expiry scan, a whole-scope freeze) is
set-based: ``freeze_all_available`` locks the rows in primary-key order in one statement, then
one statement updates them and inserts their movements; no row passes through Python before the
write, and the hooks fire as for every posting.

Combo goods hold no stock of their own: receiving or issuing a combo receives or issues its
components (``quantity x component quantity`` each), and a combo's available quantity is the
minimum over its components of ``floor(available / quantity)``
(``inventory.selectors.stock.goods_available``).

If ``AlreadyPosted`` (or any error) is raised inside a caller's own ``transaction.atomic()``,
that transaction must be rolled back: let the error propagate out of the atomic block.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory import hooks
from inventory.exceptions import (
    AlreadyPosted,
    ExpiredBatch,
    InsufficientStock,
    InvalidInput,
    InvalidQuantity,
    NotAllowed,
)
from inventory.locks import lock_balances, lock_balances_bulk, lock_bins_shared
from inventory.models import Batch, ComboComponent, Goods, StockBalance, StockMovement

Kind = StockMovement.Kind

#: Kinds ``receive`` posts (on hand goes up).
RECEIVE_KINDS = frozenset(
    {Kind.INBOUND_PURCHASE, Kind.INBOUND_SALES_RETURN, Kind.OUTBOUND_REVERSAL, Kind.TRANSFER_IN}
)
#: Kinds ``issue`` posts (on hand goes down).
ISSUE_KINDS = frozenset(
    {
        Kind.OUTBOUND_PURCHASE_RETURN,
        Kind.OUTBOUND_ORDER_REISSUE,
        Kind.OUTBOUND_ORDER_SHIPMENT,
        Kind.OUTBOUND_STORE_REPLENISHMENT,
        Kind.OUTBOUND_OTHER,
        Kind.INBOUND_REVERSAL,
        Kind.TRANSFER_OUT,
    }
)
#: Outbound from frozen stock is allowed only for scrap/other and purchase return.
FROM_FROZEN_KINDS = frozenset({Kind.OUTBOUND_PURCHASE_RETURN, Kind.OUTBOUND_OTHER})

REASON_MAX = 255
KEY_MAX = 80
#: Upper bound of one line's quantity, far below the 32-bit columns' limit.
MAX_QUANTITY = 100_000_000
ON_HAND_LIMIT = 2**31 - 1


# --------------------------------------------------------------------------------------------
# Public value types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """The document a posting belongs to: a code (``inventory.models.DocumentType`` or another
    app's own, at most 24 characters), its id, and the reference shown to people."""

    type: str
    id: int | None = None
    ref: str = ""


@dataclass(frozen=True)
class Receipt:
    """``quantity`` units of ``goods_id`` into ``bin_id`` (of ``batch_id``, or of no batch).
    ``from_bin_id`` is shown in the ledger for transfers received from another bin."""

    goods_id: int
    bin_id: int
    quantity: int
    batch_id: int | None = None
    from_bin_id: int | None = None


@dataclass(frozen=True)
class Pick:
    """``quantity`` units of ``goods_id`` to take out of the posting's warehouse.

    ``balance_id`` names the exact balance row. Otherwise ``bin_id`` (optional) restricts the
    bin and ``batch_id`` (optional) the batch; with no batch named the ledger picks
    first-expiry-first-out (batches without expiry last, expired batches skipped unless the
    posting allows expired stock). ``from_frozen`` takes frozen units (scrap and purchase return
    only) instead of available ones."""

    goods_id: int
    quantity: int
    bin_id: int | None = None
    batch_id: int | None = None
    balance_id: int | None = None
    from_frozen: bool = False


@dataclass(frozen=True)
class Move:
    """``quantity`` units of ``goods_id`` (``batch_id``, or no batch) from one bin to another
    bin of the same warehouse."""

    goods_id: int
    from_bin_id: int
    to_bin_id: int
    quantity: int
    batch_id: int | None = None


@dataclass(frozen=True)
class Count:
    """``counted`` units of ``goods_id`` (``batch_id``, or no batch) found in ``bin_id``."""

    goods_id: int
    bin_id: int
    counted: int
    batch_id: int | None = None


@dataclass(frozen=True)
class Hold:
    """Freeze/reserve (or release) ``quantity`` units on the balance ``balance_id``. For
    ``freeze`` and ``reserve``, ``quantity=None`` means everything available at lock time."""

    balance_id: int
    quantity: int | None = None


@dataclass
class Posting:
    """The result of a posting: the saved movements (``id`` set) in posting order, and for
    ``adjust`` the on-hand quantity of each counted balance before the count."""

    movements: list[StockMovement]
    on_hand_before: dict[int, int] = field(default_factory=dict)

    def quantities(self) -> dict[int, int]:
        """Units moved per balance id (the amounts a freeze line or reservation records)."""
        out: dict[int, int] = defaultdict(int)
        for movement in self.movements:
            out[movement.balance_id] += movement.quantity
        return dict(out)

    @property
    def total(self) -> int:
        return sum(m.quantity for m in self.movements)


# --------------------------------------------------------------------------------------------
# Public postings
# --------------------------------------------------------------------------------------------


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

    Combo lines receive their components (a combo line cannot name a batch). Raises
    ``InvalidQuantity`` (quantity not a positive integer), ``InvalidInput`` (batch of another
    goods, bad kind), ``NotAllowed`` (inactive goods or bin, a bin outside ``warehouse_id``),
    ``AlreadyPosted``. Creates missing balance rows, share-locks the bins, locks the balances in
    pk order. Fires hooks (auto-freeze on receipt runs inside this transaction)."""
    _check_kind(kind, RECEIVE_KINDS)
    _check_lines(lines)
    for line in lines:
        _check_quantity(line.quantity)
    goods = _load_goods({line.goods_id for line in lines})
    lines = _expand_combo_receipts(lines, goods)
    goods.update(_load_goods({line.goods_id for line in lines} - goods.keys()))
    if kind != Kind.OUTBOUND_REVERSAL:
        _check_goods_active(goods, {line.goods_id for line in lines})
    bins = _load_bins({line.bin_id for line in lines})
    _check_bins_in_warehouse(bins, {line.bin_id for line in lines}, warehouse_id)
    _check_batches(lines)
    key = _clean_key(idempotency_key)
    reason = _clean_reason(reason)

    with transaction.atomic():
        _check_bins_active_locked({line.bin_id for line in lines}, bins)
        keys = [(line.goods_id, line.bin_id, line.batch_id) for line in lines]
        ids = _ensure_balances(keys, bins)
        locked = lock_balances(ids.values())
        changes = [
            _Change(
                balance_id=ids[(line.goods_id, line.bin_id, line.batch_id)],
                kind=kind,
                quantity=line.quantity,
                on_hand=line.quantity,
                from_bin_id=line.from_bin_id,
                to_bin_id=line.bin_id,
            )
            for line in lines
        ]
        return _commit(changes, locked, document, operator, reason, key)


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
    units (an order that reserved stock earlier). Combo lines issue their components.

    Raises ``InvalidQuantity``, ``InvalidInput``, ``InsufficientStock`` (with the shortfall),
    ``ExpiredBatch``, ``NotAllowed`` (frozen stock on another kind, a balance of another
    warehouse), ``AlreadyPosted``. Locks the candidate balances in pk order (or, for one named
    balance, takes the lock with a conditional UPDATE)."""
    _check_kind(kind, ISSUE_KINDS)
    _check_lines(lines)
    for line in lines:
        _check_quantity(line.quantity)
        if line.from_frozen and kind not in FROM_FROZEN_KINDS:
            raise NotAllowed(
                _("Frozen stock can leave only as scrap/other outbound or purchase return.")
            )
        if line.from_frozen and from_reserved:
            raise InvalidInput(_("A line cannot take both frozen and reserved stock."))
    override_reason = (override_reason or "").strip()
    if allow_expired and not override_reason:
        raise InvalidInput(_("Give a reason for shipping expired batches."))
    key = _clean_key(idempotency_key)
    reason = _clean_reason(reason)

    if len(lines) == 1 and lines[0].balance_id is not None and not allow_expired:
        return _issue_one_balance(
            kind=kind,
            warehouse_id=warehouse_id,
            pick=lines[0],
            document=document,
            operator=operator,
            reason=reason,
            key=key,
            from_reserved=from_reserved,
        )

    goods = _load_goods({line.goods_id for line in lines})
    lines = _expand_combo_picks(lines, goods)
    goods.update(_load_goods({line.goods_id for line in lines} - goods.keys()))
    if key:
        _check_key_unused(key)
    today = timezone.localdate()

    with transaction.atomic():
        candidates = _issue_candidates(warehouse_id, lines)
        locked = lock_balances(candidates.keys())
        column = "reserved" if from_reserved else None
        changes: list[_Change] = []
        taken: dict[tuple[int, str], int] = defaultdict(int)
        for line in lines:
            changes += _allocate_pick(
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
        return _commit(changes, locked, document, operator, reason, key)


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
    _check_lines(moves)
    for move in moves:
        _check_quantity(move.quantity)
        if move.from_bin_id == move.to_bin_id:
            raise InvalidInput(_("Source and destination bin are the same."))
    goods = _load_goods({move.goods_id for move in moves})
    _check_goods_active(goods, goods.keys())
    _check_not_combo(goods)
    bins = _load_bins({m.from_bin_id for m in moves} | {m.to_bin_id for m in moves})
    for move in moves:
        if bins[move.from_bin_id].warehouse_id != bins[move.to_bin_id].warehouse_id:
            raise NotAllowed(
                _(
                    "Bins %(a)s and %(b)s are in different warehouses: use a warehouse "
                    "transfer, which records the stock in transit."
                )
                % {"a": bins[move.from_bin_id].code, "b": bins[move.to_bin_id].code}
            )
    _check_batches(moves)
    key = _clean_key(idempotency_key)
    reason = _clean_reason(reason)
    if key:
        _check_key_unused(key)

    with transaction.atomic():
        _check_bins_active_locked({m.to_bin_id for m in moves}, bins)
        sources = _existing_balances([(m.goods_id, m.from_bin_id, m.batch_id) for m in moves])
        destinations = _ensure_balances(
            [(m.goods_id, m.to_bin_id, m.batch_id) for m in moves], bins
        )
        locked = lock_balances([*sources.values(), *destinations.values()])
        spent: dict[int, int] = defaultdict(int)
        changes: list[_Change] = []
        for move in moves:
            source_id = sources.get((move.goods_id, move.from_bin_id, move.batch_id))
            available = 0
            if source_id is not None:
                available = locked[source_id].available - spent[source_id]
            if move.quantity > available:
                raise InsufficientStock(
                    requested=move.quantity,
                    available=max(available, 0),
                    goods_label=_goods_label(goods, move.goods_id, bins[move.from_bin_id].code),
                )
            spent[source_id] += move.quantity
            common = {
                "quantity": move.quantity,
                "from_bin_id": move.from_bin_id,
                "to_bin_id": move.to_bin_id,
            }
            changes.append(
                _Change(
                    balance_id=source_id,
                    kind=Kind.TRANSFER_OUT,
                    on_hand=-move.quantity,
                    **common,
                )
            )
            changes.append(
                _Change(
                    balance_id=destinations[(move.goods_id, move.to_bin_id, move.batch_id)],
                    kind=Kind.TRANSFER_IN,
                    on_hand=move.quantity,
                    **common,
                )
            )
        return _commit(changes, locked, document, operator, reason, key)


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
    reason = _clean_reason(reason)
    if not reason:
        raise InvalidInput(_("Give a reason for the stock count adjustment."))
    _check_lines(lines)
    seen = set()
    for line in lines:
        if isinstance(line.counted, bool) or not isinstance(line.counted, int) or line.counted < 0:
            raise InvalidQuantity(_("A counted quantity must be a whole number, 0 or more."))
        if line.counted > MAX_QUANTITY:
            raise InvalidQuantity(
                _("A quantity may not exceed %(max)s units.") % {"max": f"{MAX_QUANTITY:,}"}
            )
        identity = (line.goods_id, line.bin_id, line.batch_id)
        if identity in seen:
            raise InvalidInput(_("The same goods, bin and batch is counted twice."))
        seen.add(identity)
    goods = _load_goods({line.goods_id for line in lines})
    _check_not_combo(goods)
    bins = _load_bins({line.bin_id for line in lines})
    _check_bins_in_warehouse(bins, {line.bin_id for line in lines}, warehouse_id)
    _check_batches(lines)
    key = _clean_key(idempotency_key)
    if key:
        _check_key_unused(key)

    with transaction.atomic():
        active = lock_bins_shared({line.bin_id for line in lines})
        keys = [(line.goods_id, line.bin_id, line.batch_id) for line in lines]
        ids = _existing_balances(keys)
        gains = [k for line, k in zip(lines, keys, strict=True) if line.counted > 0]
        ids.update(_ensure_balances([k for k in gains if k not in ids], bins))
        locked = lock_balances(ids.values())
        changes: list[_Change] = []
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
                        "goods": _goods_label(goods, line.goods_id, bins[line.bin_id].code),
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
                _Change(
                    balance_id=balance_id,
                    kind=Kind.COUNT_GAIN if delta > 0 else Kind.COUNT_LOSS,
                    quantity=abs(delta),
                    on_hand=delta,
                    to_bin_id=line.bin_id if delta > 0 else None,
                    from_bin_id=line.bin_id if delta < 0 else None,
                )
            )
        posting = _commit(changes, locked, document, operator, reason, key) if changes else None
        result = posting or Posting(movements=[])
        result.on_hand_before = before
        return result


def freeze(
    *,
    holds: Sequence[Hold],
    document: Document,
    operator=None,
    reason: str = "",
    idempotency_key: str | None = None,
) -> Posting:
    """Freeze units on balances (available -> frozen), one ``freeze`` movement per balance.
    ``Hold.quantity=None`` freezes everything available at lock time (balances with nothing
    available are skipped). Raises ``InvalidQuantity``, ``InsufficientStock`` (more than
    available, with the shortfall; or nothing available at all), ``AlreadyPosted``. Locks the
    balances in pk order. ``Posting.quantities()`` is what each balance's freeze line holds."""
    return _hold(holds, "frozen", +1, Kind.FREEZE, document, operator, reason, idempotency_key)


def freeze_all_available(
    *,
    balance_ids: Iterable[int],
    document: Document,
    operator=None,
    reason: str = "",
    idempotency_key: str | None = None,
) -> Posting:
    """Freeze everything available on ``balance_ids`` (available -> frozen), one ``freeze``
    movement per balance with units available at lock time (the others are skipped): what
    ``freeze`` does with ``Hold(pk)`` for each id, set-based for large freezes. On PostgreSQL
    the balances are locked ``FOR UPDATE`` in primary-key order in one statement
    (``locks.lock_balances_bulk``), then one statement updates those with units available and
    inserts their movements from the updated rows; no row passes through Python before the
    write (the returned movements are built from the inserted rows, for the hooks and the
    caller). The CHECK constraints hold by construction (frozen becomes on hand minus
    reserved). Elsewhere it runs ``freeze``.

    Raises ``InvalidInput`` (no balance, an unknown balance), ``InsufficientStock`` (with
    ``requested=0``: nothing available on any of them), ``AlreadyPosted``. Fires the hooks as
    every posting does (in-transaction ones while the rows are locked, after-commit ones
    queued). ``Posting.quantities()`` is what each balance's freeze line holds."""
    ids = sorted(set(balance_ids))
    _check_lines(ids)
    key = _clean_key(idempotency_key)
    reason = _clean_reason(reason)
    if connection.vendor != "postgresql":
        return _hold(
            [Hold(pk) for pk in ids], "frozen", +1, Kind.FREEZE, document, operator, reason, key
        )
    if key:
        _check_key_unused(key)
    operator_id = getattr(operator, "pk", operator)
    now = timezone.now()
    with transaction.atomic():
        if lock_balances_bulk(ids) != len(ids):
            raise InvalidInput(_("Unknown balance."))
        rows = _freeze_locked_sql(ids, document, operator_id, reason, key, now)
        if not rows:
            raise InsufficientStock(
                _("Nothing is available to hold on the chosen stock."), requested=0
            )
        alias = connection.alias
        movements = [StockMovement.from_db(alias, None, row) for row in rows]
        _fire(movements, document, operator_id)
        return Posting(movements=movements)


def unfreeze(
    *,
    holds: Sequence[Hold],
    document: Document,
    operator=None,
    reason: str = "",
    idempotency_key: str | None = None,
) -> Posting:
    """Release frozen units (frozen -> available). Every ``Hold`` needs a quantity. Raises
    ``InvalidQuantity`` (more than frozen on the balance), ``AlreadyPosted``. Locks the balances
    in pk order."""
    return _hold(holds, "frozen", -1, Kind.UNFREEZE, document, operator, reason, idempotency_key)


def reserve(
    *,
    holds: Sequence[Hold],
    document: Document,
    operator=None,
    reason: str = "",
    idempotency_key: str | None = None,
) -> Posting:
    """Reserve units on balances (available -> reserved) for an order or replenishment; as
    ``freeze``, with ``reserve`` movements."""
    return _hold(holds, "reserved", +1, Kind.RESERVE, document, operator, reason, idempotency_key)


def unreserve(
    *,
    holds: Sequence[Hold],
    document: Document,
    operator=None,
    reason: str = "",
    idempotency_key: str | None = None,
) -> Posting:
    """Give reserved units back (reserved -> available); as ``unfreeze``."""
    return _hold(holds, "reserved", -1, Kind.UNRESERVE, document, operator, reason, idempotency_key)


def freeze_fefo(
    *,
    balance_ids: Iterable[int],
    quantity: int | None,
    document: Document,
    operator=None,
    reason: str = "",
    idempotency_key: str | None = None,
) -> Posting:
    """Freeze ``quantity`` units taken first-expiry-first-out across ``balance_ids`` (batches
    without expiry last, then by balance id), or everything available in them when ``quantity``
    is None. Raises ``InsufficientStock`` with the shortfall when they hold less, and when
    nothing at all is available. Locks the balances in pk order."""
    return _hold_fefo(
        balance_ids, quantity, "frozen", Kind.FREEZE, document, operator, reason, idempotency_key
    )


def reserve_fefo(
    *,
    balance_ids: Iterable[int],
    quantity: int | None,
    document: Document,
    operator=None,
    reason: str = "",
    idempotency_key: str | None = None,
) -> Posting:
    """Reserve ``quantity`` units first-expiry-first-out across ``balance_ids``; as
    ``freeze_fefo``."""
    return _hold_fefo(
        balance_ids,
        quantity,
        "reserved",
        Kind.RESERVE,
        document,
        operator,
        reason,
        idempotency_key,
    )


# --------------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------------


@dataclass
class _Change:
    balance_id: int
    kind: str
    quantity: int
    on_hand: int = 0
    frozen: int = 0
    reserved: int = 0
    from_bin_id: int | None = None
    to_bin_id: int | None = None
    note: str = ""


@dataclass(frozen=True)
class _GoodsInfo:
    sku: str
    is_active: bool
    is_combo: bool


@dataclass(frozen=True)
class _BinInfo:
    code: str
    warehouse_id: int
    is_active: bool


def _check_kind(kind: str, allowed: frozenset) -> None:
    if kind not in allowed:
        raise InvalidInput(_("This kind of movement cannot be posted here."))


def _check_lines(lines: Sequence) -> None:
    if not lines:
        raise InvalidInput(_("Nothing to post: add at least one line."))


def _check_quantity(quantity: object) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidQuantity(_("Quantities must be whole numbers greater than zero."))
    if quantity > MAX_QUANTITY:
        raise InvalidQuantity(
            _("A quantity may not exceed %(max)s units.") % {"max": f"{MAX_QUANTITY:,}"}
        )


def _clean_reason(reason: str) -> str:
    return (reason or "").strip()[:REASON_MAX]


def _clean_key(key: str | None) -> str | None:
    if key is None or key == "":
        return None
    if len(key) > KEY_MAX:
        raise InvalidInput(_("The operation key is too long."))
    return key


def _check_key_unused(key: str) -> None:
    """Early, friendly refusal of a replay; the unique index still decides under a race."""
    if StockMovement.objects.filter(idempotency_key=key).exists():
        raise AlreadyPosted(_("This operation was posted already; nothing was changed."))


def _load_goods(ids: Iterable[int]) -> dict[int, _GoodsInfo]:
    wanted = set(ids)
    if not wanted:
        return {}
    found = {
        pk: _GoodsInfo(sku, is_active, is_combo)
        for pk, sku, is_active, is_combo in Goods.objects.filter(pk__in=list(wanted)).values_list(
            "pk", "sku", "is_active", "is_combo"
        )
    }
    if len(found) != len(wanted):
        raise InvalidInput(_("Unknown goods."))
    return found


def _check_goods_active(goods: dict[int, _GoodsInfo], ids: Iterable[int]) -> None:
    for goods_id in ids:
        if not goods[goods_id].is_active:
            raise NotAllowed(
                _("Goods %(sku)s is inactive: it cannot be received, moved or held.")
                % {"sku": goods[goods_id].sku}
            )


def _check_not_combo(goods: dict[int, _GoodsInfo]) -> None:
    for info in goods.values():
        if info.is_combo:
            raise NotAllowed(
                _(
                    "%(sku)s is a combo goods: it holds no stock of its own; "
                    "move or count its components."
                )
                % {"sku": info.sku}
            )


def _load_bins(ids: Iterable[int]) -> dict[int, _BinInfo]:
    from warehouses.models import Bin

    wanted = set(ids)
    found = {
        pk: _BinInfo(code, warehouse_id, is_active)
        for pk, code, warehouse_id, is_active in Bin.objects.filter(
            pk__in=list(wanted)
        ).values_list("pk", "code", "warehouse_id", "is_active")
    }
    if len(found) != len(wanted):
        raise InvalidInput(_("Unknown bin."))
    return found


def _check_bins_in_warehouse(
    bins: dict[int, _BinInfo], ids: Iterable[int], warehouse_id: int | None
) -> None:
    if warehouse_id is None:
        return
    for bin_id in ids:
        if bins[bin_id].warehouse_id != warehouse_id:
            raise NotAllowed(
                _("Bin %(bin)s belongs to another warehouse.") % {"bin": bins[bin_id].code}
            )


def _check_bins_active_locked(ids: Iterable[int], bins: dict[int, _BinInfo]) -> None:
    for bin_id, is_active in sorted(lock_bins_shared(ids).items()):
        if not is_active:
            raise NotAllowed(
                _("Bin %(bin)s is inactive: stock cannot be put into it.")
                % {"bin": bins[bin_id].code}
            )


def _check_batches(lines: Sequence) -> None:
    wanted = {line.batch_id for line in lines if line.batch_id is not None}
    if not wanted:
        return
    owners = dict(Batch.objects.filter(pk__in=list(wanted)).values_list("pk", "goods_id"))
    for line in lines:
        if line.batch_id is None:
            continue
        if line.batch_id not in owners:
            raise InvalidInput(_("Unknown batch."))
        if owners[line.batch_id] != line.goods_id:
            raise InvalidInput(_("This batch belongs to another goods."))


def _goods_label(goods: dict[int, _GoodsInfo], goods_id: int, where: str = "") -> str:
    sku = goods[goods_id].sku if goods_id in goods else str(goods_id)
    return f"{sku} ({where})" if where else sku


def _components(combo_ids: Iterable[int]) -> dict[int, list[tuple[int, int]]]:
    out: dict[int, list[tuple[int, int]]] = defaultdict(list)
    rows = ComboComponent.objects.filter(combo_id__in=list(combo_ids)).order_by("component_id")
    for combo_id, component_id, quantity in rows.values_list(
        "combo_id", "component_id", "quantity"
    ):
        out[combo_id].append((component_id, quantity))
    return out


def _expand_combo_receipts(lines: Sequence[Receipt], goods: dict[int, _GoodsInfo]) -> list[Receipt]:
    combos = {line.goods_id for line in lines if goods[line.goods_id].is_combo}
    if not combos:
        return list(lines)
    parts = _components(combos)
    out: list[Receipt] = []
    for line in lines:
        if line.goods_id not in combos:
            out.append(line)
            continue
        if line.batch_id is not None:
            raise InvalidInput(_("A combo goods line cannot name a batch."))
        if not parts.get(line.goods_id):
            raise NotAllowed(
                _("Combo %(sku)s has no components.") % {"sku": goods[line.goods_id].sku}
            )
        for component_id, per_combo in parts[line.goods_id]:
            out.append(
                Receipt(
                    goods_id=component_id,
                    bin_id=line.bin_id,
                    quantity=line.quantity * per_combo,
                    from_bin_id=line.from_bin_id,
                )
            )
    return out


def _expand_combo_picks(lines: Sequence[Pick], goods: dict[int, _GoodsInfo]) -> list[Pick]:
    combos = {line.goods_id for line in lines if goods[line.goods_id].is_combo}
    if not combos:
        return list(lines)
    parts = _components(combos)
    out: list[Pick] = []
    for line in lines:
        if line.goods_id not in combos:
            out.append(line)
            continue
        if line.batch_id is not None or line.balance_id is not None:
            raise InvalidInput(_("A combo goods line cannot name a batch."))
        if not parts.get(line.goods_id):
            raise NotAllowed(
                _("Combo %(sku)s has no components.") % {"sku": goods[line.goods_id].sku}
            )
        for component_id, per_combo in parts[line.goods_id]:
            out.append(
                Pick(
                    goods_id=component_id,
                    quantity=line.quantity * per_combo,
                    bin_id=line.bin_id,
                    from_frozen=line.from_frozen,
                )
            )
    return out


def _existing_balances(
    keys: Sequence[tuple[int, int, int | None]],
) -> dict[tuple[int, int, int | None], int]:
    if not keys:
        return {}
    wanted = set(keys)
    rows = StockBalance.objects.filter(
        goods_id__in=sorted({k[0] for k in wanted}), bin_id__in=sorted({k[1] for k in wanted})
    ).values_list("pk", "goods_id", "bin_id", "batch_id")
    return {(g, b, x): pk for pk, g, b, x in rows if (g, b, x) in wanted}


def _ensure_balances(
    keys: Sequence[tuple[int, int, int | None]], bins: dict[int, _BinInfo]
) -> dict[tuple[int, int, int | None], int]:
    """Ids of the balance rows for ``keys``, creating the missing ones. Rows are inserted
    sorted by (goods, bin, batch) with ON CONFLICT DO NOTHING, so two postings creating the same
    rows wait for each other in one order and never deadlock."""
    found = _existing_balances(keys)
    missing = sorted(set(keys) - found.keys(), key=lambda k: (k[0], k[1], k[2] or 0))
    if missing:
        StockBalance.objects.bulk_create(
            [
                StockBalance(goods_id=g, bin_id=b, batch_id=x, warehouse_id=bins[b].warehouse_id)
                for g, b, x in missing
            ],
            ignore_conflicts=True,
            batch_size=2000,
        )
        found.update(_existing_balances(missing))
    return found


def _commit(
    changes: list[_Change],
    locked: dict[int, StockBalance],
    document: Document,
    operator,
    reason: str,
    key: str | None,
) -> Posting:
    """Apply ``changes`` to the locked rows, check the laws, write balances and movements, fire
    the hooks. Must run inside the posting's atomic block, with every balance locked."""
    touched: dict[int, StockBalance] = {}
    for change in changes:
        row = locked[change.balance_id]
        row.on_hand += change.on_hand
        row.frozen += change.frozen
        row.reserved += change.reserved
        touched[row.pk] = row
    for row in touched.values():
        if row.on_hand > ON_HAND_LIMIT:
            raise InvalidQuantity(_("That many units do not fit in one balance row."))
        if not (row.frozen >= 0 and row.reserved >= 0 and row.frozen + row.reserved <= row.on_hand):
            raise NotAllowed(
                _("This posting would leave frozen or reserved units above on hand stock.")
            )
    _write_balances(list(touched.values()))
    now = timezone.now()
    operator_id = getattr(operator, "pk", operator)
    movements = []
    for change in changes:
        row = locked[change.balance_id]
        movements.append(
            StockMovement(
                kind=change.kind,
                balance_id=row.pk,
                goods_id=row.goods_id,
                warehouse_id=row.warehouse_id,
                bin_id=row.bin_id,
                batch_id=row.batch_id,
                from_bin_id=change.from_bin_id,
                to_bin_id=change.to_bin_id,
                quantity=change.quantity,
                on_hand_delta=change.on_hand,
                frozen_delta=change.frozen,
                reserved_delta=change.reserved,
                document_type=document.type,
                document_id=document.id,
                document_ref=document.ref[:40],
                operator_id=operator_id,
                reason=_join_reason(reason, change.note),
                idempotency_key=key if not movements else None,
                created_at=now,
            )
        )
    _insert_movements(movements)
    _fire(movements, document, operator_id)
    return Posting(movements=movements)


def _write_balances(rows: list[StockBalance]) -> None:
    """Write the quantities of locked rows. On PostgreSQL one ``UPDATE ... FROM unnest(...)``
    whatever the number of rows (Django's ``bulk_update`` builds a CASE per row, quadratic in
    the posting's size); elsewhere ``bulk_update``."""
    if connection.vendor != "postgresql":
        StockBalance.objects.bulk_update(rows, ["on_hand", "frozen", "reserved"], batch_size=1000)
        return
    rows = sorted(rows, key=lambda row: row.pk)
    table = connection.ops.quote_name(StockBalance._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET on_hand = v.on_hand, frozen = v.frozen, "
            f"reserved = v.reserved "
            f"FROM unnest(%s::bigint[], %s::integer[], %s::integer[], %s::integer[]) "
            f"AS v(id, on_hand, frozen, reserved) WHERE {table}.id = v.id",
            [
                [row.pk for row in rows],
                [row.on_hand for row in rows],
                [row.frozen for row in rows],
                [row.reserved for row in rows],
            ],
        )


def _join_reason(reason: str, note: str) -> str:
    if not note:
        return reason
    return f"{reason} · {note}"[:REASON_MAX] if reason else note[:REASON_MAX]


@contextmanager
def _replay_refused() -> Iterator[None]:
    """Turn the idempotency key's unique violation into ``AlreadyPosted`` (a replay that lost
    the race past ``_check_key_unused``); any other integrity error propagates."""
    try:
        yield
    except IntegrityError as exc:
        if "idempotency_key" in str(exc):
            raise AlreadyPosted(
                _("This operation was posted already; nothing was changed.")
            ) from exc
        raise


def _insert_movements(movements: list[StockMovement]) -> None:
    with _replay_refused():
        StockMovement.objects.bulk_create(movements, batch_size=2000)


def _fire(movements: list[StockMovement], document: Document, operator_id: int | None) -> None:
    if not hooks.in_transaction_hooks and not hooks.after_commit_hooks:
        return
    hooks.fire(
        hooks.PostingEvent(
            movements=tuple(movements),
            document_type=document.type,
            document_id=document.id,
            document_ref=document.ref,
            operator_id=operator_id,
            kinds=frozenset(m.kind for m in movements),
        )
    )


# --- issue internals ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    balance_id: int
    goods_id: int
    bin_id: int
    batch_id: int | None
    expiry: datetime.date | None


def _issue_candidates(warehouse_id: int, lines: Sequence[Pick]) -> dict[int, _Candidate]:
    """Balance rows of the warehouse that could serve the picks (read before locking; rows
    created afterwards are simply not considered, as if this posting had come first)."""
    named = {line.balance_id for line in lines if line.balance_id is not None}
    goods_ids = {line.goods_id for line in lines if line.balance_id is None}
    condition = Q(pk__in=sorted(named)) if named else Q()
    if goods_ids:
        condition |= Q(goods_id__in=sorted(goods_ids), warehouse_id=warehouse_id, on_hand__gt=0)
    elif not named:
        return {}
    rows = StockBalance.objects.filter(condition).values_list(
        "pk", "goods_id", "bin_id", "batch_id", "batch__expiry_date", "warehouse_id"
    )
    out = {}
    for pk, goods_id, bin_id, batch_id, expiry, row_warehouse in rows:
        if row_warehouse != warehouse_id:
            raise NotAllowed(_("This stock belongs to another warehouse."))
        out[pk] = _Candidate(pk, goods_id, bin_id, batch_id, expiry)
    missing = named - out.keys()
    if missing:
        raise InvalidInput(_("Unknown balance."))
    return out


def _allocate_pick(
    line: Pick,
    *,
    kind: str,
    candidates: dict[int, _Candidate],
    locked: dict[int, StockBalance],
    taken: dict[tuple[int, str], int],
    column: str | None,
    allow_expired: bool,
    override_reason: str,
    today: datetime.date,
    goods: dict[int, _GoodsInfo],
    warehouse_id: int,
) -> list[_Change]:
    """Changes serving one pick from the locked rows, first-expiry-first-out; ``taken`` carries
    what earlier lines of the same posting already took per (balance, column)."""
    if line.balance_id is not None:
        rows = [candidates[line.balance_id]]
        if rows[0].goods_id != line.goods_id:
            raise InvalidInput(_("This balance holds another goods."))
    else:
        rows = [
            c
            for c in candidates.values()
            if c.goods_id == line.goods_id
            and (line.bin_id is None or c.bin_id == line.bin_id)
            and (line.batch_id is None or c.batch_id == line.batch_id)
        ]
        rows.sort(key=lambda c: (c.expiry is None, c.expiry or today, c.balance_id))
    named_batch = line.balance_id is not None or line.batch_id is not None
    source = column or "available"
    remaining = line.quantity
    expired_units = 0
    changes: list[_Change] = []
    for candidate in rows:
        if remaining == 0:
            break
        row = locked.get(candidate.balance_id)
        if row is None:
            continue
        if source == "available":
            free = row.available - taken[(row.pk, "available")]
        else:
            free = getattr(row, source) - taken[(row.pk, source)]
        if free <= 0:
            continue
        expired = candidate.expiry is not None and candidate.expiry < today
        if expired and not allow_expired:
            if named_batch:
                raise ExpiredBatch(
                    _(
                        "Batch of %(goods)s expired on %(date)s: shipping it needs the "
                        "expired-stock override and a reason."
                    )
                    % {"goods": goods[line.goods_id].sku, "date": candidate.expiry}
                )
            expired_units += free
            continue
        take = min(free, remaining)
        remaining -= take
        taken[(row.pk, source)] += take
        changes.append(
            _Change(
                balance_id=row.pk,
                kind=kind,
                quantity=take,
                on_hand=-take,
                frozen=-take if source == "frozen" else 0,
                reserved=-take if source == "reserved" else 0,
                from_bin_id=row.bin_id,
                note=(
                    _("expired batch shipped: %(reason)s") % {"reason": override_reason}
                    if expired
                    else ""
                ),
            )
        )
    if remaining:
        available = line.quantity - remaining
        label = goods[line.goods_id].sku if line.goods_id in goods else str(line.goods_id)
        if source == "frozen":
            message = _(
                "Only %(available)s frozen units of %(goods)s can be taken, %(requested)s "
                "requested."
            ) % {"available": available, "goods": label, "requested": line.quantity}
        elif source == "reserved":
            message = _(
                "Only %(available)s reserved units of %(goods)s can be shipped, %(requested)s "
                "requested."
            ) % {"available": available, "goods": label, "requested": line.quantity}
        else:
            message = ""
        error = InsufficientStock(
            message, requested=line.quantity, available=available, goods_label=label
        )
        if expired_units and not message:
            error.message += " " + _(
                "%(n)s more units are in expired batches (ship them only with the override)."
            ) % {"n": expired_units}
        raise error
    return changes


#: Columns the fast path writes, in order; a test checks they are every column of the table.
FAST_PATH_COLUMNS = (
    "kind",
    "balance_id",
    "goods_id",
    "warehouse_id",
    "bin_id",
    "batch_id",
    "from_bin_id",
    "to_bin_id",
    "quantity",
    "on_hand_delta",
    "frozen_delta",
    "reserved_delta",
    "document_type",
    "document_id",
    "document_ref",
    "operator_id",
    "reason",
    "idempotency_key",
    "created_at",
)


def _issue_one_balance(
    *,
    kind: str,
    warehouse_id: int,
    pick: Pick,
    document: Document,
    operator,
    reason: str,
    key: str | None,
    from_reserved: bool,
) -> Posting:
    """Fast path for one named balance: a conditional UPDATE that takes the row lock only when
    the units are there (and refuses expired batches and other warehouses in the same
    statement), then the movement insert. On PostgreSQL both are one statement (a data-modifying
    CTE), so the row lock is held for that statement and the commit only."""
    balance_table = connection.ops.quote_name(StockBalance._meta.db_table)
    movement_table = connection.ops.quote_name(StockMovement._meta.db_table)
    batch_table = connection.ops.quote_name(Batch._meta.db_table)
    quantity = pick.quantity
    frozen_delta = -quantity if pick.from_frozen else 0
    reserved_delta = -quantity if from_reserved else 0
    if pick.from_frozen:
        extra_set, condition = ", frozen = frozen - %s", "frozen >= %s"
    elif from_reserved:
        extra_set, condition = ", reserved = reserved - %s", "reserved >= %s"
    else:
        extra_set, condition = "", "on_hand - frozen - reserved >= %s"
    update = (
        f"UPDATE {balance_table} SET on_hand = on_hand - %s{extra_set} "
        f"WHERE id = %s AND goods_id = %s AND warehouse_id = %s AND {condition} "
        f"AND (batch_id IS NULL OR NOT EXISTS (SELECT 1 FROM {batch_table} bt "
        f"WHERE bt.id = batch_id AND bt.expiry_date < %s)) "
        f"RETURNING bin_id, batch_id"
    )
    update_params: list[object] = [quantity, *([quantity] if extra_set else [])]
    update_params += [pick.balance_id, pick.goods_id, warehouse_id, quantity]
    update_params.append(timezone.localdate())
    operator_id = getattr(operator, "pk", operator)
    now = timezone.now()
    ref = document.ref[:40]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            sql = (
                f"WITH moved AS ({update}) "
                f"INSERT INTO {movement_table} ({', '.join(FAST_PATH_COLUMNS)}) "
                "SELECT %s, %s, %s, %s, moved.bin_id, moved.batch_id, moved.bin_id, NULL, "
                "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s FROM moved "
                "RETURNING id, bin_id, batch_id"
            )
            params = [
                *update_params,
                kind,
                pick.balance_id,
                pick.goods_id,
                warehouse_id,
                quantity,
                -quantity,
                frozen_delta,
                reserved_delta,
                document.type,
                document.id,
                ref,
                operator_id,
                reason,
                key,
                now,
            ]
            with _replay_refused(), connection.cursor() as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
            if row is None:
                _explain_refused_pick(pick, warehouse_id, from_reserved)
            movement_id, bin_id, batch_id = row
        else:
            with connection.cursor() as cursor:
                cursor.execute(update, update_params)
                row = cursor.fetchone()
            if row is None:
                _explain_refused_pick(pick, warehouse_id, from_reserved)
            movement_id, (bin_id, batch_id) = None, row
        movement = StockMovement(
            id=movement_id,
            kind=kind,
            balance_id=pick.balance_id,
            goods_id=pick.goods_id,
            warehouse_id=warehouse_id,
            bin_id=bin_id,
            batch_id=batch_id,
            from_bin_id=bin_id,
            quantity=quantity,
            on_hand_delta=-quantity,
            frozen_delta=frozen_delta,
            reserved_delta=reserved_delta,
            document_type=document.type,
            document_id=document.id,
            document_ref=ref,
            operator_id=operator_id,
            reason=reason,
            idempotency_key=key,
            created_at=now,
        )
        if movement_id is None:
            _insert_movements([movement])
        else:
            movement._state.adding = False
        _fire([movement], document, operator_id)
        return Posting(movements=[movement])


def _explain_refused_pick(pick: Pick, warehouse_id: int, from_reserved: bool) -> None:
    """Raise the error that says why the fast path's conditional UPDATE matched no row."""
    row = (
        StockBalance.objects.filter(pk=pick.balance_id)
        .values("goods_id", "goods__sku", "warehouse_id", "frozen", "reserved", "on_hand")
        .annotate(expiry=F("batch__expiry_date"))
        .first()
    )
    if row is None:
        raise InvalidInput(_("Unknown balance."))
    if row["goods_id"] != pick.goods_id:
        raise InvalidInput(_("This balance holds another goods."))
    if row["warehouse_id"] != warehouse_id:
        raise NotAllowed(_("This stock belongs to another warehouse."))
    if row["expiry"] is not None and row["expiry"] < timezone.localdate():
        raise ExpiredBatch(
            _(
                "Batch of %(goods)s expired on %(date)s: shipping it needs the expired-stock "
                "override and a reason."
            )
            % {"goods": row["goods__sku"], "date": row["expiry"]}
        )
    if pick.from_frozen:
        available = row["frozen"]
    elif from_reserved:
        available = row["reserved"]
    else:
        available = row["on_hand"] - row["frozen"] - row["reserved"]
    raise InsufficientStock(
        requested=pick.quantity, available=max(available, 0), goods_label=row["goods__sku"]
    )


# --- holds internals ------------------------------------------------------------------------

#: Every column of the movement table, in the model's field order (``from_db`` takes them so).
MOVEMENT_COLUMNS = tuple(f.column for f in StockMovement._meta.concrete_fields)


def _freeze_locked_sql(
    ids: list[int],
    document: Document,
    operator_id: int | None,
    reason: str,
    key: str | None,
    now: datetime.datetime,
) -> list[tuple]:
    """Freeze everything available on the locked balances ``ids`` in one statement (PostgreSQL):
    the available units are read under the locks, the balances updated and one ``freeze``
    movement inserted per updated balance, ascending; the idempotency key goes on the first.
    Returns the inserted movement rows (``MOVEMENT_COLUMNS``), ascending by id."""
    balance = connection.ops.quote_name(StockBalance._meta.db_table)
    movement = connection.ops.quote_name(StockMovement._meta.db_table)
    sql = (
        f"WITH src AS (SELECT id, on_hand - frozen - reserved AS qty FROM {balance} "
        f"WHERE id = ANY(%s::bigint[]) AND on_hand - frozen - reserved > 0), "
        f"upd AS (UPDATE {balance} SET frozen = {balance}.frozen + src.qty FROM src "
        f"WHERE {balance}.id = src.id RETURNING {balance}.id, {balance}.goods_id, "
        f"{balance}.warehouse_id, {balance}.bin_id, {balance}.batch_id, src.qty) "
        f"INSERT INTO {movement} ({', '.join(FAST_PATH_COLUMNS)}) "
        f"SELECT %s, upd.id, upd.goods_id, upd.warehouse_id, upd.bin_id, upd.batch_id, NULL, "
        f"NULL, upd.qty, 0, upd.qty, 0, %s, %s, %s, %s, %s, "
        f"CASE WHEN row_number() OVER (ORDER BY upd.id) = 1 THEN %s::varchar END, %s "
        f"FROM upd ORDER BY upd.id "
        f"RETURNING {', '.join(MOVEMENT_COLUMNS)}"
    )
    params = [
        ids,
        Kind.FREEZE,
        document.type,
        document.id,
        document.ref[:40],
        operator_id,
        reason,
        key,
        now,
    ]
    with _replay_refused(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    rows.sort(key=lambda row: row[0])
    return rows


def _hold(
    holds: Sequence[Hold],
    column: str,
    sign: int,
    kind: str,
    document: Document,
    operator,
    reason: str,
    idempotency_key: str | None,
) -> Posting:
    _check_lines(holds)
    for hold in holds:
        if hold.quantity is None and sign < 0:
            raise InvalidQuantity(_("Say how many units to release."))
        if hold.quantity is not None:
            _check_quantity(hold.quantity)
    key = _clean_key(idempotency_key)
    reason = _clean_reason(reason)
    if key:
        _check_key_unused(key)
    with transaction.atomic():
        locked = lock_balances(h.balance_id for h in holds)
        if len(locked) != len({h.balance_id for h in holds}):
            raise InvalidInput(_("Unknown balance."))
        spent: dict[int, int] = defaultdict(int)
        changes: list[_Change] = []
        for hold in holds:
            row = locked[hold.balance_id]
            if sign > 0:
                free = row.available - spent[row.pk]
                quantity = free if hold.quantity is None else hold.quantity
                if hold.quantity is None and free <= 0:
                    continue
                if quantity > free:
                    raise InsufficientStock(
                        requested=quantity,
                        available=max(free, 0),
                        goods_label=_sku_of(row.goods_id),
                    )
            else:
                free = getattr(row, column) - spent[row.pk]
                quantity = hold.quantity
                if quantity > free:
                    raise InvalidQuantity(
                        _(
                            "Cannot release %(requested)s units of %(goods)s: only "
                            "%(held)s are %(what)s on that balance."
                        )
                        % {
                            "requested": quantity,
                            "goods": _sku_of(row.goods_id),
                            "held": max(free, 0),
                            "what": _("frozen") if column == "frozen" else _("reserved"),
                        }
                    )
            spent[row.pk] += quantity
            changes.append(
                _Change(
                    balance_id=row.pk,
                    kind=kind,
                    quantity=quantity,
                    **{column: sign * quantity},
                )
            )
        if not changes:
            raise InsufficientStock(
                _("Nothing is available to hold on the chosen stock."), requested=0
            )
        return _commit(changes, locked, document, operator, reason, key)


def _hold_fefo(
    balance_ids: Iterable[int],
    quantity: int | None,
    column: str,
    kind: str,
    document: Document,
    operator,
    reason: str,
    idempotency_key: str | None,
) -> Posting:
    ids = sorted(set(balance_ids))
    if not ids:
        raise InvalidInput(_("No stock matches."))
    if quantity is not None:
        _check_quantity(quantity)
    key = _clean_key(idempotency_key)
    reason = _clean_reason(reason)
    if key:
        _check_key_unused(key)
    expiry = dict(StockBalance.objects.filter(pk__in=ids).values_list("pk", "batch__expiry_date"))
    if len(expiry) != len(ids):
        raise InvalidInput(_("Unknown balance."))
    far = datetime.date.max
    order = sorted(ids, key=lambda pk: (expiry[pk] is None, expiry[pk] or far, pk))
    with transaction.atomic():
        locked = lock_balances(ids)
        total_free = sum(max(locked[pk].available, 0) for pk in order)
        if quantity is not None and quantity > total_free:
            goods_ids = {locked[pk].goods_id for pk in order}
            label = _sku_of(next(iter(goods_ids))) if len(goods_ids) == 1 else ""
            raise InsufficientStock(requested=quantity, available=total_free, goods_label=label)
        if total_free <= 0:
            raise InsufficientStock(
                _("Nothing is available to hold on the chosen stock."), requested=0
            )
        remaining = total_free if quantity is None else quantity
        changes: list[_Change] = []
        for pk in order:
            if remaining == 0:
                break
            take = min(max(locked[pk].available, 0), remaining)
            if take <= 0:
                continue
            remaining -= take
            changes.append(_Change(balance_id=pk, kind=kind, quantity=take, **{column: take}))
        return _commit(changes, locked, document, operator, reason, key)


def _sku_of(goods_id: int) -> str:
    return Goods.objects.filter(pk=goods_id).values_list("sku", flat=True).first() or ""
