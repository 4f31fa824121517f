"""Grab windows: create (and open at once when due), open (reserve each pool in the ledger,
first-expiry-first), cancel (unreserve everything, answer live requests), and the next window
of a recurring one."""

from __future__ import annotations

import datetime
import functools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from allocation import hooks, reasons
from allocation.exceptions import AllocationError, InvalidQuantity, InvalidState, NotAllowed
from allocation.models import (
    GrabDecision,
    GrabPool,
    GrabPoolLine,
    GrabRequest,
    GrabWindow,
    Policy,
    Store,
)
from inventory import ledger
from inventory.exceptions import InsufficientStock
from inventory.models import Goods, StockBalance

DOCUMENT_TYPE = "grab_window"
MAX_OFFER = 10_000_000


@dataclass(frozen=True)
class Offer:
    goods: Goods
    quantity: int


def document(window: GrabWindow) -> ledger.Document:
    return ledger.Document(type=DOCUMENT_TYPE, id=window.pk, ref=window.ref)


def window_create(
    *,
    name: str,
    warehouse,
    policy: Policy,
    mode: str,
    opens_at: datetime.datetime,
    closes_at: datetime.datetime,
    scope: str,
    offers: Sequence[Offer],
    user,
    stores: Sequence[Store] = (),
    store_group: str = "",
    recurs: bool = False,
    seed: int | None = None,
    client_key: str = "",
) -> GrabWindow:
    """Create a window with its pools; when ``opens_at`` has come, open it in the same
    transaction (reserving the stock; ``InsufficientStock`` refuses the whole window). Raises
    AllocationError for bad times, an empty or repeated goods list, a bad quantity, an
    inactive warehouse or goods, an empty store list or group. ``client_key`` (the window
    form's token): the window already made with it is returned as it is, nothing made or
    reserved again (a double click makes one window)."""
    client_key = (client_key or "").strip()[:64]
    if client_key:
        same = GrabWindow.objects.filter(client_key=client_key).first()
        if same is not None:
            return same
    now = timezone.now()
    name = (name or "").strip()
    if mode not in GrabWindow.Mode.values:
        raise AllocationError(_("Choose first come or priority at close."), field="mode")
    if not warehouse.is_active:
        raise NotAllowed(_("Warehouse %(code)s is inactive.") % {"code": warehouse.code})
    _check_plan(name, opens_at, closes_at, now, offers, scope, stores, store_group)
    with transaction.atomic():
        try:
            with transaction.atomic():
                window = GrabWindow.objects.create(
                    name=name,
                    warehouse=warehouse,
                    policy=policy,
                    mode=mode,
                    opens_at=opens_at,
                    closes_at=closes_at,
                    scope=scope,
                    store_group=store_group.strip() if scope == GrabWindow.Scope.GROUP else "",
                    seed=seed if seed is not None else secrets.randbelow(2**31),
                    recurs=recurs,
                    created_by=user,
                    client_key=client_key,
                )
        except IntegrityError:
            # the same form sent at the same moment: the other submission made the window
            same = GrabWindow.objects.filter(client_key=client_key).first() if client_key else None
            if same is None:
                raise
            return same
        if scope == GrabWindow.Scope.LIST:
            window.stores.set(stores)
        GrabPool.objects.bulk_create(
            [GrabPool(window=window, goods=o.goods, offered=o.quantity) for o in offers]
        )
        if opens_at <= now:
            window_open(window_id=window.pk, user=user, strict=True)
            window.refresh_from_db()
        return window


def _check_plan(name, opens_at, closes_at, now, offers, scope, stores, store_group) -> None:
    """The checks a window's plan passes when created and when an upcoming one is changed."""
    if not name:
        raise AllocationError(_("Give the window a name."), field="name")
    if closes_at <= opens_at:
        raise AllocationError(_("The window must close after it opens."), field="closes_at")
    if closes_at <= now:
        raise AllocationError(_("The closing time has already passed."), field="closes_at")
    if not offers:
        raise AllocationError(_("Offer at least one goods."), field="offers")
    seen = set()
    for offer in offers:
        if offer.goods.pk in seen:
            raise AllocationError(
                _("%(sku)s is offered twice.") % {"sku": offer.goods.sku}, field="offers"
            )
        seen.add(offer.goods.pk)
        check_quantity(offer.quantity, limit=MAX_OFFER)
        if not offer.goods.is_active or offer.goods.is_combo:
            raise NotAllowed(
                _("%(sku)s cannot be offered: it is inactive or a combo.")
                % {"sku": offer.goods.sku}
            )
    if scope not in GrabWindow.Scope.values:
        raise AllocationError(_("Choose which stores may grab."), field="scope")
    if scope == GrabWindow.Scope.LIST and not stores:
        raise AllocationError(_("Choose the stores that may grab."), field="stores")
    if scope == GrabWindow.Scope.GROUP and not store_group.strip():
        raise AllocationError(_("Name the store group that may grab."), field="store_group")


def window_edit(
    *,
    window_id: int,
    user,
    closes_at: datetime.datetime,
    offers: Sequence[Offer],
    name: str | None = None,
    opens_at: datetime.datetime | None = None,
    scope: str | None = None,
    stores: Sequence[Store] | None = None,
    store_group: str | None = None,
) -> GrabWindow:
    """Change a window after its creation. Upcoming (not yet open, nothing reserved): its name,
    times, eligible stores and goods with their quantities (``offers`` is the new list: goods
    left out are no longer offered); when the new opening time has come it opens at once,
    reserving the new quantities. Open: only the closing time (later or earlier, not past) and
    more of an offered goods (``offers`` with each pool's new total, at least what it offers
    now: the extra is reserved first-expiry-first; ``InsufficientStock`` refuses it all); any
    other change is refused with the reason. Closed or cancelled: refused. ``None`` keeps a
    field as it is. Locks the window row, then its pools, then (through the ledger) balances."""
    now = timezone.now()
    with transaction.atomic():
        window = GrabWindow.objects.select_for_update().get(pk=window_id)
        if window.status in (GrabWindow.Status.CLOSED, GrabWindow.Status.CANCELLED):
            raise InvalidState(_("A closed or cancelled window cannot be changed."))
        name = window.name if name is None else (name or "").strip()
        if window.status == GrabWindow.Status.SCHEDULED:
            return _edit_upcoming(
                window,
                user,
                now,
                name=name,
                opens_at=window.opens_at if opens_at is None else opens_at,
                closes_at=closes_at,
                scope=window.scope if scope is None else scope,
                stores=list(window.stores.all()) if stores is None else list(stores),
                store_group=window.store_group if store_group is None else store_group,
                offers=offers,
            )
        frozen = _("The window is open: only its closing time and more quantity can be changed.")
        if opens_at is not None and opens_at != window.opens_at:
            raise InvalidState(frozen, field="opens_at")
        if scope is not None and scope != window.scope:
            raise InvalidState(frozen, field="scope")
        if stores is not None and {s.pk for s in stores} != set(
            window.stores.values_list("pk", flat=True)
        ):
            raise InvalidState(frozen, field="stores")
        if store_group is not None and store_group.strip() != window.store_group:
            raise InvalidState(frozen, field="store_group")
        if not name:
            raise AllocationError(_("Give the window a name."), field="name")
        if closes_at <= window.opens_at:
            raise AllocationError(_("The window must close after it opens."), field="closes_at")
        if closes_at <= now:
            raise AllocationError(_("The closing time has already passed."), field="closes_at")
        _add_quantities(window, user, offers)
        window.name = name
        window.closes_at = closes_at
        window.save(update_fields=["name", "closes_at"])
        return window


def _edit_upcoming(
    window, user, now, *, name, opens_at, closes_at, scope, stores, store_group, offers
):
    _check_plan(name, opens_at, closes_at, now, offers, scope, stores, store_group)
    window.name = name
    window.opens_at = opens_at
    window.closes_at = closes_at
    window.scope = scope
    window.store_group = store_group.strip() if scope == GrabWindow.Scope.GROUP else ""
    window.save(update_fields=["name", "opens_at", "closes_at", "scope", "store_group"])
    window.stores.set(stores if scope == GrabWindow.Scope.LIST else [])
    pools = {p.goods_id: p for p in window.pools.select_for_update().order_by("pk")}
    wanted = {o.goods.pk: o.quantity for o in offers}
    GrabPool.objects.filter(window=window).exclude(goods_id__in=list(wanted)).delete()
    for goods_id, quantity in wanted.items():
        pool = pools.get(goods_id)
        if pool is None:
            GrabPool.objects.create(window=window, goods_id=goods_id, offered=quantity)
        elif pool.offered != quantity:
            pool.offered = quantity
            pool.save(update_fields=["offered"])
    if opens_at <= now:
        window_open(window_id=window.pk, user=user, strict=True)
        window.refresh_from_db()
    return window


def _add_quantities(window: GrabWindow, user, offers: Sequence[Offer]) -> None:
    """More of the goods an open window offers: reserve each pool's extra and record it."""
    pools = {p.goods_id: p for p in window.pools.select_for_update().order_by("pk")}
    wanted = {}
    for offer in offers:
        check_quantity(offer.quantity, limit=MAX_OFFER)
        pool = pools.get(offer.goods.pk)
        if pool is None:
            raise InvalidState(
                _(
                    "%(sku)s is not offered in this open window: only more of its goods can be added."
                )
                % {"sku": offer.goods.sku},
                field="offers",
            )
        if offer.quantity < pool.offered:
            raise InvalidState(
                _(
                    "%(sku)s: an open window cannot offer less than %(n)s (stores may have grabbed it)."
                )
                % {"sku": offer.goods.sku, "n": pool.offered},
                field="offers",
            )
        wanted[pool.goods_id] = offer.quantity
    missing = [p for goods_id, p in pools.items() if goods_id not in wanted and p.offered > 0]
    if missing:
        raise InvalidState(
            _("An open window cannot stop offering %(sku)s.") % {"sku": missing[0].goods.sku},
            field="offers",
        )
    lines = []
    for goods_id, quantity in wanted.items():
        pool = pools[goods_id]
        extra = quantity - pool.offered
        if extra <= 0:
            continue
        posting = ledger.reserve_fefo(
            balance_ids=_pool_balance_ids(window, goods_id),
            quantity=extra,
            document=document(window),
            operator=user,
            reason=window.name[:200],
            idempotency_key=f"grab-window-{window.pk}-pool-{pool.pk}-to-{quantity}",
        )
        for balance_id, units in posting.quantities().items():
            lines.append(GrabPoolLine(pool=pool, balance_id=balance_id, quantity=units))
        pool.offered = quantity
        pool.is_open = True
        pool.save(update_fields=["offered", "is_open"])
    GrabPoolLine.objects.bulk_create(lines)


def _pool_balance_ids(window: GrabWindow, goods_id: int) -> list[int]:
    """The balances a pool may reserve from: the source warehouse's unexpired stock."""
    today = timezone.localdate()
    return list(
        StockBalance.objects.filter(
            warehouse_id=window.warehouse_id, goods_id=goods_id, on_hand__gt=0
        )
        .filter(
            Q(batch__isnull=True)
            | Q(batch__expiry_date__isnull=True)
            | Q(batch__expiry_date__gte=today)
        )
        .values_list("pk", flat=True)
    )


def check_quantity(quantity: object, *, limit: int = MAX_OFFER, field: str = "quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidQuantity(_("Enter a whole number of units."), field=field)
    if quantity <= 0:
        raise InvalidQuantity(_("Enter a quantity above zero."), field=field)
    if quantity > limit:
        raise InvalidQuantity(_("At most %(n)s units.") % {"n": limit}, field=field)
    return quantity


def window_open(
    *, window_id: int, user=None, strict: bool = False, due_by: datetime.datetime | None = None
) -> GrabWindow:
    """Open a scheduled window: reserve each pool's quantity in the source warehouse,
    first-expiry-first over unexpired balances (``ledger.reserve_fefo``), record which balances
    hold it, mark the pools open. ``strict`` raises ``InsufficientStock`` when a pool cannot be
    filled; otherwise (the beat task) the pool offers what could be reserved, and a window with
    nothing at all is cancelled. Idempotent: an already open window is returned unchanged.
    ``due_by`` (the beat, which picked the window as due at that time): a window whose opening
    time, read under the lock, is after it (put off meanwhile) is returned unchanged.
    A recurring window schedules its next one first, from its plan (the quantities offered
    before what this opening can reserve), so a short day neither shrinks nor ends the series.
    Locks the window row, then the ledger locks the balances."""
    with transaction.atomic():
        window = GrabWindow.objects.select_for_update().get(pk=window_id)
        if window.status != GrabWindow.Status.SCHEDULED:
            return window
        if due_by is not None and window.opens_at > due_by:
            return window
        window_schedule_next(window)
        lines = []
        pools = list(window.pools.select_for_update().order_by("pk"))
        for pool in pools:
            balance_ids = _pool_balance_ids(window, pool.goods_id)
            free = (
                sum(max(b.available, 0) for b in StockBalance.objects.filter(pk__in=balance_ids))
                if not strict
                else pool.offered
            )
            quantity = min(pool.offered, free)
            posting = _reserve_opening(window, pool, balance_ids, quantity, user, strict)
            if posting is None:
                pool.offered = 0
                continue
            reserved = posting.quantities()
            for balance_id, units in reserved.items():
                lines.append(GrabPoolLine(pool=pool, balance_id=balance_id, quantity=units))
            pool.offered = sum(reserved.values())
        if not lines:
            if strict:
                raise NotAllowed(_("Nothing of the offered goods is available to reserve."))
            window.status = GrabWindow.Status.CANCELLED
            window.closed_at = timezone.now()
            window.save(update_fields=["status", "closed_at"])
            return window
        GrabPoolLine.objects.bulk_create(lines)
        for pool in pools:
            pool.is_open = pool.offered > 0
        GrabPool.objects.bulk_update(pools, ["offered", "is_open"])
        window.status = GrabWindow.Status.OPEN
        window.opened_at = timezone.now()
        window.save(update_fields=["status", "opened_at"])
        return window


def _reserve_opening(window, pool, balance_ids, quantity, user, strict):
    """Reserve ``quantity`` of a pool at its window's opening (None: nothing to reserve). Not
    strict (the beat, a grab at the opening second): stock that left between the count of what
    is free and the ledger's lock is no refusal, what is free now is reserved instead."""
    if quantity <= 0:
        return None
    reserve = functools.partial(
        ledger.reserve_fefo,
        balance_ids=balance_ids,
        document=document(window),
        operator=user,
        reason=window.name[:200],
        idempotency_key=f"grab-window-{window.pk}-open-{pool.pk}",
    )
    try:
        return reserve(quantity=quantity)
    except InsufficientStock:
        if strict:
            raise
    try:
        return reserve(quantity=None)  # everything free now, under the ledger's lock
    except InsufficientStock:
        return None


def window_open_if_due(window: GrabWindow, now=None) -> GrabWindow:
    """``window`` as it is, unless it is upcoming with its opening time come (the beat opens
    due windows only once a minute): then it is opened now, as the beat would
    (``window_open``, idempotent under the window row lock, so many phones at the opening
    second open it once), and returned re-read. So a window takes grabs from its opening
    second."""
    if window.status != GrabWindow.Status.SCHEDULED or not window.has_opened(now):
        return window
    window_open(window_id=window.pk)
    return GrabWindow.objects.select_related("policy", "warehouse").get(pk=window.pk)


def release_pool_lines(window: GrabWindow, user, key_suffix: str) -> None:
    """Unreserve what the pools still hold beyond what went to orders (one ledger posting) and
    record it on the pool lines. Caller holds the window row lock."""
    lines = list(
        GrabPoolLine.objects.filter(pool__window=window)
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    holds = []
    for line in lines:
        rest = line.quantity - line.assigned - line.released
        if rest > 0:
            holds.append(ledger.Hold(balance_id=line.balance_id, quantity=rest))
            line.released += rest
    if holds:
        ledger.unreserve(
            holds=holds,
            document=document(window),
            operator=user,
            reason=window.name[:200],
            idempotency_key=f"grab-window-{window.pk}-{key_suffix}",
        )
        GrabPoolLine.objects.bulk_update(lines, ["released"])


def window_cancel(*, window_id: int, user) -> GrabWindow:
    """Cancel an upcoming or open window: unreserve its stock, answer live requests as refused
    (window cancelled), each with its append-only decision (rule ``window_cancelled``, the
    quantity requested and what had been granted) and through ``allocation.hooks``
    ``grab_answered``, like any answer. A closed window is refused (its orders exist); a
    cancelled one is returned unchanged."""
    with transaction.atomic():
        window = GrabWindow.objects.select_for_update().get(pk=window_id)
        if window.status == GrabWindow.Status.CANCELLED:
            return window
        if window.status == GrabWindow.Status.CLOSED:
            raise InvalidState(_("This window is closed: cancel its orders instead."))
        list(window.pools.select_for_update().order_by("pk"))
        window.pools.update(is_open=False)
        now = timezone.now()
        live = list(
            GrabRequest.objects.filter(window=window, status__in=GrabRequest.ACTIVE).order_by("pk")
        )
        GrabRequest.objects.filter(pk__in=[r.pk for r in live]).update(
            status=GrabRequest.Status.REFUSED,
            granted=0,
            reason_code=reasons.WINDOW_CANCELLED,
            reason_params={},
            answered_at=now,
        )
        GrabDecision.objects.bulk_create(
            [
                GrabDecision(
                    request_id=r.pk,
                    rule="window_cancelled",
                    figures={"requested": r.quantity, "granted_before": r.granted},
                    result=GrabRequest.Status.REFUSED,
                    granted=0,
                    created_at=now,
                )
                for r in live
            ]
        )
        for r in live:
            r.status, r.granted, r.reason_code = (
                GrabRequest.Status.REFUSED,
                0,
                reasons.WINDOW_CANCELLED,
            )
            r.reason_params, r.answered_at = {}, now
        hooks.answered(live)
        window.pools.update(granted=0)
        release_pool_lines(window, user, "cancel")
        window.status = GrabWindow.Status.CANCELLED
        window.closed_at = now
        window.save(update_fields=["status", "closed_at"])
        return window


def next_opening(window: GrabWindow) -> datetime.datetime | None:
    """When the next window of a recurring one opens, by the policy's cycle (None on demand):
    the same local time (``TIME_ZONE``, the stores' clock) on the next day or the next of the
    policy's weekdays, counted in local days, so a Monday 09:00 window stays on Monday 09:00
    whatever the UTC date and across a change of daylight saving."""
    policy = window.policy
    opens = timezone.localtime(window.opens_at)  # aware arithmetic below keeps the wall time
    if policy.cycle == Policy.Cycle.DAILY:
        return opens + datetime.timedelta(days=1)
    if policy.cycle == Policy.Cycle.WEEKLY:
        days = policy.weekday_list() or [opens.weekday()]
        for step in range(1, 8):
            candidate = opens + datetime.timedelta(days=step)
            if candidate.weekday() in days:
                return candidate
    return None


def window_schedule_next(window: GrabWindow) -> GrabWindow | None:
    """The next window of a recurring one (same pools, times shifted by the cycle), scheduled;
    None when it does not recur or already has its next one. Called when the window opens
    (before its pools are cut to what could be reserved) and again at its close (a no-op
    then). Caller holds the window lock."""
    if not window.recurs or window.next_window_id:
        return None
    opens = next_opening(window)
    if opens is None:
        return None
    shift = opens - window.opens_at
    nxt = GrabWindow.objects.create(
        name=window.name,
        warehouse_id=window.warehouse_id,
        policy_id=window.policy_id,
        mode=window.mode,
        opens_at=opens,
        closes_at=window.closes_at + shift,
        scope=window.scope,
        store_group=window.store_group,
        seed=secrets.randbelow(2**31),
        recurs=True,
        created_by_id=window.created_by_id,
    )
    if window.scope == GrabWindow.Scope.LIST:
        nxt.stores.set(window.stores.all())
    GrabPool.objects.bulk_create(
        [GrabPool(window=nxt, goods_id=p.goods_id, offered=p.offered) for p in window.pools.all()]
    )
    window.next_window = nxt
    window.save(update_fields=["next_window"])
    return nxt
