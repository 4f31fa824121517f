"""Issuing stock: choosing the balances that serve each pick (first-expiry-first-out,
expired batches only with the override), and the fast path for one named balance (one
conditional ``UPDATE ... RETURNING`` joined to the movement insert)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.exceptions import ExpiredBatch, InsufficientStock, InvalidInput, NotAllowed
from inventory.ledger.checks import GoodsInfo
from inventory.ledger.values import Change, Document, Pick, Posting
from inventory.ledger.writes import FAST_PATH_COLUMNS, fire, insert_movements, replay_refused
from inventory.models import Batch, StockBalance, StockMovement
from inventory.reasons import reason as reason_code


@dataclass(frozen=True)
class Candidate:
    balance_id: int
    goods_id: int
    bin_id: int
    batch_id: int | None
    expiry: datetime.date | None


def issue_candidates(warehouse_id: int, lines: Sequence[Pick]) -> dict[int, Candidate]:
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
        out[pk] = Candidate(pk, goods_id, bin_id, batch_id, expiry)
    missing = named - out.keys()
    if missing:
        raise InvalidInput(_("Unknown balance."))
    return out


def allocate_pick(
    line: Pick,
    *,
    kind: str,
    candidates: dict[int, Candidate],
    locked: dict[int, StockBalance],
    taken: dict[tuple[int, str], int],
    column: str | None,
    allow_expired: bool,
    override_reason: str,
    today: datetime.date,
    goods: dict[int, GoodsInfo],
    warehouse_id: int,
) -> list[Change]:
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
    changes: list[Change] = []
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
            Change(
                balance_id=row.pk,
                kind=kind,
                quantity=take,
                on_hand=-take,
                frozen=-take if source == "frozen" else 0,
                reserved=-take if source == "reserved" else 0,
                from_bin_id=row.bin_id,
                note=reason_code("expired_shipped", override_reason) if expired else "",
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
        held = [locked[c.balance_id] for c in rows if c.balance_id in locked]
        stock = {}
        if not message:  # say where the rest is: on hand, frozen by which freezes, reserved
            stock = {
                "on_hand": sum(row.on_hand for row in held),
                "frozen": sum(row.frozen for row in held),
                "reserved": sum(row.reserved for row in held),
                "balance_ids": [row.pk for row in held if row.frozen],
            }
        error = InsufficientStock(
            message, requested=line.quantity, available=available, goods_label=label, **stock
        )
        if expired_units and not message:
            error.message += " " + _(
                "%(n)s more units are in expired batches (ship them only with the override)."
            ) % {"n": expired_units}
        raise error
    return changes


def issue_one_balance(
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
            with replay_refused(), connection.cursor() as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
            if row is None:
                explain_refused_pick(pick, warehouse_id, from_reserved)
            movement_id, bin_id, batch_id = row
        else:
            with connection.cursor() as cursor:
                cursor.execute(update, update_params)
                row = cursor.fetchone()
            if row is None:
                explain_refused_pick(pick, warehouse_id, from_reserved)
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
            insert_movements([movement])
        else:
            movement._state.adding = False
        fire([movement], document, operator_id)
        return Posting(movements=[movement])


def explain_refused_pick(pick: Pick, warehouse_id: int, from_reserved: bool) -> None:
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
    stock = {}
    if not pick.from_frozen and not from_reserved:
        stock = {
            "on_hand": row["on_hand"],
            "frozen": row["frozen"],
            "reserved": row["reserved"],
            "balance_ids": [pick.balance_id],
        }
    raise InsufficientStock(
        requested=pick.quantity,
        available=max(available, 0),
        goods_label=row["goods__sku"],
        **stock,
    )


# --- holds internals ------------------------------------------------------------------------
