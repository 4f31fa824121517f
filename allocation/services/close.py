"""Closing a grab window: share the pools among pending requests (priority at close), turn
every store's grants into one replenishment order holding its reserved stock, unreserve what
nobody claimed, schedule the next window of a recurring one. One transaction; idempotent (a
closed window is returned unchanged), so the beat task may run it twice.

Writes are set-based: requests are answered with one ``UPDATE ... FROM unnest(...)`` on
PostgreSQL, decisions, orders, lines and events with ``bulk_create``, pool rows and pool lines
with ``bulk_update``, and the leftovers are unreserved in one ledger posting.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone

from allocation import hooks, reasons, sharing
from allocation.models import (
    GrabDecision,
    GrabPool,
    GrabPoolLine,
    GrabRequest,
    GrabWindow,
    OrderEvent,
    Policy,
    ReplenishmentLine,
    ReplenishmentOrder,
    Store,
)
from allocation.services import stores as store_figures
from allocation.services.windows import release_pool_lines, window_schedule_next

Status = GrabRequest.Status


def window_close(*, window_id: int, user=None) -> GrabWindow:
    """Close an open window now (its time has come, or a manager closes it early). Locks the
    window row, then its pools in pk order (a grab waiting on a pool row re-checks ``is_open``
    and grants nothing), then the pool lines and, through the ledger, their balances."""
    with transaction.atomic():
        window = GrabWindow.objects.select_for_update().select_related("policy").get(pk=window_id)
        if window.status != GrabWindow.Status.OPEN:
            return window
        pools = list(GrabPool.objects.select_for_update().filter(window=window).order_by("pk"))
        GrabPool.objects.filter(window=window).update(is_open=False)
        now = timezone.now()
        if window.mode == GrabWindow.Mode.AT_CLOSE:
            _share(window, pools, now)
        _make_orders(window, pools, user, now)
        release_pool_lines(window, user, "close")
        window.status = GrabWindow.Status.CLOSED
        window.closed_at = now
        window.save(update_fields=["status", "closed_at"])
        window_schedule_next(window)
        return window


def share_requests(
    policy: Policy,
    *,
    seed: int,
    pools: list[tuple[int, int, int]],
    requests: list[tuple[int, int, int, int, object]],
    stores: dict[int, Store],
    figures: dict[tuple[int, int], store_figures.Figures],
    unreceived: dict[int, str],
) -> dict[int, tuple[int, str, dict, str]]:
    """The shares of one window: ``pools`` as (pool id, goods id, offered), ``requests`` as
    (request id, pool id, store id, quantity, created at). Returns per request (granted, reason
    code, reason params, rule). Pools are shared in pk order; the per-window cap of a store is
    spent in that order."""
    room: dict[int, int] = {}
    out: dict[int, tuple[int, str, dict, str]] = {}
    by_pool: dict[int, list] = defaultdict(list)
    for row in requests:
        by_pool[row[1]].append(row)
    method = policy.get_share_display()
    for pool_id, goods_id, offered in pools:
        candidates = []
        for request_id, _pool, store_id, quantity, created in by_pool.get(pool_id, []):
            store = stores[store_id]
            fig = figures.get((store_id, goods_id), store_figures.EMPTY)
            refusal = store_figures.eligibility(
                policy=policy, store=store, figures=fig, unreceived=unreceived
            )
            if refusal is not None:
                out[request_id] = (0, refusal[0], refusal[1], "eligibility")
                continue
            asked = quantity
            capped = ("", {}, "")  # the cap that cut the ask: reason code, params, rule
            if policy.cap_per_goods is not None and policy.cap_per_goods < asked:
                asked = policy.cap_per_goods
                capped = (reasons.PARTIAL_CAP, {"cap": asked}, "cap_per_goods")
            if policy.cap_per_window is not None:
                left = room.setdefault(store_id, policy.cap_per_window)
                if left <= 0:
                    out[request_id] = (
                        0,
                        reasons.WINDOW_CAP,
                        {"cap": policy.cap_per_window},
                        "window_cap",
                    )
                    continue
                if left < asked:
                    asked = left
                    capped = (reasons.WINDOW_CAP, {"cap": policy.cap_per_window}, "window_cap")
            key = (*store_figures.rank_key(policy, store, fig), created, request_id)
            candidates.append((key, request_id, asked, store_id, quantity, capped))
        candidates.sort()
        ordered = [(c[1], c[2]) for c in candidates]
        if policy.share == Policy.Share.PRO_RATA:
            shares = sharing.pro_rata(offered, ordered)
        elif policy.share == Policy.Share.LOTTERY:
            shares = sharing.lottery(offered, ordered, seed=seed, goods_id=goods_id)
        else:
            shares = sharing.strict_priority(offered, ordered)
        for _k, request_id, asked, store_id, quantity, capped in candidates:
            granted = shares.get(request_id, 0)
            if policy.cap_per_window is not None:
                room[store_id] -= granted
            if granted == quantity:
                out[request_id] = (granted, reasons.GRANTED, {}, policy.share)
            elif granted == 0:
                out[request_id] = (0, reasons.NO_SHARE, {"method": method}, policy.share)
            elif asked < quantity and granted == asked:
                out[request_id] = (granted, *capped)
            else:
                out[request_id] = (granted, reasons.PARTIAL_SHARE, {"method": method}, policy.share)
    return out


def _share(window: GrabWindow, pools: list[GrabPool], now) -> None:
    policy = window.policy
    rows = list(
        GrabRequest.objects.filter(window=window, status=Status.PENDING)
        .order_by("pk")
        .values_list("pk", "pool_id", "store_id", "quantity", "created_at")
    )
    if not rows:
        return
    store_ids = {r[2] for r in rows}
    goods_of_pool = {p.pk: p.goods_id for p in pools}
    stores = Store.objects.in_bulk(sorted(store_ids))
    figures = store_figures.store_figures(
        policy=policy,
        store_ids=store_ids,
        goods_ids=[p.goods_id for p in pools],
        with_on_hand=store_figures.needs_on_hand(policy),
        pairs={(r[2], goods_of_pool[r[1]]) for r in rows},
    )
    unreceived = store_figures.unreceived_for(policy, store_ids)
    shares = share_requests(
        policy,
        seed=window.seed,
        pools=[(p.pk, p.goods_id, p.offered) for p in pools],
        requests=rows,
        stores=stores,
        figures=figures,
        unreceived=unreceived,
    )
    quantities = {r[0]: r[3] for r in rows}
    ids, statuses, granted, codes, params = [], [], [], [], []
    decisions: list[tuple] = []
    for request_id, (units, code, reason_params, rule) in shares.items():
        if units == quantities[request_id]:
            status = Status.GRANTED
        elif units:
            status = Status.PARTIAL
        else:
            status = Status.REFUSED
        ids.append(request_id)
        statuses.append(status)
        granted.append(units)
        codes.append(code)
        params.append(json.dumps(reason_params))
        decisions.append(
            (
                request_id,
                rule,
                json.dumps({"requested": quantities[request_id], "seed": window.seed}),
                status,
                units,
                now,
            )
        )
    _answer_many(ids, statuses, granted, codes, params, now)
    if hooks.wants_answers():
        by_id = {r[0]: r for r in rows}
        hooks.answered(
            [
                GrabRequest(
                    pk=request_id,
                    window_id=window.pk,
                    pool_id=by_id[request_id][1],
                    store_id=by_id[request_id][2],
                    quantity=by_id[request_id][3],
                    created_at=by_id[request_id][4],
                    status=status,
                    granted=units,
                    reason_code=code,
                    reason_params=json.loads(param),
                    answered_at=now,
                )
                for request_id, status, units, code, param in zip(
                    ids, statuses, granted, codes, params, strict=True
                )
            ]
        )
    insert_rows(
        GrabDecision,
        ["request_id", "rule", "figures", "result", "granted", "created_at"],
        ["bigint", "text", "jsonb", "text", "int", "timestamptz"],
        decisions,
    )
    totals: dict[int, int] = defaultdict(int)
    pool_of = {r[0]: r[1] for r in rows}
    for request_id, units in zip(ids, granted, strict=True):
        totals[pool_of[request_id]] += units
    for pool in pools:
        pool.granted = totals.get(pool.pk, 0)
    GrabPool.objects.bulk_update(pools, ["granted"])


def _answer_many(ids, statuses, granted, codes, params, now) -> None:
    if connection.vendor == "postgresql":
        table = GrabRequest._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS r SET status = u.status, granted = u.granted, "  # noqa: S608
                "reason_code = u.code, reason_params = u.params::jsonb, answered_at = %s "
                "FROM unnest(%s::bigint[], %s::text[], %s::int[], %s::text[], %s::text[]) "
                "AS u(id, status, granted, code, params) WHERE r.id = u.id",
                [now, ids, statuses, granted, codes, params],
            )
        return
    objs = list(GrabRequest.objects.filter(pk__in=ids))
    index = {request_id: i for i, request_id in enumerate(ids)}
    for obj in objs:
        i = index[obj.pk]
        obj.status, obj.granted, obj.reason_code = statuses[i], granted[i], codes[i]
        obj.reason_params = json.loads(params[i])
        obj.answered_at = now
    GrabRequest.objects.bulk_update(
        objs, ["status", "granted", "reason_code", "reason_params", "answered_at"]
    )


def _fefo_key(line: GrabPoolLine) -> tuple:
    batch = line.balance.batch
    expiry = batch.expiry_date if batch is not None else None
    return (expiry is None, expiry or datetime.date.max, line.pk)


def _make_orders(window: GrabWindow, pools: list[GrabPool], user, now) -> None:
    """One order per store with grants; its lines take the pools' reserved balances
    first-expiry-first (the order the pool lines were reserved in), stores in request order."""
    grants = list(
        GrabRequest.objects.filter(
            window=window, status__in=[Status.GRANTED, Status.PARTIAL], granted__gt=0
        )
        .order_by("pk")
        .values_list("store_id", "pool_id", "granted")
    )
    if not grants:
        return
    lines_by_pool: dict[int, list[GrabPoolLine]] = defaultdict(list)
    pool_lines = list(
        GrabPoolLine.objects.select_for_update(of=("self",))
        .filter(pool__window=window)
        .select_related("balance__batch")
        .order_by("pk")
    )
    for line in pool_lines:
        lines_by_pool[line.pool_id].append(line)
    for chunk in lines_by_pool.values():
        chunk.sort(key=_fefo_key)
    goods_of = {p.pk: p.goods_id for p in pools}
    store_ids = sorted({g[0] for g in grants})
    order_ids = insert_rows(
        ReplenishmentOrder,
        ["window_id", "store_id", "warehouse_id", "status", "created_at"],
        ["bigint", "bigint", "bigint", "text", "timestamptz"],
        [
            (window.pk, s, window.warehouse_id, ReplenishmentOrder.Status.CREATED, now)
            for s in store_ids
        ],
        returning=("store_id", "id"),
    )
    order_of = dict(order_ids)
    new_lines = []
    for store_id, pool_id, units in grants:
        need = units
        for line in lines_by_pool[pool_id]:
            if need == 0:
                break
            free = line.quantity - line.assigned - line.released
            if free <= 0:
                continue
            take = min(free, need)
            line.assigned += take
            need -= take
            new_lines.append((order_of[store_id], goods_of[pool_id], line.balance_id, take, 0))
        if need:
            raise RuntimeError(f"pool {pool_id} holds less than it granted")  # a broken invariant
    insert_rows(
        ReplenishmentLine,
        ["order_id", "goods_id", "balance_id", "quantity", "damaged"],
        ["bigint", "bigint", "bigint", "int", "int"],
        new_lines,
    )
    GrabPoolLine.objects.bulk_update(pool_lines, ["assigned"], batch_size=2000)
    insert_rows(
        OrderEvent,
        ["order_id", "kind", "actor_id", "note", "created_at"],
        ["bigint", "text", "bigint", "text", "timestamptz"],
        [
            (order_id, OrderEvent.Kind.CREATED, getattr(user, "pk", None), "", now)
            for order_id in sorted(order_of.values())
        ],
    )
    if hooks.wants_order_changes():
        hooks.orders_changed(
            [
                {
                    "order_id": order_id,
                    "ref": ReplenishmentOrder(pk=order_id).ref,
                    "store_id": store_id,
                    "window_id": window.pk,
                    "warehouse_id": window.warehouse_id,
                    "status": ReplenishmentOrder.Status.CREATED,
                    "kind": OrderEvent.Kind.CREATED,
                    "actor_id": getattr(user, "pk", None),
                    "note": "",
                    "at": now.isoformat(),
                }
                for store_id, order_id in sorted(order_of.items())
            ]
        )


def insert_rows(
    model,
    columns: list[str],
    types: list[str],
    rows: list[tuple],
    *,
    returning: tuple[str, ...] = (),
) -> list[tuple]:
    """Insert ``rows`` (tuples in ``columns`` order) in one statement: ``INSERT ... SELECT FROM
    unnest(...)`` on PostgreSQL, ``bulk_create`` elsewhere. Returns the ``returning`` columns
    of the new rows."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        made = model.objects.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows]
        )
        return [tuple(getattr(obj, name) for name in returning) for obj in made]
    table = model._meta.db_table
    arrays = [list(column) for column in zip(*rows, strict=True)]
    # jsonb travels as text (psycopg2 adapts lists of str), cast per element after unnest
    unnest_types = ["text" if t == "jsonb" else t for t in types]
    select = ", ".join(f"u.c{i}::jsonb" if t == "jsonb" else f"u.c{i}" for i, t in enumerate(types))
    names = ", ".join(f"c{i}" for i in range(len(columns)))
    unnest = ", ".join(f"%s::{t}[]" for t in unnest_types)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (our table and columns)
        f"SELECT {select} FROM unnest({unnest}) AS u({names})"
    )
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return [tuple(row) for row in cursor.fetchall()] if returning else []
