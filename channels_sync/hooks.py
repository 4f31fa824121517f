"""How a posting leaves its stock outbox rows, inside the posting's transaction.

Every posting that changes available stock (on hand - frozen - reserved) of some goods leaves,
per goods and per shop with stock push on, one PENDING ``OutboxItem`` — coalesced by the partial
unique index ``channels_outbox_one_pending`` (``ON CONFLICT DO NOTHING``), so 100,000 postings
on 1,000 goods leave at most 1,000 rows per shop. No row locks on balances, no network: the
outbox commits or rolls back with the stock (ARCHITECTURE.md §3).

On PostgreSQL the rows are written by the statement-level trigger ``channels_outbox_on_movement``
on the movements table (migration 0006): the same statement as ``outbox_on_posting`` below, run
by the server for every movement INSERT, with no round trip from the application. On SQLite (a
laptop) ``outbox_on_posting`` is registered as an in-transaction ledger hook instead.
Combos are not expanded here: the push reads which listings sell the goods or a combo made of it.

A combo's recipe changing (the combo editor, the combo import) moves no stock but changes what
the combo can be sold as (1 to 4 units per case: 12 cases become 3): ``outbox_on_combo_change``,
an inventory ``combo_changed`` hook, marks the combo itself and every combo containing it (at any
depth) dirty in the editor's transaction. Those goods, not the components: the push finds the
listings of an outbox row's goods and of the combos containing it (at any depth), and a component
just taken out of a combo no longer leads to that combo.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from inventory import hooks

_UPSERT_PG = """
INSERT INTO channels_sync_outboxitem
    (kind, shop_id, goods_id, payload, status, is_manual, idempotency_key, attempts, last_error,
     created_at)
SELECT 'stock', s.id, g.id, '{}'::jsonb, 'pending', %s, '', 0, '', now()
FROM channels_sync_shop s CROSS JOIN unnest(%s::bigint[]) AS g(id)
WHERE s.is_active AND s.is_stock_push_enabled SHOP_FILTER
ON CONFLICT (kind, shop_id, goods_id) WHERE status = 'pending' DO NOTHING
"""


def mark_goods_dirty(
    goods_ids: Iterable[int], *, shop_ids: Iterable[int] | None = None, manual: bool = False
) -> None:
    """Queue a stock push of ``goods_ids`` for every shop with push on (or ``shop_ids``).
    Must run inside the business transaction; coalesces with rows already pending."""
    goods = sorted({int(g) for g in goods_ids})
    if not goods:
        return
    shops = None if shop_ids is None else sorted({int(s) for s in shop_ids})
    if shops is not None and not shops:
        return
    if connection.vendor == "postgresql":
        sql = _UPSERT_PG.replace("SHOP_FILTER", "AND s.id = ANY(%s)" if shops is not None else "")
        params = [manual, goods] + ([shops] if shops is not None else [])
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        return
    from channels_sync.models import OutboxItem, Shop

    shop_qs = Shop.objects.filter(is_active=True, is_stock_push_enabled=True)
    if shops is not None:
        shop_qs = shop_qs.filter(pk__in=shops)
    now = timezone.now()
    OutboxItem.objects.bulk_create(
        [
            OutboxItem(shop_id=s, goods_id=g, is_manual=manual, created_at=now)
            for s in shop_qs.values_list("pk", flat=True)
            for g in goods
        ],
        ignore_conflicts=True,
    )


def outbox_on_posting(event: hooks.PostingEvent) -> None:
    """In-transaction ledger hook: goods whose available quantity moved become dirty."""
    touched = {
        m.goods_id
        for m in event.movements
        if (m.on_hand_delta or 0) - (m.frozen_delta or 0) - (m.reserved_delta or 0)
    }
    if touched:
        mark_goods_dirty(touched)


def outbox_on_combo_change(combo_ids: tuple[int, ...]) -> None:
    """Inventory ``combo_changed`` hook, in the editor's transaction: the combos whose recipe
    changed, and the combos containing them, become dirty for every pushing shop."""
    from channels_sync.selectors import combos_containing

    mark_goods_dirty(combos_containing(combo_ids))


def push_soon_after_posting(event: hooks.PostingEvent) -> None:
    """After-commit ledger hook: ask for a push of each pushing shop, at most once a second per
    shop and process (the outbox rows are already committed; if the broker is down this is
    skipped and the beat's drain sends them when it is back)."""
    if not any(
        (m.on_hand_delta or 0) - (m.frozen_delta or 0) - (m.reserved_delta or 0)
        for m in event.movements
    ):
        return
    queue_push_soon()


def queue_push_soon(shop_ids: Iterable[int] | None = None) -> None:
    import logging

    from django.core.cache import cache

    from channels_sync.models import Shop
    from wms.outbox import task_by_name

    if shop_ids is None:
        shop_ids = Shop.objects.filter(is_active=True, is_stock_push_enabled=True).values_list(
            "pk", flat=True
        )
    for shop_id in shop_ids:
        if not cache.add(f"channels_sync:push-soon:{shop_id}", 1, timeout=1):
            continue
        try:
            task_by_name("channels_sync.push_shop").apply_async(args=[shop_id], retry=False)
        except Exception:  # noqa: BLE001 - broker down: the outbox keeps the work
            logging.getLogger(__name__).warning("push not queued", extra={"shop": shop_id})


def register() -> None:
    """On SQLite, the in-transaction ledger hook (PostgreSQL has the trigger); everywhere, the
    combo recipe hook (no posting, so no trigger, behind it). The beat's drain
    (every 5 seconds) sends the rows; ``push_soon_after_posting`` is there for a deployment that
    wants lower latency."""
    if connection.vendor != "postgresql":
        hooks.register_in_transaction(outbox_on_posting)
    hooks.register_combo_changed(outbox_on_combo_change)


def unregister() -> None:
    hooks.unregister_in_transaction(outbox_on_posting)
    hooks.unregister_combo_changed(outbox_on_combo_change)


TRIGGER = "channels_outbox_on_movement"


def set_trigger_enabled(enabled: bool) -> None:
    """Switch the PostgreSQL outbox trigger on or off (the ``push_coalesce`` benchmark measures
    postings with and without it; nothing else should)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE inventory_stockmovement {'ENABLE' if enabled else 'DISABLE'} "
            f"TRIGGER {TRIGGER}"
        )


#: ``hook(failure)``: stock pushes the platform refused, as one plain dict per batch
#: ``{"shop_id", "trigger", "idempotency_key", "failures": [{"listing_id", "goods_id",
#: "quantity", "message"}]}``. Runs INSIDE the transaction that writes their sync records, so
#: what a hook writes (the API's webhook outbox) commits with them; keep it to one INSERT.
sync_failed: list = []


def sync_failures(*, shop_id: int, trigger: str, key: str, done: list) -> None:
    """Call every ``sync_failed`` hook with the failed entries of a pushed batch (``done``:
    ``(listing row, ok, message, quantity, expected)`` as the push records them)."""
    failures = [
        {"listing_id": row.pk, "goods_id": row.goods_id, "quantity": quantity, "message": message}
        for row, ok, message, quantity, _expected in done
        if not ok
    ]
    if not failures or not sync_failed:
        return
    failure = {"shop_id": shop_id, "trigger": trigger, "idempotency_key": key, "failures": failures}
    for hook in list(sync_failed):
        hook(failure)
