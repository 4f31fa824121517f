"""The SQL writes of every posting: balance rows created in one order, locked changes applied
and checked against the laws, balances written in one statement, movements inserted, hooks
fired; plus the set-based freeze statement of ``freeze_all_available``. Only this package
writes ``StockBalance`` and ``StockMovement``."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import IntegrityError, connection
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory import hooks
from inventory.exceptions import AlreadyPosted, InvalidQuantity, NotAllowed
from inventory.ledger.checks import BinInfo
from inventory.ledger.values import ON_HAND_LIMIT, REASON_MAX, Change, Document, Kind, Posting
from inventory.models import StockBalance, StockMovement
from inventory.reasons import join_reasons

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

#: Every column of the movement table, in the model's field order (``from_db`` takes them so).
MOVEMENT_COLUMNS = tuple(f.column for f in StockMovement._meta.concrete_fields)


def existing_balances(
    keys: Sequence[tuple[int, int, int | None]],
) -> dict[tuple[int, int, int | None], int]:
    if not keys:
        return {}
    wanted = set(keys)
    rows = StockBalance.objects.filter(
        goods_id__in=sorted({k[0] for k in wanted}), bin_id__in=sorted({k[1] for k in wanted})
    ).values_list("pk", "goods_id", "bin_id", "batch_id")
    return {(g, b, x): pk for pk, g, b, x in rows if (g, b, x) in wanted}


def ensure_balances(
    keys: Sequence[tuple[int, int, int | None]], bins: dict[int, BinInfo]
) -> dict[tuple[int, int, int | None], int]:
    """Ids of the balance rows for ``keys``, creating the missing ones. Rows are inserted
    sorted by (goods, bin, batch) with ON CONFLICT DO NOTHING, so two postings creating the same
    rows wait for each other in one order and never deadlock."""
    found = existing_balances(keys)
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
        found.update(existing_balances(missing))
    return found


def commit(
    changes: list[Change],
    locked: dict[int, StockBalance],
    document: Document,
    operator,
    reason: str,
    key: str | None,
) -> Posting:
    """Apply ``changes`` to the locked rows, check the laws, write balances and movements, fire
    the hooks. Must run inside the posting's atomic block, with every balance locked."""
    return commit_groups([Group(document, changes, reason, key)], locked, document, operator)[0]


@dataclass
class Group:
    """One document's changes inside a posting that writes several documents at once
    (``holds.reserve_many``); a plain posting is one group."""

    document: Document
    changes: list[Change]
    reason: str
    key: str | None


def commit_groups(
    groups: list[Group],
    locked: dict[int, StockBalance],
    event_document: Document,
    operator,
    *,
    one_statement: bool = False,
) -> list[Posting]:
    """Apply every group's changes to the locked rows, check the laws once, write the balances
    in one statement and every movement in one insert (each group's first movement carries its
    idempotency key and every movement its group's document), then fire the hooks once with
    ``event_document``. With ``one_statement`` (on PostgreSQL) the balance write and the
    movement insert are one statement (``write_and_insert``). Must run inside the posting's
    atomic block, every balance locked."""
    touched: dict[int, StockBalance] = {}
    for group in groups:
        for change in group.changes:
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
    combined = one_statement and connection.vendor == "postgresql"
    if not combined:
        write_balances(list(touched.values()))
    now = timezone.now()
    operator_id = getattr(operator, "pk", operator)
    postings = []
    movements: list[StockMovement] = []
    for group in groups:
        document = group.document
        own: list[StockMovement] = []
        for change in group.changes:
            row = locked[change.balance_id]
            own.append(
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
                    reason=join_reason(group.reason, change.note),
                    idempotency_key=group.key if not own else None,
                    created_at=now,
                )
            )
        movements.extend(own)
        postings.append(Posting(movements=own))
    if combined:
        write_and_insert(list(touched.values()), movements)
    else:
        insert_movements(movements)
    fire(movements, event_document, operator_id)
    return postings


def write_and_insert(rows: list[StockBalance], movements: list[StockMovement]) -> None:
    """PostgreSQL: write the quantities of the locked ``rows`` and insert ``movements`` in ONE
    statement (the balance ``UPDATE ... FROM unnest`` as a data-modifying CTE, the movements
    ``INSERT ... SELECT FROM unnest ... ORDER BY`` their position, ``RETURNING id``; the ids,
    sorted, set on the objects in that order). One round trip for a set-based posting of many documents; a
    replayed idempotency key raises ``AlreadyPosted`` as ``insert_movements`` does."""
    rows = sorted(rows, key=lambda row: row.pk)
    balance = connection.ops.quote_name(StockBalance._meta.db_table)
    movement = connection.ops.quote_name(StockMovement._meta.db_table)
    fields = [f for f in StockMovement._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f.column for f in fields)
    arrays = ", ".join(f"%s::{f.cast_db_type(connection)}[]" for f in fields)
    sql = (
        f"WITH b AS (UPDATE {balance} SET on_hand = v.on_hand, frozen = v.frozen, "
        f"reserved = v.reserved FROM unnest(%s::bigint[], %s::integer[], %s::integer[], "
        f"%s::integer[]) AS v(id, on_hand, frozen, reserved) WHERE {balance}.id = v.id) "
        f"INSERT INTO {movement} ({columns}) SELECT {columns} FROM unnest({arrays}) "
        f"WITH ORDINALITY AS m({columns}, n) ORDER BY m.n RETURNING id"
    )
    params = [
        [row.pk for row in rows],
        [row.on_hand for row in rows],
        [row.frozen for row in rows],
        [row.reserved for row in rows],
        *([getattr(m, f.attname) for m in movements] for f in fields),
    ]
    with replay_refused(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        # The ids come from the table's identity sequence, drawn in insertion order (ORDER BY
        # m.n) and increasing within one statement: sorted, they follow the movements' order
        # whatever order RETURNING hands them back in (which PostgreSQL does not document).
        ids = sorted(pk for (pk,) in cursor.fetchall())
    for m, pk in zip(movements, ids, strict=True):
        m.pk = pk
        m._state.adding = False
        m._state.db = connection.alias


def write_balances(rows: list[StockBalance]) -> None:
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


def join_reason(reason: str, note: str) -> str:
    """The posting's reason and a movement's own note (codes, ``inventory.reasons``)."""
    return join_reasons(reason, note)[:REASON_MAX]


@contextmanager
def replay_refused() -> Iterator[None]:
    """Turn the idempotency key's unique violation into ``AlreadyPosted`` (a replay that lost
    the race past ``check_key_unused``); any other integrity error propagates."""
    try:
        yield
    except IntegrityError as exc:
        if "idempotency_key" in str(exc):
            raise AlreadyPosted(
                _("This operation was posted already; nothing was changed.")
            ) from exc
        raise


def insert_movements(movements: list[StockMovement]) -> None:
    with replay_refused():
        StockMovement.objects.bulk_create(movements, batch_size=2000)


def fire(movements: list[StockMovement], document: Document, operator_id: int | None) -> None:
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


def freeze_locked_sql(
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
    with replay_refused(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    rows.sort(key=lambda row: row[0])
    return rows
