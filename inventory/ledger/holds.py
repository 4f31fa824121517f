"""Holds: freezing and reserving units on balances (available -> frozen/reserved) and
releasing them, by named balance, first-expiry-first-out, or set-based for large freezes."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.exceptions import InsufficientStock, InvalidInput, InvalidQuantity
from inventory.ledger.checks import (
    check_key_unused,
    check_lines,
    check_quantity,
    clean_key,
    clean_reason,
    sku_of,
)
from inventory.ledger.values import (
    BalanceInfo,
    Change,
    Document,
    DocumentHolds,
    Hold,
    Kind,
    Posting,
)
from inventory.ledger.writes import Group, commit, commit_groups, fire, freeze_locked_sql
from inventory.locks import lock_balances, lock_balances_bulk, lock_balances_in
from inventory.models import StockBalance, StockMovement


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
    return hold(holds, "frozen", +1, Kind.FREEZE, document, operator, reason, idempotency_key)


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
    check_lines(ids)
    key = clean_key(idempotency_key)
    reason = clean_reason(reason)
    if connection.vendor != "postgresql":
        return hold(
            [Hold(pk) for pk in ids], "frozen", +1, Kind.FREEZE, document, operator, reason, key
        )
    if key:
        check_key_unused(key)
    operator_id = getattr(operator, "pk", operator)
    now = timezone.now()
    with transaction.atomic():
        if lock_balances_bulk(ids) != len(ids):
            raise InvalidInput(_("Unknown balance."))
        rows = freeze_locked_sql(ids, document, operator_id, reason, key, now)
        if not rows:
            raise InsufficientStock(
                _("Nothing is available to hold on the chosen stock."), requested=0
            )
        alias = connection.alias
        movements = [StockMovement.from_db(alias, None, row) for row in rows]
        fire(movements, document, operator_id)
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
    return hold(holds, "frozen", -1, Kind.UNFREEZE, document, operator, reason, idempotency_key)


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
    return hold(holds, "reserved", +1, Kind.RESERVE, document, operator, reason, idempotency_key)


def unreserve(
    *,
    holds: Sequence[Hold],
    document: Document,
    operator=None,
    reason: str = "",
    idempotency_key: str | None = None,
) -> Posting:
    """Give reserved units back (reserved -> available); as ``unfreeze``."""
    return hold(holds, "reserved", -1, Kind.UNRESERVE, document, operator, reason, idempotency_key)


def reserve_many(
    *,
    plan: Callable[[dict[int, int], dict[int, BalanceInfo]], Sequence[DocumentHolds]],
    balance_ids: Iterable[int] = (),
    goods_ids: Iterable[int] = (),
    warehouse_ids: Iterable[int] = (),
    releases: Sequence[DocumentHolds] = (),
    document: Document,
    operator=None,
    reason: str = "",
) -> tuple[list[Posting], list[Posting]]:
    """Release and reserve for many documents (a page of shop orders) in ONE posting, the
    reservations planned on quantities read under the locks.

    Locks, ``FOR UPDATE`` in primary-key order in one statement (``locks.lock_balances_in``;
    the callers' document rows, e.g. the orders, are locked before, as the lock order says):
    ``balance_ids``, every balance of ``goods_ids`` in ``warehouse_ids`` (the candidates,
    found by the lock itself, not read before), and every balance named in ``releases``. Then:

    1. ``releases`` (``unreserve``, reserved -> available): every hold names its quantity, at
       most what the balance holds reserved (``InvalidQuantity`` otherwise);
    2. ``plan(available, balances)`` is called once with ``{balance id: available units}``
       of the locked rows after the releases (a fresh dict the planner may use as a running
       tally) and ``{balance id: BalanceInfo}`` (goods, warehouse, bin, batch and its expiry),
       and returns the documents to reserve for, each ``DocumentHolds`` with positive
       quantities on locked balances only, in the order they take the stock; a document with
       no holds is skipped. The planner decides (nearest warehouse, short...) but writes
       nothing and locks nothing;
    3. every planned hold is checked against the running availability (``InsufficientStock``,
       ``InvalidInput`` for a balance not locked);
    4. the balances and every movement (``unreserve`` then ``reserve``; each names its own
       document, the document's idempotency key on its first movement) are written in one
       statement on PostgreSQL (``writes.write_and_insert``), and the hooks fire once for the whole posting with
       ``document`` (the batch, e.g. a pull's page). A key used before (or twice) is refused
       by the unique index: ``AlreadyPosted``.

    Nothing is written when any check fails; runs in the caller's transaction without a
    savepoint, so on any error the caller's transaction must be rolled back (let the error out
    of its atomic block). Returns the postings of ``releases`` and of the planned documents, in
    their order (empty postings for documents without holds); nothing is written or fired when
    there is nothing to hold or release."""
    reason = clean_reason(reason)
    for entry in releases:
        for item in entry.holds:
            if item.quantity is None:
                raise InvalidQuantity(_("Say how many units to release."))
            check_quantity(item.quantity)
    named = set(balance_ids) | {h.balance_id for entry in releases for h in entry.holds}
    with transaction.atomic(savepoint=False):
        locked = lock_balances_in(named, goods_ids=goods_ids, warehouse_ids=warehouse_ids)
        if not named <= locked.keys():
            raise InvalidInput(_("Unknown balance."))
        groups: list[Group] = []
        reserved = {pk: row.reserved for pk, row in locked.items()}
        available = {pk: row.available for pk, row in locked.items()}
        for entry in releases:
            changes = []
            for item in entry.holds:
                if item.quantity > reserved[item.balance_id]:
                    raise InvalidQuantity(
                        _(
                            "Cannot release %(requested)s units of %(goods)s: only "
                            "%(held)s are %(what)s on that balance."
                        )
                        % {
                            "requested": item.quantity,
                            "goods": sku_of(locked[item.balance_id].goods_id),
                            "held": max(reserved[item.balance_id], 0),
                            "what": _("reserved"),
                        }
                    )
                reserved[item.balance_id] -= item.quantity
                available[item.balance_id] += item.quantity
                changes.append(
                    Change(
                        balance_id=item.balance_id,
                        kind=Kind.UNRESERVE,
                        quantity=item.quantity,
                        reserved=-item.quantity,
                    )
                )
            groups.append(_group(entry, changes, reason))
        info = {
            pk: BalanceInfo(
                goods_id=row.goods_id,
                warehouse_id=row.warehouse_id,
                bin_id=row.bin_id,
                batch_id=row.batch_id,
                expiry_date=row.batch.expiry_date if row.batch_id else None,
            )
            for pk, row in locked.items()
        }
        planned = list(plan(dict(available), info))
        for entry in planned:
            changes = []
            for item in entry.holds:
                if item.balance_id not in locked:
                    raise InvalidInput(_("Unknown balance."))
                check_quantity(item.quantity)
                if item.quantity > available[item.balance_id]:
                    raise InsufficientStock(
                        requested=item.quantity,
                        available=max(available[item.balance_id], 0),
                        goods_label=sku_of(locked[item.balance_id].goods_id),
                    )
                available[item.balance_id] -= item.quantity
                changes.append(
                    Change(
                        balance_id=item.balance_id,
                        kind=Kind.RESERVE,
                        quantity=item.quantity,
                        reserved=item.quantity,
                    )
                )
            groups.append(_group(entry, changes, reason))
        written = [g for g in groups if g.changes]
        postings = iter(
            commit_groups(written, locked, document, operator, one_statement=True)
            if written
            else []
        )
        out = [next(postings) if g.changes else Posting(movements=[]) for g in groups]
        return out[: len(releases)], out[len(releases) :]


def _group(entry: DocumentHolds, changes: list[Change], reason: str) -> Group:
    return Group(
        document=entry.document,
        changes=changes,
        reason=clean_reason(entry.reason) or reason,
        key=clean_key(entry.idempotency_key),
    )


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
    return hold_fefo(
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
    return hold_fefo(
        balance_ids,
        quantity,
        "reserved",
        Kind.RESERVE,
        document,
        operator,
        reason,
        idempotency_key,
    )


def hold(
    holds: Sequence[Hold],
    column: str,
    sign: int,
    kind: str,
    document: Document,
    operator,
    reason: str,
    idempotency_key: str | None,
) -> Posting:
    check_lines(holds)
    for hold in holds:
        if hold.quantity is None and sign < 0:
            raise InvalidQuantity(_("Say how many units to release."))
        if hold.quantity is not None:
            check_quantity(hold.quantity)
    key = clean_key(idempotency_key)
    reason = clean_reason(reason)
    if key:
        check_key_unused(key)
    with transaction.atomic():
        locked = lock_balances(h.balance_id for h in holds)
        if len(locked) != len({h.balance_id for h in holds}):
            raise InvalidInput(_("Unknown balance."))
        spent: dict[int, int] = defaultdict(int)
        changes: list[Change] = []
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
                        goods_label=sku_of(row.goods_id),
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
                            "goods": sku_of(row.goods_id),
                            "held": max(free, 0),
                            "what": _("frozen") if column == "frozen" else _("reserved"),
                        }
                    )
            spent[row.pk] += quantity
            changes.append(
                Change(
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
        return commit(changes, locked, document, operator, reason, key)


def hold_fefo(
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
        check_quantity(quantity)
    key = clean_key(idempotency_key)
    reason = clean_reason(reason)
    if key:
        check_key_unused(key)
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
            label = sku_of(next(iter(goods_ids))) if len(goods_ids) == 1 else ""
            raise InsufficientStock(requested=quantity, available=total_free, goods_label=label)
        if total_free <= 0:
            raise InsufficientStock(
                _("Nothing is available to hold on the chosen stock."), requested=0
            )
        remaining = total_free if quantity is None else quantity
        changes: list[Change] = []
        for pk in order:
            if remaining == 0:
                break
            take = min(max(locked[pk].available, 0), remaining)
            if take <= 0:
                continue
            remaining -= take
            changes.append(Change(balance_id=pk, kind=kind, quantity=take, **{column: take}))
        return commit(changes, locked, document, operator, reason, key)
