"""Closing a grab window: share the pools among pending requests (priority at close), turn
every store's grants into one replenishment order holding its reserved stock, unreserve what
nobody claimed, schedule the next window of a recurring one. One transaction; idempotent (a
closed window is returned unchanged), so the beat task may run it twice.

Writes are set-based. On PostgreSQL the answers and their decisions are one statement, and the
orders with their events and lines another; their rows travel as one JSON parameter each (one
``json.dumps``, no per-row adaptation by the driver), constants as plain parameters. Elsewhere
(SQLite) ``bulk_update`` and ``bulk_create`` do the same writes. Pool rows and pool lines are
written with ``bulk_update``, and the leftovers are unreserved in one ledger posting.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from allocation import hooks, reasons, sharing
from allocation.exceptions import InvalidState
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


def window_close(
    *,
    window_id: int,
    user=None,
    strict: bool = False,
    due_by: datetime.datetime | None = None,
) -> GrabWindow:
    """Close an open window now (its time has come, or a manager closes it early). Locks the
    window row, then its pools in pk order (a grab waiting on a pool row re-checks ``is_open``
    and grants nothing), then the pool lines and, through the ledger, their balances. A window
    not open is returned as it is; with ``strict``, one not open yet or cancelled raises
    InvalidState (read under the row lock). ``due_by`` (the beat, which picked the window as
    due at that time): a window whose closing time, read under the lock, is after it (moved
    later meanwhile) is returned as it is, still open."""
    with transaction.atomic():
        window = GrabWindow.objects.select_for_update().select_related("policy").get(pk=window_id)
        if window.status != GrabWindow.Status.OPEN:
            if strict and window.status in (
                GrabWindow.Status.SCHEDULED,
                GrabWindow.Status.CANCELLED,
            ):
                raise InvalidState(_("Only an open window can be closed."))
            return window
        if due_by is not None and window.closes_at > due_by:
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


def window_close_now(*, window_id: int, user) -> GrabWindow:
    """A manager's "close now": ``window_close``, but a window that is not open yet or was
    cancelled (which the close leaves as it is) is refused with InvalidState; a closed one is
    returned as it is (a replay)."""
    return window_close(window_id=window_id, user=user, strict=True)


def share_requests(
    policy: Policy,
    *,
    seed: int,
    pools: list[tuple[int, int, int]],
    requests: list[tuple[int, int, int, int, object]],
    stores: dict[int, Store],
    figures: dict[tuple[int, int], store_figures.Figures],
    unreceived: dict[int, str],
) -> dict[int, tuple[int, str, dict, str, list]]:
    """The shares of one window: ``pools`` as (pool id, goods id, offered), ``requests`` as
    (request id, pool id, store id, quantity, created at). Returns per request (granted, reason
    code, reason params, rule, figures): the figures are what the decision used, the values of
    ``FIGURES`` in order — the store's figures for the goods (sales in the lookback, average
    daily sales, on hand, days of cover, fixed rank), the pool's offer, the quantity counted
    after the caps and the request's place in the pool's order (None where the rule stopped
    before) — so an at-close share or refusal can be explained afterwards. Pools are shared in
    pk order; the per-window cap of a store is spent in that order."""
    room: dict[int, int] = {}
    out: dict[int, tuple[int, str, dict, str, list]] = {}
    fixed = policy.priority == Policy.Priority.FIXED_RANK
    by_pool: dict[int, list] = defaultdict(list)
    for row in requests:
        by_pool[row[1]].append(row)
    method = policy.share  # a code: the reason is read in the reader's language
    used: dict[int, list] = {}
    for pool_id, goods_id, offered in pools:
        candidates = []
        for request_id, _pool, store_id, quantity, created in by_pool.get(pool_id, []):
            store = stores[store_id]
            fig = figures.get((store_id, goods_id), store_figures.EMPTY)
            used[request_id] = [
                fig.sales,
                round(fig.avg_daily, 2),
                fig.on_hand,
                None if fig.cover is None else round(fig.cover, 1),
                store.fixed_rank if fixed else None,
                offered,
                None,
                None,
                None,
            ]
            refusal = store_figures.eligibility(
                policy=policy, store=store, figures=fig, unreceived=unreceived
            )
            if refusal is not None:
                out[request_id] = (0, refusal[0], refusal[1], "eligibility", used[request_id])
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
                        used[request_id],
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
        for place, (_k, request_id, asked, store_id, quantity, capped) in enumerate(
            candidates, start=1
        ):
            granted = shares.get(request_id, 0)
            if policy.cap_per_window is not None:
                room[store_id] -= granted
            fig = used[request_id]
            fig[6:9] = (asked, place, len(candidates))
            if granted == quantity:
                out[request_id] = (granted, reasons.GRANTED, {}, policy.share, fig)
            elif granted == 0:
                out[request_id] = (0, reasons.NO_SHARE, {"method": method}, policy.share, fig)
            elif asked < quantity and granted == asked:
                out[request_id] = (granted, *capped, fig)
            else:
                out[request_id] = (
                    granted,
                    reasons.PARTIAL_SHARE,
                    {"method": method},
                    policy.share,
                    fig,
                )
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
    # (request id, status, granted, reason code, params, rule, quantity asked, *FIGURES values)
    answers: list[tuple] = []
    for request_id, (units, code, reason_params, rule, used) in shares.items():
        if units == quantities[request_id]:
            status = Status.GRANTED
        elif units:
            status = Status.PARTIAL
        else:
            status = Status.REFUSED
        answers.append(
            (request_id, status, units, code, reason_params, rule, quantities[request_id], *used)
        )
    _answer_and_decide(answers, seed=window.seed, now=now)
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
                    reason_params=json.loads(json.dumps(reason_params)),
                    answered_at=now,
                )
                for request_id, status, units, code, reason_params, *_used in answers
            ]
        )
    totals: dict[int, int] = defaultdict(int)
    pool_of = {r[0]: r[1] for r in rows}
    for request_id, _status, units, *_rest in answers:
        totals[pool_of[request_id]] += units
    for pool in pools:
        pool.granted = totals.get(pool.pk, 0)
    GrabPool.objects.bulk_update(pools, ["granted"])


#: The figures an at-close decision used, in the order ``share_requests`` gives them; stored with
#: the quantity requested and the window's seed (``decision_figures``).
FIGURES = (
    "sales",
    "avg_daily",
    "on_hand",
    "cover",
    "fixed_rank",
    "offered",
    "counted",
    "place",
    "of",
)
# Kept when unknown (null); the others are left out when None (not ranked, or stopped before).
_KEPT_WHEN_NULL = frozenset({"sales", "avg_daily", "on_hand", "cover", "offered"})


def decision_figures(requested: int, seed: int, values) -> dict:
    """A decision's figures: the quantity requested, the seed, and ``FIGURES`` by name."""
    figures = {"requested": requested, "seed": seed}
    for name, value in zip(FIGURES, values, strict=True):
        if value is not None or name in _KEPT_WHEN_NULL:
            figures[name] = value
    return figures


def _answer_and_decide(answers: list[tuple], *, seed: int, now) -> None:
    """Write the answers on the requests and one decision per request (rule, the figures used
    — the quantity asked, the window's seed and the share's figures, see ``share_requests`` —
    and the result), decisions in ``answers`` order.

    On PostgreSQL: one statement, the rows sent as one JSON array of plain values (one
    ``json.dumps``, no per-row adaptation, no per-row dicts), the answers as an ``UPDATE`` in a
    CTE and the decisions inserted from the same rows, their figures built by
    ``jsonb_build_object`` as ``decision_figures`` builds them."""
    if not answers:
        return
    if connection.vendor == "postgresql":
        rows = _json_rows(
            "id bigint, status text, granted int, code text, params jsonb, rule text, asked int, "
            "sales int, avg_daily numeric, on_hand int, cover numeric, fixed_rank int, "
            "offered int, counted int, place int, of int"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH u AS ({rows}), "
                f"answered AS (UPDATE {GrabRequest._meta.db_table} AS r "  # noqa: S608
                "SET status = u.status, granted = u.granted, reason_code = u.code, "
                "reason_params = u.params, answered_at = %(now)s FROM u WHERE r.id = u.id) "
                f"INSERT INTO {GrabDecision._meta.db_table} "
                "(request_id, rule, figures, result, granted, created_at) "
                "SELECT u.id, u.rule, jsonb_build_object('requested', u.asked, 'seed', "
                "%(seed)s::bigint, 'sales', u.sales, 'avg_daily', u.avg_daily, 'on_hand', "
                "u.on_hand, 'cover', u.cover, 'offered', u.offered) || jsonb_strip_nulls("
                "jsonb_build_object('fixed_rank', u.fixed_rank, 'counted', u.counted, 'place', "
                "u.place, 'of', u.of)), u.status, u.granted, %(now)s FROM u ORDER BY u.n",
                {"rows": json.dumps(answers), "now": now, "seed": seed},
            )
        return
    index = {row[0]: row for row in answers}
    objs = list(GrabRequest.objects.filter(pk__in=list(index)))
    for obj in objs:
        _id, obj.status, obj.granted, obj.reason_code, params, *_rest = index[obj.pk]
        obj.reason_params = json.loads(json.dumps(params))
        obj.answered_at = now
    GrabRequest.objects.bulk_update(
        objs, ["status", "granted", "reason_code", "reason_params", "answered_at"]
    )
    GrabDecision.objects.bulk_create(
        [
            GrabDecision(
                request_id=request_id,
                rule=rule,
                figures=decision_figures(asked, seed, used),
                result=status,
                granted=units,
                created_at=now,
            )
            for request_id, status, units, _code, _params, rule, asked, *used in answers
        ]
    )


def _json_rows(columns: str) -> str:
    """A SELECT of the ``%(rows)s`` parameter, a JSON array of arrays, as typed ``columns``
    ("name type, ...", in array order) plus ``n``, the row's position from 1."""
    parts = []
    for i, column in enumerate(columns.split(",")):
        name, kind = column.split()
        value = f"(e->{i})::jsonb" if kind == "jsonb" else f"(e->>{i})::{kind}"
        parts.append(f"{value} AS {name}")
    return (
        f"SELECT {', '.join(parts)}, n "
        "FROM json_array_elements(%(rows)s::json) WITH ORDINALITY AS a(e, n)"
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
    new_lines = []  # (store id, goods id, balance id, quantity), in line order
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
            new_lines.append((store_id, goods_of[pool_id], line.balance_id, take))
        if need:
            raise RuntimeError(f"pool {pool_id} holds less than it granted")  # a broken invariant
    order_of = _insert_orders(window, store_ids, new_lines, getattr(user, "pk", None), now)
    GrabPoolLine.objects.bulk_update(pool_lines, ["assigned"], batch_size=2000)
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
                    "details": {},
                    "at": now.isoformat(),
                }
                for store_id, order_id in sorted(order_of.items())
            ]
        )


def _insert_orders(window: GrabWindow, store_ids: list[int], lines: list[tuple], actor_id, now):
    """Create one order per store (in ``store_ids`` order), its ``created`` event (in order id
    order) and its ``lines`` (store id, goods id, balance id, quantity; in that order). Returns
    {store id: order id}.

    On PostgreSQL: one statement, the orders inserted in a CTE that the events and the lines
    (sent as one JSON array) are inserted from."""
    created = ReplenishmentOrder.Status.CREATED
    if connection.vendor == "postgresql":
        line_rows = _json_rows("store bigint, goods bigint, balance bigint, quantity int")
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH o AS (INSERT INTO {ReplenishmentOrder._meta.db_table} "  # noqa: S608
                "(window_id, store_id, warehouse_id, status, created_at) "
                "SELECT %(window)s, s, %(warehouse)s, %(status)s, %(now)s "
                "FROM unnest(%(stores)s::bigint[]) AS s RETURNING id, store_id), "
                f"e AS (INSERT INTO {OrderEvent._meta.db_table} "
                "(order_id, kind, actor_id, note, details, created_at) "
                "SELECT o.id, %(kind)s, %(actor)s::bigint, '', '{}'::jsonb, %(now)s "
                "FROM o ORDER BY o.id), "
                f"x AS ({line_rows}), "
                f"l AS (INSERT INTO {ReplenishmentLine._meta.db_table} "
                "(order_id, goods_id, balance_id, quantity, damaged) "
                "SELECT o.id, x.goods, x.balance, x.quantity, 0 FROM x "
                "JOIN o ON o.store_id = x.store ORDER BY x.n) "
                "SELECT store_id, id FROM o",
                {
                    "window": window.pk,
                    "warehouse": window.warehouse_id,
                    "status": created,
                    "now": now,
                    "stores": store_ids,
                    "kind": OrderEvent.Kind.CREATED,
                    "actor": actor_id,
                    "rows": json.dumps(lines),
                },
            )
            return dict(cursor.fetchall())
    orders = ReplenishmentOrder.objects.bulk_create(
        [
            ReplenishmentOrder(
                window_id=window.pk,
                store_id=store_id,
                warehouse_id=window.warehouse_id,
                status=created,
                created_at=now,
            )
            for store_id in store_ids
        ]
    )
    order_of = {order.store_id: order.pk for order in orders}
    ReplenishmentLine.objects.bulk_create(
        [
            ReplenishmentLine(
                order_id=order_of[store_id],
                goods_id=goods_id,
                balance_id=balance_id,
                quantity=quantity,
                damaged=0,
            )
            for store_id, goods_id, balance_id, quantity in lines
        ]
    )
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order_id=order_id,
                kind=OrderEvent.Kind.CREATED,
                actor_id=actor_id,
                note="",
                created_at=now,
            )
            for order_id in sorted(order_of.values())
        ]
    )
    return order_of
