"""Grab requests: a store manager asks for a quantity of one pool's goods.

First come: the request is reviewed at once (``grab_request_submit``) against the store's
eligibility, the policy's caps and what is left, and answered granted, partly granted or
refused with the reason; one append-only ``GrabDecision`` records the rule and the figures.
The pool counter is a hot row: the grant is one conditional
``UPDATE ... SET granted = granted + n WHERE id = %s AND is_open AND granted + n <= offered``
(the statement takes the row lock and nothing else is waited for while it is held). Only when
that fails does the grab lock the row to take what is left (a partial grant). A pool seen
exhausted is refused without touching its row, so late grabs never queue on its lock.

At close: the request is validated and stored as pending; ``close.window_close`` shares.

Idempotent: a ``client_key`` (the grab form's token) makes a double tap one request; a second
phone of the same store gets the store's live request for that goods back (one live request
per store and goods in a window, a unique constraint). Either way nothing is granted twice.
"""

from __future__ import annotations

import contextlib
import json
import uuid

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from allocation import reasons
from allocation.exceptions import InvalidState, NotAllowed, WindowNotOpen  # noqa: F401
from allocation.locks import store_window_lock
from allocation.models import GrabDecision, GrabPool, GrabRequest, GrabWindow, Store
from allocation.services import stores as store_figures
from allocation.services.windows import check_quantity

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
    closed or cancelled one, InvalidQuantity for a zero, negative, fractional or above-cap
    quantity, NotAllowed for goods not in the pool; a refused submission writes nothing.
    Returns the existing request for a replayed ``client_key`` or a store's second live
    request for the same goods."""
    check_quantity(quantity, limit=MAX_GRAB)
    client_key = (client_key or "").strip()[:64] or uuid.uuid4().hex
    now = timezone.now()
    if not user.has_perm("allocation.grab"):
        raise NotAllowed(_("You do not run this store."))
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
        if window.status == GrabWindow.Status.CANCELLED:
            raise WindowNotOpen(_("This window was cancelled."))
        if window.status == GrabWindow.Status.CLOSED or now >= window.closes_at:
            raise WindowNotOpen(_("This window has closed."))
        raise WindowNotOpen(_("This window is not open yet."))
    if pool is None:
        raise NotAllowed(_("This goods is not offered in this window."), field="goods")
    policy = window.policy
    if policy.cap_per_goods is not None and quantity > policy.cap_per_goods:
        raise NotAllowed(
            _("At most %(cap)s units of this goods per store in a window.")
            % {"cap": policy.cap_per_goods},
            field="quantity",
        )
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
                request.save()
            return request
        _answer_first_come(request, pool, policy)
    except IntegrityError:
        # a concurrent double tap or second phone won: give its request back
        same = GrabRequest.objects.filter(window=window, client_key=client_key).first()
        same = (
            same
            or GrabRequest.objects.filter(
                pool=pool, store=store, status__in=GrabRequest.ACTIVE
            ).first()
        )
        if same is None:
            raise
        return same
    return request


def _in_scope(window: GrabWindow, store: Store) -> bool:
    if window.scope == GrabWindow.Scope.GROUP:
        return store.group == window.store_group
    if window.scope == GrabWindow.Scope.LIST:
        return window.stores.filter(pk=store.pk).exists()
    return True


def _answer_first_come(request: GrabRequest, pool: GrabPool, policy) -> None:
    """Review and answer at once, in one transaction: refusal by eligibility, the per-window
    cap (under the store's advisory lock), then the pool's conditional UPDATE."""
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
    if (
        refusal is None
        and policy.cap_per_window is None
        and pool.is_open
        and pool.offered - pool.granted >= request.quantity
        and _grant_in_full(request, pool, facts)
    ):
        return
    with transaction.atomic():
        granted = 0
        rule = "eligibility"
        code, params = refusal if refusal else ("", {})
        if refusal is None:
            want = request.quantity
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
                if room <= 0:
                    rule, code, params = (
                        "window_cap",
                        reasons.WINDOW_CAP,
                        {"cap": policy.cap_per_window},
                    )
                    want = 0
                elif room < want:
                    want = room
                    rule, code, params = (
                        "window_cap",
                        reasons.WINDOW_CAP,
                        {"cap": policy.cap_per_window},
                    )
            if want > 0:
                granted, left = _take(pool, want)
                facts["left_before"] = left
                if granted == 0:
                    rule, code, params = "first_come", reasons.EXHAUSTED, {}
                elif granted < want:
                    rule, code, params = "first_come", reasons.PARTIAL_LEFT, {"left": granted}
                elif granted == request.quantity:
                    rule, code, params = "first_come", reasons.GRANTED, {}
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


def _grant_in_full(request: GrabRequest, pool: GrabPool, facts: dict) -> bool:
    """The hot path: one statement (atomic on its own) moves the pool counter with the
    conditional UPDATE and, only when it matched, inserts the granted request and its decision.
    False (nothing written) when the pool no longer holds the quantity: the caller then takes
    the locked path for a partial grant or a refusal. A duplicate (double tap, second phone)
    raises IntegrityError from the unique constraints and the whole statement is undone."""
    now = timezone.now()
    pools = GrabPool._meta.db_table
    requests = GrabRequest._meta.db_table
    decisions = GrabDecision._meta.db_table
    sql = f"""
        WITH upd AS (
            UPDATE {pools} SET granted = granted + %(n)s
            WHERE id = %(pool)s AND is_open AND granted + %(n)s <= offered
            RETURNING offered - granted + %(n)s AS left_before
        ), req AS (
            INSERT INTO {requests} (window_id, pool_id, store_id, requested_by_id, quantity,
                granted, status, reason_code, reason_params, client_key, created_at, answered_at)
            SELECT %(window)s, %(pool)s, %(store)s, %(user)s, %(n)s, %(n)s, %(status)s,
                %(code)s, '{{}}'::jsonb, %(key)s, %(created)s, %(now)s
            FROM upd
            RETURNING id
        ), dec AS (
            INSERT INTO {decisions} (request_id, rule, figures, result, granted, created_at)
            SELECT req.id, 'first_come',
                %(facts)s::jsonb || jsonb_build_object('left_before', upd.left_before),
                %(status)s, %(n)s, %(now)s
            FROM req, upd
        )
        SELECT req.id, upd.left_before FROM req, upd
    """  # noqa: S608 (table names are ours)
    params = {
        "n": request.quantity,
        "pool": pool.pk,
        "window": request.window_id,
        "store": request.store_id,
        "user": request.requested_by_id,
        "status": GrabRequest.Status.GRANTED,
        "code": reasons.GRANTED,
        "key": request.client_key,
        "created": request.created_at,
        "now": now,
        "facts": json.dumps(facts),
    }
    if connection.vendor != "postgresql":
        return False
    # alone, the statement is its own transaction; inside a caller's, a savepoint keeps a
    # duplicate's IntegrityError from poisoning it
    guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    with guard, connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    request.pk = row[0]
    request.granted = request.quantity
    request.status = GrabRequest.Status.GRANTED
    request.reason_code = reasons.GRANTED
    request.reason_params = {}
    request.answered_at = now
    return True


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
        cursor.execute(
            f"SELECT offered - granted, is_open FROM {table} WHERE id = %s FOR UPDATE",  # noqa: S608
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
    close shares the pool: compare-and-set pending -> cancelled. A granted, refused or already
    shared request is refused with the reason; cancelling twice is harmless."""
    stores = Store.objects.for_user(user)
    request = GrabRequest.objects.filter(pk=request_id, store__in=stores).first()
    if request is None:
        raise NotAllowed(_("No such request for your stores."))
    if request.status == GrabRequest.Status.CANCELLED:
        return request
    with transaction.atomic():
        window = GrabWindow.objects.select_for_update().get(pk=request.window_id)
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
