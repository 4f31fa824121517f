"""Stock push: drain a shop's stock outbox to its platform in the platform's batch sizes.

``shop_push(shop_id, trigger=...)`` — the one entry point (auto drain, manual "push now",
nightly full push). Contract:
- Runs under the advisory lock ``channels_sync.push:<shop>``: one push per shop at a time (a
  second caller returns ``None`` at once; its rows stay pending for the running push or the
  next tick).
- Rows a dead worker left SENDING for longer than ``STALE_AFTER`` are re-sent first, as the very
  same request with the same idempotency key (stored on the rows before the call), so the
  platform replays it rather than applying it twice (Shopify ``@idempotent``).
- Claims PENDING rows (``FOR UPDATE SKIP LOCKED``), computes each affected listing's sellable
  quantity (selectors.listing_sellable), stores the planned request (key, quantities) on the
  rows, commits, then calls the platform — no network inside a transaction.
- Compare-and-set: each quantity carries the value we last pushed; a stale answer re-reads the
  platform and recomputes from the database, so an older quantity never overwrites a newer one.
- Every listing pushed gets a ``SyncRecord`` (inputs, quantity sent, previous platform value,
  trigger, success or failure with the platform's message). Rows of fully pushed goods are
  deleted; the others go back to PENDING with ``attempts`` + 1 and wait a backoff.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_sync import adapters
from channels_sync.adapters.base import LevelResult, LevelUpdate, PlatformAdapter
from channels_sync.adapters.http import PlatformError
from channels_sync.exceptions import ChannelError
from channels_sync.hooks import mark_goods_dirty
from channels_sync.models import Listing, OutboxItem, Shop, SyncRecord
from channels_sync.selectors import listing_sellable, listings_for_goods
from wms.locks import advisory_lock

logger = logging.getLogger(__name__)

# A SENDING row older than this was left by a dead worker (a live push finishes a batch in
# seconds: calls time out after 10 s, retries are capped).
STALE_AFTER = timedelta(seconds=int(os.environ.get("WMS_PUSH_STALE_SECONDS", "600")))
CLAIM_LIMIT = 5000  # goods per round; a round is repeated while rows remain
CAS_ROUNDS = 3
MAX_BACKOFF = timedelta(minutes=30)


@dataclass
class PushSummary:
    listings: int = 0
    succeeded: int = 0
    failed: int = 0
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
            _resend_stale(shop, adapter, summary, user_id)
            if shop.is_active and shop.is_stock_push_enabled:
                while _push_round(shop, adapter, summary, trigger, user_id):
                    pass
        finally:
            summary.calls = adapter.calls
            if own:
                adapter.close()
        return summary


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


def _push_round(shop: Shop, adapter: PlatformAdapter, summary: PushSummary, trigger, user_id):
    with transaction.atomic():
        claimed = list(
            _claimable(shop)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", "goods_id", "is_manual")[:CLAIM_LIMIT]
        )
        if not claimed:
            return False
        row_ids = [pk for pk, _g, _m in claimed]
        manual = any(m for _pk, _g, m in claimed)
        goods_of_row = {pk: g for pk, g, _m in claimed}
        listings = [row for row in listings_for_goods(shop, goods_of_row.values()) if row.item_ref]
        sellable = listing_sellable(shop, listings)
        batches = _plan(listings, sellable, adapter.batch_size)
        rows_by_goods: dict[int, list[int]] = defaultdict(list)
        for pk, goods_id in goods_of_row.items():
            rows_by_goods[goods_id].append(pk)
        payload: dict[int, list] = defaultdict(list)
        combos_of = _combo_parts([row.goods_id for row in listings])
        for key, entries in batches:
            for listing, quantity, expected in entries:
                for goods_id in [listing.goods_id, *combos_of.get(listing.goods_id, [])]:
                    for pk in rows_by_goods.get(goods_id, []):
                        payload[pk].append([key, listing.pk, listing.item_ref, quantity, expected])
        now = timezone.now()
        OutboxItem.objects.filter(pk__in=row_ids).update(
            status=OutboxItem.Status.SENDING, claimed_at=now
        )
        _store_sent(payload)
    effective_trigger = SyncRecord.Trigger.MANUAL if manual and trigger == "auto" else trigger
    failed_goods: set[int] = set()
    errors: dict[int, str] = {}
    for key, entries in batches:
        outcome = _send_batch(shop, adapter, key, entries, sellable, effective_trigger, user_id)
        summary.listings += len(entries)
        for listing, ok, message in outcome:
            if ok:
                summary.succeeded += 1
            else:
                summary.failed += 1
                failed_goods.add(listing.goods_id)
                failed_goods.update(combos_of.get(listing.goods_id, []))
                errors[listing.goods_id] = message
                if message not in summary.errors:
                    summary.errors.append(message)
    _settle(row_ids, goods_of_row, failed_goods, errors)
    return not failed_goods  # stop the loop on failure; the next tick retries after backoff


def _store_sent(payload: dict[int, list]) -> None:
    """Store on each claimed row the request entries (key, listing, item, quantity, expected)
    it is part of, before the call: what a retry after a crash sends again. One statement."""
    if not payload:
        return
    if connection.vendor == "postgresql":
        import json

        ids = list(payload)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE channels_sync_outboxitem o
                SET payload = v.p::jsonb, idempotency_key = v.k
                FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(id, p, k)
                WHERE o.id = v.id
                """,
                [
                    ids,
                    [json.dumps({"sent": payload[i]}) for i in ids],
                    [payload[i][-1][0] for i in ids],
                ],
            )
        return
    for pk, entries in payload.items():
        OutboxItem.objects.filter(pk=pk).update(
            payload={"sent": entries}, idempotency_key=entries[-1][0]
        )


def _combo_parts(goods_ids: list[int]) -> dict[int, list[int]]:
    from inventory.models import ComboComponent

    parts: dict[int, list[int]] = defaultdict(list)
    for combo_id, component_id in ComboComponent.objects.filter(
        combo_id__in=list(set(goods_ids))
    ).values_list("combo_id", "component_id"):
        parts[combo_id].append(component_id)
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


def _send_batch(shop, adapter, key, entries, sellable, trigger, user_id):
    """Send one batch with compare-and-set rounds; write its sync records. Returns
    [(listing, ok, message)]."""
    pending = {row.pk: (row, quantity, expected) for row, quantity, expected in entries}
    inputs = {row.pk: sellable[row.pk].inputs for row, _q, _e in entries}
    done: list[tuple[Listing, bool, str, int, int | None]] = []
    for round_no in range(CAS_ROUNDS):
        if not pending:
            break
        updates = [LevelUpdate(row.item_ref, q, e) for row, q, e in pending.values()]
        batch_key = key if round_no == 0 else uuid.uuid4().hex
        try:
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
                stale[pk] = row
            else:
                done.append(
                    (row, False, result.message if result else "no answer", quantity, expected)
                )
        pending = {}
        if stale:
            # Re-read what the platform holds and recompute from the database now.
            try:
                current = adapter.get_levels([row.item_ref for row in stale.values()])
            except PlatformError as exc:
                for row in stale.values():
                    done.append((row, False, str(exc), row.last_pushed_quantity or 0, None))
                break
            fresh = listing_sellable(shop, list(Listing.objects.filter(pk__in=list(stale))))
            for pk, row in stale.items():
                if pk in fresh:
                    inputs[pk] = fresh[pk].inputs
                    pending[pk] = (row, fresh[pk].quantity, current.get(row.item_ref))
    _record(shop, key, done, inputs, trigger, user_id)
    return [(row, ok, message) for row, ok, message, _q, _e in done]


def _record(shop, key, done, inputs, trigger, user_id):
    """Write one sync record per listing of the batch (one statement on PostgreSQL) and the
    listings' last pushed quantity."""
    now = timezone.now()
    with transaction.atomic():
        from channels_sync.hooks import sync_failures

        sync_failures(shop_id=shop.pk, trigger=trigger, key=key, done=done)
        if connection.vendor == "postgresql" and done:
            import json

            with connection.cursor() as cursor:
                cursor.execute(
                    """
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
        else:
            SyncRecord.objects.bulk_create(
                [
                    SyncRecord(
                        shop=shop,
                        listing=row,
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
    """Delete rows of goods fully pushed; put the others back to PENDING (or drop them when a
    newer pending row of the same goods exists — it carries the change forward)."""
    ok_rows = [pk for pk in row_ids if goods_of_row[pk] not in failed_goods]
    bad_rows = [pk for pk in row_ids if goods_of_row[pk] in failed_goods]
    with transaction.atomic():
        OutboxItem.objects.filter(pk__in=ok_rows).delete()
        if not bad_rows:
            return
        rows = list(
            OutboxItem.objects.filter(pk__in=bad_rows).values_list("pk", "shop_id", "goods_id")
        )
        newer = set(
            OutboxItem.objects.filter(
                status=OutboxItem.Status.PENDING,
                goods_id__in=[g for _pk, _s, g in rows],
                shop_id__in=list({s for _pk, s, _g in rows}),
            ).values_list("shop_id", "goods_id")
        )
        OutboxItem.objects.filter(pk__in=[pk for pk, s, g in rows if (s, g) in newer]).delete()
        for pk, _s, goods_id in rows:
            if (_s, goods_id) in newer:
                continue
            OutboxItem.objects.filter(pk=pk).update(
                status=OutboxItem.Status.PENDING,
                attempts=F("attempts") + 1,
                last_error=errors.get(goods_id, "")[:2000],
                claimed_at=timezone.now(),
                payload={},
            )


def _resend_stale(shop: Shop, adapter: PlatformAdapter, summary: PushSummary, user_id) -> None:
    """Rows a dead worker left SENDING: send the stored request again with its stored key."""
    with transaction.atomic():
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
            else:
                summary.failed += 1
                failed.add(listing.goods_id)
    goods_of_row = {r.pk: r.goods_id for r in stale}
    _settle(list(goods_of_row), goods_of_row, failed, {})
    # The stored request is old: queue the goods again so their current quantity goes out.
    with transaction.atomic():
        mark_goods_dirty(set(goods_of_row.values()), shop_ids=[shop.pk])
