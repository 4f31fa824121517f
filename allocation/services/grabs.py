"""Grab requests: a store manager asks for a quantity of one pool's goods.

First come: the request is reviewed at once against the store's eligibility, the policy's caps
(a quantity above the per-goods cap is granted up to it) and what is left, and answered granted,
partly granted or refused with the reason; one append-only ``GrabDecision`` records the rule and
the figures. The pool counter is a hot row. The usual grab (the window plainly open to a store
of the user, a policy that needs no store figures) is ONE statement, one round trip
(``_FIRST_COME_SQL``): it checks the window, scope and ownership, moves the counter with the
conditional ``UPDATE ... SET granted = granted + n WHERE id = %s AND is_open AND granted + n <=
offered`` and inserts the answered request and its decision; the row lock is held only for that
statement and its commit. At most ``POOL_WAITERS`` grabs wait at one pool's row (per-pool
advisory slot locks in the same statement; the rest queue on their slot and are all answered).
A pool seen exhausted is refused in the same statement without taking a slot or touching its
row, so late grabs never queue on its lock. Anything else takes the checked path (ORM, store
figures, per-window cap under the store's advisory lock; a partial grant locks the row to take
what is left), which answers the same way. ``allocation.hooks.grab_answered`` runs in the
answering transaction.

At close: the request is validated and stored as pending; ``close.window_close`` shares.

Idempotent: a ``client_key`` (the grab form's token) makes a double tap one request; a second
phone of the same store gets the store's live request for that goods back (one live request
per store and goods in a window, a unique constraint). Either way nothing is granted twice.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import uuid
import weakref

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Exists, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from allocation import hooks, reasons
from allocation.exceptions import InvalidState, NotAllowed, WindowNotOpen  # noqa: F401
from allocation.locks import store_window_lock
from allocation.models import GrabDecision, GrabPool, GrabRequest, GrabWindow, Policy, Store
from allocation.services import stores as store_figures
from allocation.services.windows import check_quantity, window_open_if_due
from wms.locks import advisory_key

MAX_GRAB = 1_000_000


def grab_request_submit(
    *,
    user,
    store: Store,
    window: GrabWindow,
    goods_id: int,
    quantity: object,
    client_key: str = "",
) -> GrabRequest:
    """Submit (first come: and answer) a grab request. Raises NotAllowed when the user does not
    run the store or the window is not open to it, WindowNotOpen outside the window or for a
    closed or cancelled one, InvalidQuantity for a zero, negative or fractional quantity,
    NotAllowed for goods not in the pool; a refused submission writes nothing. A quantity above
    the policy's per-goods cap is granted up to the cap ("capped at N"). Returns the existing
    request for a replayed ``client_key`` or a store's second live request for the same goods.

    First come on PostgreSQL: one statement (``_FIRST_COME_SQL``) checks everything, moves the
    pool counter and writes the answered request and its decision, when the window is plainly
    open to a store of the user and the policy needs no store figures; anything else (figures,
    a per-window cap, a zero cap per goods, a pool that cannot cover the quantity, a refusal
    with a message) takes the checked path below, which gives the same answers."""
    check_quantity(quantity, limit=MAX_GRAB)
    client_key = (client_key or "").strip()[:64] or uuid.uuid4().hex
    now = timezone.now()
    if not user.has_perm("allocation.grab"):
        raise NotAllowed(_("You do not run this store."))
    window = window_open_if_due(window, now)
    if connection.vendor == "postgresql":
        try:
            answered = _first_come_statement(
                user, store, window.pk, goods_id, quantity, client_key, now
            )
        except IntegrityError:
            same = _same_request(window.pk, goods_id, store, client_key)
            if same is None:
                raise
            return same
        if answered is not None:
            return answered
    # one query: the pool with its window and policy, and whether the user runs the store
    mine = Store.objects.for_user(user).filter(pk=store.pk)
    pool = (
        GrabPool.objects.select_related("window__policy")
        .annotate(store_is_mine=Exists(mine))
        .filter(window_id=window.pk, goods_id=goods_id)
        .first()
    )
    if pool is None:
        window = GrabWindow.objects.get(pk=window.pk)
        is_mine = mine.exists()
    else:
        window, is_mine = pool.window, pool.store_is_mine
    if not is_mine:
        raise NotAllowed(_("You do not run this store."))
    if not _in_scope(window, store):
        raise NotAllowed(_("This window is not open to store %(code)s.") % {"code": store.code})
    if not window.is_grabbable(now):
        # a replayed submission after the close still gets its request back
        replay = GrabRequest.objects.filter(window_id=window.pk, client_key=client_key).first()
        if replay is not None:
            return replay
        raise WindowNotOpen(window.not_grabbable_reason(now))
    if pool is None:
        raise NotAllowed(_("This goods is not offered in this window."), field="goods")
    policy = window.policy
    request = GrabRequest(
        window=window,
        pool=pool,
        store=store,
        requested_by=user,
        quantity=quantity,
        client_key=client_key,
        created_at=now,
    )
    try:
        if window.mode == GrabWindow.Mode.AT_CLOSE:
            request.status = GrabRequest.Status.PENDING
            with transaction.atomic():
                _still_open(window.pk, now)
                request.save()
            return request
        _answer_first_come(request, pool, policy)
    except IntegrityError:
        # a concurrent double tap or second phone won: give its request back
        same = _same_request(window.pk, goods_id, store, client_key)
        if same is None:
            raise
        return same
    return request


def _still_open(window_id: int, now) -> None:
    """Inside the transaction that writes a pending request: re-read the window under a lock
    that the close and the cancel (which lock the window row FOR UPDATE before reading the
    pending requests) wait for, and raise WindowNotOpen if it has closed or been cancelled
    since it was read. So a pending request is either seen by the close that shares the pool or
    not written at all: never left waiting in a window already shared out. PostgreSQL: FOR
    SHARE (grabs do not wait for each other); SQLite: a no-op write takes the database's
    write lock first."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT status, opens_at, closes_at FROM {GrabWindow._meta.db_table} "  # noqa: S608
                "WHERE id = %s FOR SHARE",
                [window_id],
            )
            status, opens_at, closes_at = cursor.fetchone()
    else:
        GrabWindow.objects.filter(pk=window_id).update(status=F("status"))
        status, opens_at, closes_at = (
            GrabWindow.objects.filter(pk=window_id)
            .values_list("status", "opens_at", "closes_at")
            .get()
        )
    current = GrabWindow(status=status, opens_at=opens_at, closes_at=closes_at)
    if not current.is_grabbable(now):
        raise WindowNotOpen(current.not_grabbable_reason(now))


def _same_request(window_id: int, goods_id: int, store: Store, client_key: str):
    """The request a duplicate submission collided with: the same ``client_key`` (a double
    tap), or the store's live request for the goods (a second phone)."""
    same = GrabRequest.objects.filter(window_id=window_id, client_key=client_key).first()
    return (
        same
        or GrabRequest.objects.filter(
            window_id=window_id,
            pool__goods_id=goods_id,
            store=store,
            status__in=GrabRequest.ACTIVE,
        ).first()
    )


# How many grabs may wait at one pool's row at a time: each grab first takes one of this many
# per-pool advisory "slot" locks (chosen by its database connection), so the row's lock queue
# never grows beyond it however many clients grab; the others queue, bounded and in order, on
# their slot, and every request is still answered. A pool seen exhausted is refused without
# taking a slot or touching the row. Two (grab_hot_pool on 2 cores, full size, quiet machine,
# 32 vs 8 clients over 10,000 grabs each: 0.93-0.96x with 2, raw SQL 0.59x; an earlier
# machine, over 2,500-grab runs: 0.67-0.85x with 2, 0.67-0.68x with 4, 0.73x with 1).
POOL_WAITERS = 2
_SLOT_SPACE = advisory_key("allocation:grab-pool-slot") >> 32  # an int4 namespace

_FIRST_COME_SQL = """
WITH ctx AS (
    SELECT p.id AS pool_id, p.offered - p.granted AS left_seen, pol.cap_per_goods AS cap,
           LEAST(%(n)s, COALESCE(pol.cap_per_goods, %(n)s)) AS want
    FROM {pools} p
    JOIN {windows} w ON w.id = p.window_id
    JOIN {policies} pol ON pol.id = w.policy_id
    JOIN {stores} s ON s.id = %(store)s
    WHERE p.window_id = %(window)s AND p.goods_id = %(goods)s
      AND w.status = 'open' AND w.mode = 'first_come'
      AND w.opens_at <= %(now)s AND w.closes_at > %(now)s
      AND (w.scope = 'all' OR (w.scope = 'group' AND w.store_group = s."group"))
      AND s.is_active AND pol.min_sales = 0 AND pol.max_days_of_cover IS NULL
      AND (pol.cap_per_goods IS NULL OR pol.cap_per_goods > 0)
      AND pol.max_unreceived_days IS NULL AND pol.cap_per_window IS NULL
      AND {mine}
), gate AS (
    SELECT ctx.*, pg_advisory_xact_lock(%(space)s,
        ((ctx.pool_id %% 100000000) * %(slots)s + pg_backend_pid() %% %(slots)s)::int)
    FROM ctx WHERE ctx.left_seen >= ctx.want
), upd AS (
    UPDATE {pools} p SET granted = p.granted + gate.want
    FROM gate
    WHERE p.id = gate.pool_id AND p.is_open AND p.granted + gate.want <= p.offered
    RETURNING p.id AS pool_id, gate.want AS granted, p.offered - p.granted + gate.want AS left_before,
        gate.cap
), ans AS (
    SELECT pool_id, granted, left_before, cap FROM upd
    UNION ALL
    SELECT pool_id, 0, GREATEST(left_seen, 0), cap FROM ctx WHERE left_seen <= 0
), req AS (
    INSERT INTO {requests} (window_id, pool_id, store_id, requested_by_id, quantity, granted,
        status, reason_code, reason_params, client_key, created_at, answered_at)
    SELECT %(window)s, ans.pool_id, %(store)s, %(user)s, %(n)s, ans.granted,
        CASE WHEN ans.granted = %(n)s THEN 'granted'
             WHEN ans.granted > 0 THEN 'partial' ELSE 'refused' END,
        CASE WHEN ans.granted = %(n)s THEN %(code_granted)s
             WHEN ans.granted > 0 THEN %(code_cap)s ELSE %(code_exhausted)s END,
        CASE WHEN ans.granted > 0 AND ans.granted < %(n)s
             THEN jsonb_build_object('cap', ans.cap) ELSE '{{}}'::jsonb END,
        %(key)s, %(now)s, %(answered)s
    FROM ans
    RETURNING id, pool_id, granted, status, reason_code, reason_params
), dec AS (
    INSERT INTO {decisions} (request_id, rule, figures, result, granted, created_at)
    SELECT req.id, CASE WHEN req.reason_code = %(code_cap)s THEN 'cap_per_goods'
                        ELSE 'first_come' END,
        jsonb_build_object('requested', %(n)s, 'left_before', ans.left_before)
            || CASE WHEN ans.cap IS NULL THEN '{{}}'::jsonb
                    ELSE jsonb_build_object('goods_cap', ans.cap) END,
        req.status, req.granted, %(answered)s
    FROM req, ans
)
SELECT id, pool_id, granted, status, reason_code, reason_params FROM req
"""


def _first_come_statement(user, store, window_id, goods_id, quantity, client_key, now):
    """The one-statement first-come grab (see ``grab_request_submit``): the answered request,
    or None when the checked path must decide (nothing was written)."""
    mine, params = Store.objects.for_user_sql(user, "s.id")
    sql = _FIRST_COME_SQL.format(
        pools=GrabPool._meta.db_table,
        windows=GrabWindow._meta.db_table,
        policies=Policy._meta.db_table,
        stores=Store._meta.db_table,
        requests=GrabRequest._meta.db_table,
        decisions=GrabDecision._meta.db_table,
        mine=mine,
    )
    params.update(
        n=quantity,
        store=store.pk,
        window=window_id,
        goods=goods_id,
        user=user.pk,
        now=now,
        answered=timezone.now(),
        key=client_key,
        space=_SLOT_SPACE,
        slots=POOL_WAITERS,
        code_granted=reasons.GRANTED,
        code_cap=reasons.PARTIAL_CAP,
        code_exhausted=reasons.EXHAUSTED,
    )
    try:
        return _run_first_come(user, store, window_id, quantity, client_key, now, sql, params)
    except DatabaseError as error:
        # the session lost its prepared statement (a pooler's DISCARD ALL): prepare it again
        if getattr(error.__cause__, "pgcode", None) != _NO_SUCH_STATEMENT:
            raise
        _PREPARED.pop(connection.connection, None)
        return _run_first_come(user, store, window_id, quantity, client_key, now, sql, params)


def _run_first_come(user, store, window_id, quantity, client_key, now, sql, params):
    with_hooks = hooks.wants_answers()
    # alone (no hook) the statement is its own transaction; inside a caller's, a savepoint
    # keeps a duplicate's IntegrityError from poisoning it
    guard = (
        transaction.atomic()
        if with_hooks or connection.in_atomic_block
        else contextlib.nullcontext()
    )
    with guard:
        with connection.cursor() as cursor:
            row = _execute_prepared(cursor, sql, params)
        if row is None:
            return None
        request_id, pool_id, granted, status, code, reason_params = row
        if isinstance(reason_params, str):  # Django leaves jsonb undecoded on raw cursors
            reason_params = json.loads(reason_params)
        request = GrabRequest(
            pk=request_id,
            window_id=window_id,
            pool_id=pool_id,
            store=store,
            requested_by=user,
            quantity=quantity,
            granted=granted,
            status=status,
            reason_code=code,
            reason_params=reason_params,
            client_key=client_key,
            created_at=now,
            answered_at=params["answered"],
        )
        request._state.adding = False
        if with_hooks:
            hooks.answered([request])
    return request


# The statement is prepared once per database session (a session keeps it through rollbacks),
# so a connection that grabs again (persistent connections, workers) skips parsing and, once
# PostgreSQL settles on its generic plan, planning too. Keyed by the driver's connection.
_PREPARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_NO_SUCH_STATEMENT = "26000"
_PARAM = re.compile(r"%\((\w+)\)s")
_TYPES = {
    "n": "integer",
    "store": "bigint",
    "window": "bigint",
    "goods": "bigint",
    "user": "bigint",
    "scope_user": "bigint",
    "now": "timestamptz",
    "answered": "timestamptz",
    "key": "text",
    "space": "integer",
    "slots": "integer",
    "code_granted": "text",
    "code_cap": "text",
    "code_exhausted": "text",
}


@functools.lru_cache(maxsize=8)
def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """``sql`` with ``$1, $2...`` for its named parameters, and their names in that order."""
    names: list[str] = []

    def number(match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return _PARAM.sub(number, sql).replace("%%", "%"), tuple(names)


def _execute_prepared(cursor, sql: str, params: dict):
    """Run ``sql`` (named parameters) as a prepared statement of this session; its row."""
    positional, names = _positional(sql)
    statements = _PREPARED.setdefault(connection.connection, {})
    name = statements.get(positional)
    if name is None:
        name = f"allocation_grab_{len(statements)}"
        types = ", ".join(_TYPES[key] for key in names)
        cursor.execute(f"PREPARE {name} ({types}) AS {positional}")  # no parameters: sent as is
        statements[positional] = name
    cursor.execute(
        f"EXECUTE {name} ({', '.join(['%s'] * len(names))})", [params[key] for key in names]
    )
    return cursor.fetchone()


def _in_scope(window: GrabWindow, store: Store) -> bool:
    if window.scope == GrabWindow.Scope.GROUP:
        return store.group == window.store_group
    if window.scope == GrabWindow.Scope.LIST:
        return window.stores.filter(pk=store.pk).exists()
    return True


def _answer_first_come(request: GrabRequest, pool: GrabPool, policy) -> None:
    """Review and answer at once, in one transaction: refusal by eligibility, the per-goods
    cap (grants up to it), the per-window cap (under the store's advisory lock), then the
    pool (``_take``). The binding limit is the reason of a partial grant."""
    store = request.store
    figures = store_figures.EMPTY
    if policy.min_sales or policy.max_days_of_cover is not None:
        figures = store_figures.store_figures(
            policy=policy,
            store_ids=[store.pk],
            goods_ids=[pool.goods_id],
            with_on_hand=store_figures.needs_on_hand(policy),
        ).get((store.pk, pool.goods_id), store_figures.EMPTY)
    unreceived = store_figures.unreceived_for(policy, [store.pk])
    refusal = store_figures.eligibility(
        policy=policy, store=store, figures=figures, unreceived=unreceived
    )
    facts = {"requested": request.quantity, **figures.as_dict()}
    with transaction.atomic():
        granted = 0
        rule = "eligibility"
        code, params = refusal if refusal else ("", {})
        if refusal is None:
            want = request.quantity
            limited = None  # (rule, code, params) of the cap that cut the quantity
            if policy.cap_per_goods is not None:
                facts["goods_cap"] = policy.cap_per_goods
                if policy.cap_per_goods < want:
                    want = policy.cap_per_goods
                    limited = ("cap_per_goods", reasons.PARTIAL_CAP, {"cap": want})
            if policy.cap_per_window is not None:
                store_window_lock(request.window_id, store.pk)
                taken = (
                    GrabRequest.objects.filter(
                        window_id=request.window_id,
                        store=store,
                        status__in=[GrabRequest.Status.GRANTED, GrabRequest.Status.PARTIAL],
                    ).aggregate(n=Sum("granted"))["n"]
                    or 0
                )
                room = policy.cap_per_window - taken
                facts["window_cap"] = policy.cap_per_window
                facts["window_taken"] = taken
                if room < want:
                    want = max(room, 0)
                    limited = ("window_cap", reasons.WINDOW_CAP, {"cap": policy.cap_per_window})
            if want <= 0:
                rule, code, params = limited
            else:
                granted, left = _take(pool, want)
                facts["left_before"] = left
                if granted == 0:
                    rule, code, params = "first_come", reasons.EXHAUSTED, {}
                elif granted < want:
                    rule, code, params = "first_come", reasons.PARTIAL_LEFT, {"left": granted}
                elif granted == request.quantity:
                    rule, code, params = "first_come", reasons.GRANTED, {}
                else:
                    rule, code, params = limited
        if granted == request.quantity:
            status = GrabRequest.Status.GRANTED
        elif granted > 0:
            status = GrabRequest.Status.PARTIAL
        else:
            status = GrabRequest.Status.REFUSED
        request.status = status
        request.granted = granted
        request.reason_code = code
        request.reason_params = params
        request.answered_at = timezone.now()
        request.save()
        GrabDecision.objects.create(
            request=request, rule=rule, figures=facts, result=status, granted=granted
        )
        hooks.answered([request])


def _take(pool: GrabPool, want: int) -> tuple[int, int]:
    """Grant up to ``want`` from the pool: (granted, left before). A pool seen exhausted when
    the request read it is refused without touching its row; the full grant is one conditional
    UPDATE; only a partial grant locks the row to read what is left."""
    pool_id = pool.pk
    if not pool.is_open or pool.granted >= pool.offered:
        return 0, 0
    table = GrabPool._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET granted = granted + %s "  # noqa: S608 (table name is ours)
            "WHERE id = %s AND is_open AND granted + %s <= offered RETURNING offered - granted",
            [want, pool_id, want],
        )
        hit = cursor.fetchone()
        if hit is not None:
            return want, hit[0] + want
        # SQLite has no row locks (a write locks the database) and no FOR UPDATE
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        cursor.execute(
            f"SELECT offered - granted, is_open FROM {table} WHERE id = %s{lock}",  # noqa: S608
            [pool_id],
        )
        left, is_open = cursor.fetchone()
        if not is_open or left <= 0:
            return 0, max(left, 0)
        take = min(left, want)
        cursor.execute(
            f"UPDATE {table} SET granted = granted + %s WHERE id = %s",  # noqa: S608
            [take, pool_id],
        )
        return take, left


def grab_request_cancel(*, user, request_id: int) -> GrabRequest:
    """Cancel a pending request (priority at close) of one of the user's stores, before the
    close shares the pool and before its closing time: compare-and-set pending -> cancelled. A
    granted, refused or already shared request is refused with the reason, and so is a pending
    one past the closing time; cancelling twice is harmless."""
    stores = Store.objects.for_user(user)
    request = GrabRequest.objects.filter(pk=request_id, store__in=stores).first()
    if request is None:
        raise NotAllowed(_("No such request for your stores."))
    if request.status == GrabRequest.Status.CANCELLED:
        return request
    with transaction.atomic():
        window = GrabWindow.objects.select_for_update().get(pk=request.window_id)
        if request.status == GrabRequest.Status.PENDING and not window.is_grabbable():
            # past the closing time the requests are the close's, even before it has run
            raise InvalidState(_("This window has closed."))
        done = GrabRequest.objects.filter(pk=request.pk, status=GrabRequest.Status.PENDING).update(
            status=GrabRequest.Status.CANCELLED,
            reason_code=reasons.CANCELLED,
            answered_at=timezone.now(),
        )
        if not done or window.status != GrabWindow.Status.OPEN:
            if done:
                raise InvalidState(_("The window has closed: the request was already decided."))
            raise InvalidState(_("Only a request still waiting for the close can be cancelled."))
        request.refresh_from_db()
        return request
