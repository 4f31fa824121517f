"""Ordered row locks for stock postings. Every lock the ledger takes goes through here.

The lock order, the same in every posting, is what makes concurrent postings deadlock-free:

1. the document row (a sheet, transfer or count; compare-and-set or ``lock_document``);
1b. the goods rows a posting puts stock on, ``FOR KEY SHARE`` in primary-key order in one
   statement (``lock_goods_shared``), and ``is_combo`` re-read under that lock: the combo
   editor and the combo import take ``FOR UPDATE`` on a goods (``lock_goods``) before turning it
   into a combo, so either the posting waits and then sees a combo, or the editor waits and then
   sees the stock (a combo holds none). ``KEY SHARE`` does not block ordinary goods edits (an
   ``UPDATE`` of other columns) nor other postings;
2. missing balance rows are inserted, sorted by (goods, bin, batch), so two postings creating the
   same rows wait for each other in the same order;
3. destination bins, ``FOR SHARE`` in primary-key order (``lock_bins_shared``): a bin being
   deactivated holds ``FOR UPDATE`` on its row, so a receipt either waits and then sees the bin
   inactive, or is seen by the deactivation guard (see ``warehouses.hooks``);
4. balance rows, ``FOR UPDATE`` in primary-key order, all of a posting's rows in one statement
   (``lock_balances``, or ``lock_balances_bulk`` for a set-based posting such as
   ``ledger.freeze_all_available``, which then updates the rows it holds in SQL). A posting never
   locks a second set of balances afterwards; hooks that run inside a posting only touch rows it
   already holds. A caller freezing a large set in several postings (a freeze's chunks) posts
   them in ascending primary-key ranges, so the whole freeze still locks in one global order.

A single-row shipment may instead use a conditional ``UPDATE ... WHERE available >= n`` (the
ledger's fast path), which takes one row lock and waits for nothing else while holding it.

Readers that must see what the postings in flight on some goods commit (the stock push, which
read balances while a shipment of the goods was uncommitted) take ``FOR SHARE`` on those goods'
balance rows in primary-key order (``wait_for_goods_postings``): it waits for every posting
holding one of them (step 4 or the fast path), and holds off new ones until the reader commits.

On SQLite ``FOR UPDATE``/``FOR SHARE`` are not supported and not needed: writers are serialised
by the database lock.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, models

from inventory.models import Goods, StockBalance


def lock_balances(ids: Iterable[int]) -> dict[int, StockBalance]:
    """Lock the balance rows ``ids`` (``SELECT ... FOR UPDATE OF`` the balance table, ordered by
    primary key, evaluated at once) and return them by id, with fresh committed quantities."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = list(
        StockBalance.objects.select_for_update(of=("self",)).filter(pk__in=wanted).order_by("pk")
    )
    return {row.pk: row for row in rows}


def lock_balances_in(
    ids: Iterable[int], *, goods_ids: Iterable[int] = (), warehouse_ids: Iterable[int] = ()
) -> dict[int, StockBalance]:
    """Lock, like ``lock_balances`` (``FOR UPDATE OF`` the balance table, primary-key order, one
    statement), the balances ``ids`` and every balance of ``goods_ids`` in ``warehouse_ids``;
    return them by id with their batch loaded (its expiry date, for first-expiry-first-out
    choices made under the lock). A set-based reservation (``ledger.reserve_many``) locks
    its candidates this way without reading them first."""
    wanted = sorted(set(ids))
    goods = sorted(set(goods_ids))
    warehouses = sorted(set(warehouse_ids))
    scope = models.Q(pk__in=wanted) if wanted else models.Q(pk__in=[])
    if goods and warehouses:
        scope |= models.Q(goods_id__in=goods, warehouse_id__in=warehouses)
    if not wanted and not (goods and warehouses):
        return {}
    rows = (
        StockBalance.objects.select_for_update(of=("self",))
        .select_related("batch")
        .filter(scope)
        .order_by("pk")
    )
    return {row.pk: row for row in rows}


def lock_balances_bulk(ids: Iterable[int]) -> int:
    """Lock the balance rows ``ids`` ``FOR UPDATE`` in primary-key order in one statement, like
    ``lock_balances``, without loading them (a set-based posting reads and writes them in SQL
    afterwards); return how many rows exist and are now locked. On PostgreSQL the ids travel as
    one array (``= ANY``), so tens of thousands of rows cost one parameter, not one each."""
    wanted = sorted(set(ids))
    if not wanted:
        return 0
    if connection.vendor != "postgresql":
        return StockBalance.objects.filter(pk__in=wanted).count()
    table = connection.ops.quote_name(StockBalance._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT id FROM {table} WHERE id = ANY(%s::bigint[]) "
            f"ORDER BY id FOR UPDATE) AS locked",
            [wanted],
        )
        return int(cursor.fetchone()[0])


def wait_for_goods_postings(goods_ids: Iterable[int]) -> None:
    """``FOR SHARE`` on every balance row of ``goods_ids``, in primary-key order, in one
    statement: returns once the postings in flight on those rows have committed (or rolled
    back); a statement run after it sees what they wrote. Balance rows a posting in flight has
    just inserted are not visible, so not waited for. Nothing to do on SQLite."""
    wanted = sorted(set(goods_ids))
    if not wanted or connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(StockBalance._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE goods_id = ANY(%s::bigint[]) ORDER BY id FOR SHARE",
            [wanted],
        )


def lock_bins_shared(ids: Iterable[int]) -> dict[int, bool]:
    """Take ``FOR SHARE`` locks on the bin rows ``ids`` in primary-key order; return
    ``{bin_id: is_active}`` as read under the lock. Receipts into the same bin do not block
    each other; a deactivation (``FOR UPDATE``) waits for them, or they wait for it."""
    from warehouses.models import Bin

    wanted = sorted(set(ids))
    if not wanted:
        return {}
    if connection.vendor != "postgresql":
        return dict(Bin.objects.filter(pk__in=wanted).values_list("pk", "is_active"))
    table = connection.ops.quote_name(Bin._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, is_active FROM {table} WHERE id = ANY(%s) ORDER BY id FOR SHARE",
            [wanted],
        )
        return dict(cursor.fetchall())


def lock_document(model: type[models.Model], pk: int) -> models.Model | None:
    """Lock one document row (``FOR UPDATE``) and return it fresh, or None when it is gone."""
    return model._default_manager.select_for_update(of=("self",)).filter(pk=pk).first()


def lock_goods_shared(ids: Iterable[int]) -> dict[int, tuple[str, bool, bool]]:
    """Take ``FOR KEY SHARE`` on the goods rows ``ids`` in primary-key order (one statement) and
    return ``{goods_id: (sku, is_active, is_combo)}`` as read under the lock. Postings that put
    stock on goods hold it until commit, so no goods becomes a combo meanwhile."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    if connection.vendor != "postgresql":
        rows = Goods.objects.filter(pk__in=wanted).values_list("pk", "sku", "is_active", "is_combo")
        return {pk: (sku, is_active, is_combo) for pk, sku, is_active, is_combo in rows}
    table = connection.ops.quote_name(Goods._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, sku, is_active, is_combo FROM {table} WHERE id = ANY(%s::bigint[]) "
            f"ORDER BY id FOR KEY SHARE",
            [wanted],
        )
        return {pk: (sku, is_active, is_combo) for pk, sku, is_active, is_combo in cursor}


def lock_goods(ids: Iterable[int]) -> dict[int, Goods]:
    """Lock the goods rows ``ids`` ``FOR UPDATE`` in primary-key order (evaluated at once) and
    return them fresh by id: what changes ``is_combo`` takes first (the combo editor, the combo
    import), so it waits for postings holding ``lock_goods_shared`` and they wait for it."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = Goods.objects.select_for_update(of=("self",)).filter(pk__in=wanted).order_by("pk")
    return {row.pk: row for row in rows}
