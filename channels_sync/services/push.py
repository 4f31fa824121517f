"""Stock push: drain a shop's stock outbox to its platform in the platform's batch sizes.

``shop_push(shop_id, trigger=...)`` — the one entry point (auto drain, manual "push now",
nightly full push). Contract:
- Runs under the advisory lock ``channels_sync.push:<shop>``: one push per shop at a time (a
  second caller returns ``None`` at once; its rows stay pending for the running push or the
  next tick).
- Rows a dead worker left SENDING for longer than ``STALE_AFTER`` are dealt with first. Where
  the adapter is ``safe_replay`` (Shopify, the REST contract: idempotency key and
  compare-and-set) they are re-sent as the very same request with the same key (stored on the
  rows before the call), so the platform replays it rather than applying it twice, and refuses
  it where a newer quantity went out since. Elsewhere (eBay, Kogan: no compare-and-set) the old
  request would overwrite a newer quantity, so the rows go back to PENDING and the goods are
  recomputed and sent now. A shop inactive or with its push off sends nothing: its rows go
  back to PENDING for when it is on again.
- Claims PENDING rows past their backoff (``FOR UPDATE SKIP LOCKED``) a few batches' worth at
  a time; each claim first locks the shop row ``FOR SHARE`` and re-reads the shop's switches,
  share, safety stock and bindings, so a binding or settings change committed meanwhile is
  what the claim computes with (and a shop switched off claims nothing more); it then waits
  for the postings still in flight on the claimed goods (``FOR SHARE`` on their balances:
  ``_wait_for_postings``), computes the affected listings' sellable quantities in
  bulk (selectors.listing_sellable: one query for balances, one for combos), plans them into
  batches and stores on the rows, in the claiming statement, the planned requests (key,
  quantities) — then calls the platform, no network inside a transaction. ``_Pipeline``: one
  call in flight per shop; the next batch's claim and the previous batch's sync records run
  while it is in flight; a batch may span two claims, so the calls are exactly
  ceil(listings / batch size).
- Compare-and-set: each quantity carries the value we last pushed; a stale answer re-reads the
  platform and recomputes from the database, so an older quantity never overwrites a newer one.
  A listing unlinked or deleted before its retry is not pushed: its sync record says so, and
  its round settles like the others.
- Every listing pushed gets a ``SyncRecord`` (inputs, quantity sent, previous platform value,
  trigger, success or failure with the platform's message): one multi-row INSERT per batch,
  with the listings' last pushed quantity in the same statement. Rows of fully pushed goods are
  deleted in one statement per claim; the others go back to PENDING with ``attempts`` + 1 and
  wait a backoff (a failure stops further claims; what was claimed still goes out).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_sync import adapters
from channels_sync.adapters.base import LevelResult, LevelUpdate, PlatformAdapter
from channels_sync.adapters.http import PlatformError
from channels_sync.exceptions import ChannelError
from channels_sync.hooks import mark_goods_dirty
from channels_sync.models import Listing, OutboxItem, Shop, SyncRecord
from channels_sync.selectors import (
    BindingState,
    binding_state,
    listing_sellable,
    listings_for_goods,
)
from inventory.locks import wait_for_goods_postings
from wms.locks import advisory_lock

logger = logging.getLogger(__name__)

# A SENDING row older than this was left by a dead worker (a live push finishes a batch in
# seconds: calls time out after 10 s, retries are capped).
STALE_AFTER = timedelta(seconds=int(os.environ.get("WMS_PUSH_STALE_SECONDS", "600")))
# Goods claimed at a time: a few batches' worth (the next claim runs while a call is in flight).
CLAIM_BATCHES = 2
CLAIM_MIN = 200
CAS_ROUNDS = 3
MAX_BACKOFF = timedelta(minutes=30)


@dataclass
class PushSummary:
    listings: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0  # unlinked or deleted while the push ran: nothing to send
    calls: int = 0
    errors: list[str] = field(default_factory=list)


def _backoff(attempts: int) -> timedelta:
    return min(MAX_BACKOFF, timedelta(seconds=15 * (2 ** max(0, attempts - 1))))


def shop_push_now(*, shop: Shop, goods_ids: list[int] | None, user) -> int:
    """Manual "push now": mark the goods (or every matched goods of the shop) dirty with the
    manual flag; the push task sends them. Returns the number of goods queued. Raises
    ``ChannelError`` when the shop is inactive or its stock push is off."""
    if not shop.is_active or not shop.is_stock_push_enabled:
        raise ChannelError(_("Stock push is off for this shop: switch it on first."))
    if goods_ids is None:
        goods_ids = shop_goods_ids(shop)
    with transaction.atomic():
        mark_goods_dirty(goods_ids, shop_ids=[shop.pk], manual=True)
        OutboxItem.objects.filter(
            shop=shop, goods_id__in=list(goods_ids), status=OutboxItem.Status.PENDING
        ).update(is_manual=True, attempts=0)
    return len(goods_ids)


def goods_behind(goods_ids: list[int]) -> list[int]:
    """The goods whose stock moves these goods' quantity: combos are replaced by components."""
    from inventory.models import ComboComponent

    parts = dict(
        ComboComponent.objects.filter(combo_id__in=list(goods_ids)).values_list(
            "combo_id", "component_id"
        )
    )
    found = set(goods_ids) - set(parts)
    found |= set(
        ComboComponent.objects.filter(combo_id__in=list(parts)).values_list(
            "component_id", flat=True
        )
    )
    return sorted(found)


def shop_goods_ids(shop: Shop) -> list[int]:
    """Goods behind the shop's matched listings, combos expanded to their components."""
    from inventory.models import ComboComponent

    goods = set(
        Listing.objects.filter(shop=shop, goods__isnull=False)
        .exclude(status=Listing.Status.DELETED)
        .values_list("goods_id", flat=True)
    )
    goods |= set(
        ComboComponent.objects.filter(combo_id__in=list(goods)).values_list(
            "component_id", flat=True
        )
    )
    return sorted(goods)


def shop_push(
    shop_id: int,
    *,
    trigger: str = SyncRecord.Trigger.AUTO,
    user_id: int | None = None,
    adapter: PlatformAdapter | None = None,
) -> PushSummary | None:
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        return None
    with advisory_lock(f"channels_sync.push:{shop_id}") as acquired:
        if not acquired:
            return None
        own = adapter is None
        adapter = adapter or adapters.for_shop(shop)
        summary = PushSummary()
        try:
            _resend_stale(shop, adapter, summary, user_id)  # refreshes the shop's switches
            if shop.is_active and shop.is_stock_push_enabled:
                _Pipeline(shop, adapter, summary, trigger, user_id).run()
        finally:
            summary.calls = adapter.calls
            _keep_learned(shop, adapter)
            if own:
                adapter.close()
        return summary


def _keep_learned(shop: Shop, adapter: PlatformAdapter) -> None:
    """Keep on the shop what the adapter looked up for a setting the shop left empty (the
    shop's first Shopify location): every later push uses it without asking the platform, and
    the stock stays at that location if the merchant adds others. Only where still empty: a
    value the user has set meanwhile wins."""
    for name, value in adapter.learned().items():
        Shop.objects.filter(pk=shop.pk, **{name: ""}).update(**{name: value})


class _Row:
    """A listing as the push needs it (no model instance: thousands per round)."""

    __slots__ = ("pk", "goods_id", "item_ref", "last_pushed_quantity")

    def __init__(self, pk, goods_id, item_ref, last_pushed_quantity):
        self.pk = pk
        self.goods_id = goods_id
        self.item_ref = item_ref
        self.last_pushed_quantity = last_pushed_quantity


class _Round:
    """One claim of outbox rows: which rows, which goods, what is still in flight."""

    def __init__(self, claimed: list[tuple[int, int, bool]], trigger: str):
        self.goods_of_row = {pk: g for pk, g, _m in claimed}
        self.rows_by_goods: dict[int, list[int]] = defaultdict(list)
        for pk, goods_id, _m in claimed:
            self.rows_by_goods[goods_id].append(pk)
        manual = any(m for _pk, _g, m in claimed)
        self.trigger = SyncRecord.Trigger.MANUAL if manual and trigger == "auto" else trigger
        self.row_ids: list[int] = []  # rows sent (rows of goods without listings are deleted)
        self.outstanding = 0
        self.failed_goods: set[int] = set()
        self.errors: dict[int, str] = {}
        self.combos_of: dict[int, list[int]] = {}
        self.sellable: dict = {}


class _Pipeline:
    """Claim -> plan -> send, one platform call in flight at a time per shop, the database work
    of the neighbouring batches done while it is in flight:

        form batch i (claim and plan a next round when short)  | call i-1 in flight
        wait for call i-1; send batch i                          |
        sync records of i-1, settle rounds i-1 finished          | call i in flight

    A claim plans its listings into batches at once: each entry gets the key of the batch it
    will go in, stored on its outbox rows in the claiming statement (before any call). A batch
    may carry listings of two claims, so the calls are exactly ceil(listings / batch size).
    Every statement is set-based (arrays through ``unnest``/``ANY``)."""

    def __init__(self, shop, adapter, summary, trigger, user_id):
        self.shop = shop
        self.adapter = adapter
        self.summary = summary
        self.trigger = trigger
        self.user_id = user_id
        self.size = adapter.batch_size
        self.claim_size = max(CLAIM_BATCHES * self.size, CLAIM_MIN)
        self.entries: deque = deque()  # (round, row, quantity, expected, key)
        self.open_key = uuid.uuid4().hex
        self.open_count = 0
        self.open_listings: set[int] = set()  # a listing goes at most once in one call
        self.exhausted = False
        self.state = None  # the shop's bindings, re-read by every claim (_claim_round)

    # -- claiming ----------------------------------------------------------------------------
    def _refill(self) -> None:
        while not self.exhausted and len(self.entries) < self.size:
            if not self._claim_round():
                self.exhausted = True

    def _claim_round(self) -> bool:
        """Claim and plan one round. Starts by locking the shop row ``FOR SHARE`` and reading
        the shop's switches, share, safety stock and bindings again (``_shop_now``): the round
        computes with what is true when it claims, not when the push started.

        Why: a binding change (apply, rollback) or a shop settings edit locks the shop row
        ``FOR UPDATE`` and marks the shop's goods dirty in the same transaction. One committed
        before this lock is seen here — by the re-read and by the claim, which finds the rows
        it marked (a snapshot taken when the push started would send the old state for them,
        then delete them: the change lost until the goods move again). One that starts after
        the lock waits for this round to commit, then finds the claimed rows SENDING and
        leaves new PENDING ones, which a later round (or the next push) recomputes with it.
        A shop made inactive or with its push switched off claims nothing more (what is
        claimed still goes out)."""
        with transaction.atomic():
            if not _shop_now(self.shop):
                return False
            self.state = _binding_state_now(self.shop)
            claimed = _lock_claimable(self.shop, self.claim_size)
            if not claimed:
                return False
            round_ = _Round(claimed, self.trigger)
            _wait_for_postings(list(round_.rows_by_goods))
            listings = _listings_for_goods(self.shop, list(round_.rows_by_goods))
            round_.sellable = listing_sellable(self.shop, listings, state=self.state)
            round_.combos_of = _combo_parts([row.goods_id for row in listings])
            payload: dict[int, list] = defaultdict(list)
            for row in listings:
                if row.pk not in round_.sellable:
                    continue
                quantity = round_.sellable[row.pk].quantity
                expected = row.last_pushed_quantity
                if row.pk in self.open_listings:
                    # Queued already by an earlier claim (a newer outbox row of its goods, or a
                    # combo's other component): this one goes in the next call, after it.
                    self._close_open_batch()
                key = self.open_key
                self.entries.append((round_, row, quantity, expected, key))
                round_.outstanding += 1
                for goods_id in [row.goods_id, *round_.combos_of.get(row.goods_id, [])]:
                    for pk in round_.rows_by_goods.get(goods_id, []):
                        payload[pk].append([key, row.pk, row.item_ref, quantity, expected])
                self.open_count += 1
                self.open_listings.add(row.pk)
                if self.open_count == self.size:
                    self._close_open_batch()
            round_.row_ids = sorted(payload)
            nothing_to_send = [pk for pk in round_.goods_of_row if pk not in payload]
            _mark_sending(payload, nothing_to_send)
        return True

    def _next_batch(self) -> tuple[str, list] | None:
        self._refill()
        if not self.entries:
            return None
        key = self.entries[0][4]
        batch = []
        while self.entries and self.entries[0][4] == key:
            batch.append(self.entries.popleft())
        if key == self.open_key:  # a partial batch goes out (nothing more to claim)
            self._close_open_batch()
        return key, batch

    def _close_open_batch(self) -> None:
        self.open_key, self.open_count = uuid.uuid4().hex, 0
        self.open_listings = set()

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> None:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="push-call")
        inflight = None  # (key, batch, future)
        try:
            while True:
                planned = self._next_batch()
                if inflight is not None:
                    wait([inflight[2]])
                future = None
                if planned is not None:
                    key, batch = planned
                    updates = [LevelUpdate(row.item_ref, q, e) for _r, row, q, e, _k in batch]
                    future = executor.submit(_call, self.adapter, updates, key)
                if inflight is not None:
                    self._finish(*inflight, busy=future)
                if future is None:
                    break
                inflight = (key, batch, future)
        finally:
            executor.shutdown(wait=True)

    def _finish(self, key: str, batch: list, future, *, busy=None) -> None:
        """Record a sent batch (compare-and-set retries first: they wait for the call in
        flight, ``busy``, so the shop's calls stay one at a time)."""
        rounds = {id(r): r for r, *_x in batch}
        entries = [(row, quantity, expected) for _r, row, quantity, expected, _k in batch]
        sellable = {row.pk: r.sellable[row.pk] for r, row, *_x in batch}
        round_of = {row.pk: r for r, row, *_x in batch}
        trigger = batch[0][0].trigger
        outcome = _send_batch(
            self.shop,
            self.adapter,
            key,
            entries,
            sellable,
            trigger,
            self.user_id,
            first=future,
            before_retry=(lambda: wait([busy])) if busy is not None else None,
        )
        for listing, ok, message in outcome:
            round_ = round_of[listing.pk]
            round_.outstanding -= 1
            self.summary.listings += 1
            if ok:
                self.summary.succeeded += 1
                continue
            if ok is None:
                self.summary.skipped += 1
                continue
            self.summary.failed += 1
            round_.failed_goods.add(listing.goods_id)
            round_.failed_goods.update(round_.combos_of.get(listing.goods_id, []))
            round_.errors[listing.goods_id] = message
            if message not in self.summary.errors:
                self.summary.errors.append(message)
            self.exhausted = True  # stop claiming; the next tick retries after the backoff
        for round_ in rounds.values():
            if round_.outstanding == 0:
                _settle(round_.row_ids, round_.goods_of_row, round_.failed_goods, round_.errors)


def _shop_now(shop: Shop) -> bool:
    """Lock the shop row ``FOR SHARE`` (PostgreSQL; inside the claiming transaction) and copy
    its current push switches, share and safety stock onto ``shop``. False when the shop is
    gone, inactive or its stock push is off. One statement: the locked row is returned as
    committed by a change the lock waited for."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT is_active, is_stock_push_enabled, share_percent, safety_stock "
                "FROM channels_sync_shop WHERE id = %s FOR SHARE",
                [shop.pk],
            )
            row = cursor.fetchone()
    else:  # SQLite: one writer at a time, nothing to lock
        row = (
            Shop.objects.filter(pk=shop.pk)
            .values_list("is_active", "is_stock_push_enabled", "share_percent", "safety_stock")
            .first()
        )
    if row is None:
        return False
    shop.is_active, shop.is_stock_push_enabled, shop.share_percent, shop.safety_stock = row
    return shop.is_active and shop.is_stock_push_enabled


_BINDINGS_SQL = """
SELECT b.warehouse_id, b.priority, NULL, NULL, NULL, NULL
FROM channels_sync_binding b WHERE b.shop_id = %s
UNION ALL
SELECT e.warehouse_id, NULL, e.goods_id, e.listing_id, e.mode, e.allotment
FROM channels_sync_bindingexception e WHERE e.shop_id = %s
"""


def _binding_state_now(shop: Shop) -> BindingState:
    """``selectors.binding_state`` in one statement on PostgreSQL (a claim runs it every round).
    A statement of its own after ``_shop_now``'s lock: a statement's snapshot is taken when it
    starts, so bindings read in the locking statement would miss a change it waited for."""
    if connection.vendor != "postgresql":
        return binding_state(shop)
    with connection.cursor() as cursor:
        cursor.execute(_BINDINGS_SQL, [shop.pk, shop.pk])
        rows = cursor.fetchall()
    warehouses = tuple(
        sorted((wh, priority) for wh, priority, _g, _l, mode, _a in rows if not mode)
    )
    exceptions = tuple(
        sorted(
            (
                (wh, goods, listing, mode, allotment)
                for wh, _p, goods, listing, mode, allotment in rows
                if mode
            ),
            key=lambda e: (e[0], e[1] or 0, e[2] or 0),
        )
    )
    return BindingState(warehouses=warehouses, exceptions=exceptions)


def _call(adapter: PlatformAdapter, updates: list[LevelUpdate], key: str):
    """The platform call of one batch (runs on the pipeline's call thread: no database)."""
    try:
        return adapter.set_levels(updates, idempotency_key=key)
    except PlatformError as exc:
        return exc


_LOCK_SQL = """
SELECT id, goods_id, is_manual FROM channels_sync_outboxitem
WHERE shop_id = %(shop)s AND kind = 'stock' AND status = 'pending'
  AND (attempts = 0 OR claimed_at IS NULL
       OR claimed_at <= %(now)s - LEAST(%(max)s * interval '1 second',
                                         15 * power(2, GREATEST(attempts - 1, 0))
                                         * interval '1 second'))
ORDER BY id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED
"""


def _lock_claimable(shop: Shop, limit: int) -> list[tuple[int, int, bool]]:
    """Lock up to ``limit`` PENDING rows past their backoff (inside the claiming transaction;
    a concurrent push skips them)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _LOCK_SQL,
                {
                    "now": timezone.now(),
                    "shop": shop.pk,
                    "limit": limit,
                    "max": MAX_BACKOFF.total_seconds(),
                },
            )
            return cursor.fetchall()
    return list(
        _claimable(shop)
        .select_for_update(skip_locked=True)
        .order_by("pk")
        .values_list("pk", "goods_id", "is_manual")[:limit]
    )


def _wait_for_postings(goods_ids: list[int]) -> None:
    """Wait for the postings in flight on these goods, then read what they committed.

    A posting's outbox trigger finds the goods' PENDING row and adds nothing; if this push
    claimed that row and read the balances before the posting committed, the posting's change
    would go out with no row left to carry it (an oversell until the goods moves again). Every
    posting locks its balances before it writes its movements, so ``FOR SHARE`` on the claimed
    goods' balances (``inventory.locks.wait_for_goods_postings``) waits for those still in
    flight; the sellable read that follows is a new statement and sees what they committed, and
    a posting that starts now waits for this claim to commit, then finds the row SENDING and
    leaves a new PENDING one. Not covered: a receipt into a balance row a posting in flight has
    just created (invisible, so not waited for): an increase, shown late, never an oversell."""
    wait_for_goods_postings(goods_ids)


def _mark_sending(payload: dict[int, list], nothing_to_send: list[int]) -> None:
    """The claim: rows to send become SENDING with the request entries they are part of
    (key, listing, item, quantity, expected) and the key — what a retry after a crash sends
    again; rows of goods no live listing sells are done. One statement each."""
    import json

    now = timezone.now()
    if nothing_to_send:
        OutboxItem.objects.filter(pk__in=nothing_to_send).delete()
    if not payload:
        return
    ids = sorted(payload)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE channels_sync_outboxitem o
                SET status = 'sending', claimed_at = %s, payload = v.p::jsonb,
                    idempotency_key = v.k
                FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(id, p, k)
                WHERE o.id = v.id AND o.id = ANY(%s)
                """,
                [
                    now,
                    ids,
                    [json.dumps({"sent": payload[i]}) for i in ids],
                    [payload[i][-1][0] for i in ids],
                    ids,  # lets the planner look the rows up by key, not scan the table
                ],
            )
        return
    for pk in ids:
        OutboxItem.objects.filter(pk=pk).update(
            status=OutboxItem.Status.SENDING,
            claimed_at=now,
            payload={"sent": payload[pk]},
            idempotency_key=payload[pk][-1][0],
        )


def _listings_for_goods(shop: Shop, goods_ids: list[int]) -> list[_Row]:
    """Matched, live listings with a platform item selling the goods or a combo containing
    them, at any depth (a pallet of cases of cans moves with the cans)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                WITH RECURSIVE up(id) AS (
                    SELECT unnest(%s::bigint[])
                    UNION
                    SELECT c.combo_id FROM inventory_combocomponent c JOIN up
                        ON c.component_id = up.id
                )
                SELECT l.id, l.goods_id, l.item_ref, l.last_pushed_quantity
                FROM channels_sync_listing l
                WHERE l.shop_id = %s AND l.status <> 'deleted' AND l.item_ref <> ''
                  AND l.goods_id IN (SELECT id FROM up)
                ORDER BY l.id
                """,
                [goods_ids, shop.pk],
            )
            return [_Row(*r) for r in cursor.fetchall()]
    return [
        _Row(row.pk, row.goods_id, row.item_ref, row.last_pushed_quantity)
        for row in listings_for_goods(shop, goods_ids)
        if row.item_ref
    ]


def _claimable(shop: Shop):
    now = timezone.now()
    rows = OutboxItem.objects.filter(
        shop=shop, kind=OutboxItem.Kind.STOCK, status=OutboxItem.Status.PENDING
    )
    # Rows that failed before wait their backoff (attempts is small; one clause per value).
    ready = rows.filter(attempts=0) | rows.filter(claimed_at__isnull=True)
    for attempts in range(1, 12):
        ready = ready | rows.filter(attempts=attempts, claimed_at__lte=now - _backoff(attempts))
    return ready | rows.filter(attempts__gte=12, claimed_at__lte=now - MAX_BACKOFF)


def _combo_parts(goods_ids: list[int]) -> dict[int, list[int]]:
    """Every goods inside each combo of ``goods_ids``, at any depth (inner combos and their
    components): the goods whose outbox rows a combo listing's push answers for."""
    from inventory.models import ComboComponent

    parts: dict[int, list[int]] = defaultdict(list)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH RECURSIVE down(combo_id, component_id) AS (
                    SELECT combo_id, component_id FROM {ComboComponent._meta.db_table}
                    WHERE combo_id = ANY(%s)
                    UNION
                    SELECT d.combo_id, c.component_id FROM down d
                    JOIN {ComboComponent._meta.db_table} c ON c.combo_id = d.component_id
                )
                SELECT combo_id, component_id FROM down ORDER BY combo_id, component_id
                """,  # noqa: S608
                [sorted(set(goods_ids))],
            )
            for combo_id, component_id in cursor.fetchall():
                parts[combo_id].append(component_id)
        return parts
    for combo_id in set(goods_ids):  # SQLite: one query per level (the editor refuses loops)
        found: list[int] = []
        level = [combo_id]
        while level:
            level = list(
                ComboComponent.objects.filter(combo_id__in=level).values_list(
                    "component_id", flat=True
                )
            )
            found += [g for g in level if g not in found]
        if found:
            parts[combo_id] = sorted(found)
    return parts


def _plan(listings, sellable, batch_size):
    entries = [
        (row, sellable[row.pk].quantity, row.last_pushed_quantity)
        for row in listings
        if row.pk in sellable
    ]
    return [
        (uuid.uuid4().hex, entries[start : start + batch_size])
        for start in range(0, len(entries), batch_size)
    ]


def _send_batch(
    shop, adapter, key, entries, sellable, trigger, user_id, *, first=None, before_retry=None
):
    """Send one batch with compare-and-set rounds; write its sync records. Returns
    [(listing, ok, message)], one per entry, ``ok`` None for a listing not pushed because it
    was unlinked or deleted before its retry (its sync record says so; its goods is done, not
    failed). ``first``: the future of the first call, already sent by the pipeline (its
    result: a list of ``LevelResult`` or the ``PlatformError``)."""
    pending = {row.pk: (row, quantity, expected) for row, quantity, expected in entries}
    inputs = {row.pk: sellable[row.pk].inputs for row, _q, _e in entries}
    done: list[tuple[Listing, bool, str, int, int | None]] = []
    for round_no in range(CAS_ROUNDS):
        if not pending:
            break
        updates = [LevelUpdate(row.item_ref, q, e) for row, q, e in pending.values()]
        batch_key = key if round_no == 0 else uuid.uuid4().hex
        try:
            if round_no == 0 and first is not None:
                results = first.result()
                if isinstance(results, PlatformError):
                    raise results
            else:
                results = adapter.set_levels(updates, idempotency_key=batch_key)
        except PlatformError as exc:
            message = f"{_('Platform error')}: {exc}"
            for row, quantity, expected in pending.values():
                done.append((row, False, message, quantity, expected))
            pending = {}
            break
        by_item: dict[str, LevelResult] = {r.item_ref: r for r in results}
        stale = {}
        for pk, (row, quantity, expected) in pending.items():
            result = by_item.get(row.item_ref)
            if result and result.ok:
                done.append((row, True, "", quantity, expected))
            elif result and result.stale and round_no + 1 < CAS_ROUNDS:
                stale[pk] = (row, quantity)
            else:
                done.append(
                    (row, False, result.message if result else "no answer", quantity, expected)
                )
        pending = {}
        if stale:
            # Re-read what the platform holds and recompute from the database now.
            if before_retry is not None:
                before_retry()
            try:
                current = adapter.get_levels([row.item_ref for row, _q in stale.values()])
            except PlatformError as exc:
                for row, _q in stale.values():
                    done.append((row, False, str(exc), row.last_pushed_quantity or 0, None))
                break
            fresh = listing_sellable(shop, _still_pushed(list(stale)))
            for pk, (row, quantity) in stale.items():
                if pk in fresh:
                    inputs[pk] = fresh[pk].inputs
                    pending[pk] = (row, fresh[pk].quantity, current.get(row.item_ref))
                else:  # every entry gets an outcome, or its round would never settle
                    done.append(
                        (row, None, _not_pushed_message(), quantity, current.get(row.item_ref))
                    )
    _record(shop, key, done, inputs, trigger, user_id)
    return [(row, ok, message) for row, ok, message, _q, _e in done]


def _not_pushed_message() -> str:
    """The sync record's message for a listing dropped from a compare-and-set retry."""
    return _(
        "Not pushed: this listing was unlinked from its goods or deleted while the push was "
        "running, so no quantity is sent for it."
    )


def _still_pushed(listing_ids: list[int]) -> list[Listing]:
    """Of these listings, those a push still sends: matched, not deleted, with an item."""
    return list(
        Listing.objects.filter(pk__in=listing_ids, goods__isnull=False)
        .exclude(status=Listing.Status.DELETED)
        .exclude(item_ref="")
    )


def _record(shop, key, done, inputs, trigger, user_id):
    """Write one sync record per listing of the batch (FAILURE with its message where not
    pushed) and the listings' last pushed quantity (one statement on PostgreSQL)."""
    now = timezone.now()
    with transaction.atomic():
        from channels_sync.hooks import sync_failures

        # A listing unlinked or deleted meanwhile (ok None) is recorded, not reported as failed.
        sync_failures(
            shop_id=shop.pk, trigger=trigger, key=key, done=[d for d in done if d[1] is not None]
        )
        if connection.vendor == "postgresql" and done:
            import json

            with connection.cursor() as cursor:
                cursor.execute(
                    """
                    WITH pushed AS (
                        UPDATE channels_sync_listing l
                        SET last_pushed_quantity = v.quantity, last_pushed_at = %s
                        FROM unnest(%s::bigint[], %s::int[]) AS v(id, quantity)
                        WHERE l.id = v.id AND l.id = ANY(%s)
                    )
                    INSERT INTO channels_sync_syncrecord
                        (shop_id, listing_id, goods_id, quantity, previous_quantity, inputs,
                         trigger, status, message, idempotency_key, user_id, created_at)
                    SELECT %s, v.listing, v.goods, v.quantity, v.previous, v.inputs::jsonb,
                           %s, v.status, v.message, %s, %s, %s
                    FROM unnest(%s::bigint[], %s::bigint[], %s::int[], %s::int[], %s::text[],
                                %s::text[], %s::text[])
                         AS v(listing, goods, quantity, previous, inputs, status, message)
                    """,
                    [
                        now,
                        [row.pk for row, ok, *_r in done if ok],
                        [quantity for _row, ok, _m, quantity, _e in done if ok],
                        [row.pk for row, ok, *_r in done if ok],
                        shop.pk,
                        trigger,
                        key,
                        user_id,
                        now,
                        [row.pk for row, *_r in done],
                        [row.goods_id for row, *_r in done],
                        [quantity for _row, _ok, _m, quantity, _e in done],
                        [expected for _row, _ok, _m, _q, expected in done],
                        [json.dumps(inputs.get(row.pk, {})) for row, *_r in done],
                        [
                            SyncRecord.Status.SUCCESS if ok else SyncRecord.Status.FAILURE
                            for _row, ok, *_r in done
                        ],
                        [message[:2000] for _row, _ok, message, *_r in done],
                    ],
                )
            return
        if done:
            SyncRecord.objects.bulk_create(
                [
                    SyncRecord(
                        shop=shop,
                        listing_id=row.pk,
                        goods_id=row.goods_id,
                        quantity=quantity,
                        previous_quantity=expected,
                        inputs=inputs.get(row.pk, {}),
                        trigger=trigger,
                        status=SyncRecord.Status.SUCCESS if ok else SyncRecord.Status.FAILURE,
                        message=message[:2000],
                        idempotency_key=key,
                        user_id=user_id,
                    )
                    for row, ok, message, quantity, expected in done
                ]
            )
        succeeded = [(row.pk, quantity) for row, ok, _m, quantity, _e in done if ok]
        if succeeded:
            _bulk_set_pushed(succeeded, now)


def _bulk_set_pushed(pairs: list[tuple[int, int]], now) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE channels_sync_listing l
                SET last_pushed_quantity = v.q, last_pushed_at = %s
                FROM unnest(%s::bigint[], %s::int[]) AS v(id, q)
                WHERE l.id = v.id
                """,
                [now, [p for p, _q in pairs], [q for _p, q in pairs]],
            )
        return
    for pk, quantity in pairs:
        Listing.objects.filter(pk=pk).update(last_pushed_quantity=quantity, last_pushed_at=now)


def _settle(row_ids, goods_of_row, failed_goods, errors) -> None:
    """Delete rows of goods fully pushed; put the others back to PENDING with ``attempts`` + 1
    (they wait the backoff) — or, when a newer PENDING row of the same goods exists (a posting
    during the push), drop the failed row and let the newer one carry the change forward with
    the failure's backoff, so a platform that is down is not called again at every drain. One
    statement per distinct (attempts, error) on the failed side."""
    ok_rows = [pk for pk in row_ids if goods_of_row[pk] not in failed_goods]
    bad_rows = [pk for pk in row_ids if goods_of_row[pk] in failed_goods]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "DELETE FROM channels_sync_outboxitem WHERE id = ANY(%s)", [sorted(ok_rows)]
                )
        else:
            OutboxItem.objects.filter(pk__in=ok_rows).delete()
        if not bad_rows:
            return
        rows = list(
            OutboxItem.objects.filter(pk__in=bad_rows).values_list(
                "pk", "shop_id", "goods_id", "attempts"
            )
        )
        newer = {
            (shop_id, goods_id): (pk, attempts)
            for pk, shop_id, goods_id, attempts in OutboxItem.objects.filter(
                status=OutboxItem.Status.PENDING,
                goods_id__in=[g for _pk, _s, g, _a in rows],
                shop_id__in=list({s for _pk, s, _g, _a in rows}),
            ).values_list("pk", "shop_id", "goods_id", "attempts")
        }
        replaced: list[int] = []
        waiting: dict[tuple[int, str], list[int]] = defaultdict(list)
        for pk, shop_id, goods_id, attempts in rows:
            error = errors.get(goods_id, "")[:2000]
            if (shop_id, goods_id) in newer:
                newer_pk, newer_attempts = newer[(shop_id, goods_id)]
                replaced.append(pk)
                waiting[(max(newer_attempts, attempts + 1), error)].append(newer_pk)
            else:
                waiting[(attempts + 1, error)].append(pk)
        OutboxItem.objects.filter(pk__in=replaced).delete()
        now = timezone.now()
        for (attempts, error), pks in waiting.items():
            OutboxItem.objects.filter(pk__in=pks).update(
                status=OutboxItem.Status.PENDING,
                attempts=attempts,
                last_error=error,
                claimed_at=now,
                payload={},
            )


def _resend_stale(shop: Shop, adapter: PlatformAdapter, summary: PushSummary, user_id) -> None:
    """Rows a dead worker left SENDING. Locks them (``SKIP LOCKED``) and the shop row
    ``FOR SHARE`` (``_shop_now``: the shop's switches are read again). Where the shop pushes
    and the adapter is ``safe_replay`` (and every stored quantity carries its ``expected``),
    sends the stored requests again with their stored keys,
    settles the rows and queues their goods again (the stored request is old). Otherwise sends
    nothing: the rows go back to PENDING (``_requeue``), so the pipeline that follows — or the
    first push once the shop is on again — computes their goods from the database now."""
    with transaction.atomic():
        pushing = _shop_now(shop)
        stale = list(
            OutboxItem.objects.select_for_update(skip_locked=True)
            .filter(
                shop=shop,
                status=OutboxItem.Status.SENDING,
                claimed_at__lt=timezone.now() - STALE_AFTER,
            )
            .order_by("pk")
        )
        if not stale:
            return
        # An entry without ``expected`` is set blindly even where the platform compares: if
        # its first attempt never arrived, a replay would overwrite what went out since.
        blind = any(entry[4] is None for row in stale for entry in row.payload.get("sent", []))
        if not (pushing and adapter.safe_replay) or blind:
            _requeue(shop, stale)
            return
        OutboxItem.objects.filter(pk__in=[r.pk for r in stale]).update(claimed_at=timezone.now())
    by_key: dict[str, dict[int, tuple]] = defaultdict(dict)
    for row in stale:
        for key, listing_id, item_ref, quantity, expected in row.payload.get("sent", []):
            by_key[key][listing_id] = (item_ref, quantity, expected)
    listings = Listing.objects.in_bulk([lid for batch in by_key.values() for lid in batch])
    failed: set[int] = set()
    for key, batch in by_key.items():
        entries = [
            (listings[lid], quantity, expected)
            for lid, (_item, quantity, expected) in batch.items()
            if lid in listings
        ]
        sellable = {
            row.pk: type("S", (), {"inputs": {"resent_after_crash": True}})()
            for row, _q, _e in entries
        }
        outcome = _send_batch(shop, adapter, key, entries, sellable, "auto", user_id)
        for listing, ok, _message in outcome:
            summary.listings += 1
            if ok:
                summary.succeeded += 1
            elif ok is None:
                summary.skipped += 1
            else:
                summary.failed += 1
                failed.add(listing.goods_id)
    goods_of_row = {r.pk: r.goods_id for r in stale}
    _settle(list(goods_of_row), goods_of_row, failed, {})
    # The stored request is old: queue the goods again so their current quantity goes out.
    with transaction.atomic():
        mark_goods_dirty(set(goods_of_row.values()), shop_ids=[shop.pk])


def _requeue(shop: Shop, rows: list[OutboxItem]) -> None:
    """Put stale SENDING rows back as PENDING rows of their goods, ready now (no backoff): the
    rows are deleted and one PENDING row per goods inserted, ``ON CONFLICT DO NOTHING`` where a
    posting left one meanwhile (it carries the change). Inside the caller's transaction."""
    manual: dict[int, bool] = {}
    for row in rows:
        if row.goods_id is not None:
            manual[row.goods_id] = manual.get(row.goods_id, False) or row.is_manual
    OutboxItem.objects.filter(pk__in=[row.pk for row in rows]).delete()
    OutboxItem.objects.bulk_create(
        [
            OutboxItem(shop=shop, goods_id=goods_id, is_manual=is_manual)
            for goods_id, is_manual in sorted(manual.items())
        ],
        ignore_conflicts=True,
    )
