"""Locking of the ledger on real PostgreSQL: every posting locks its balance rows in primary-key
order before writing them, and concurrent postings neither oversell nor deadlock."""

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from inventory import hooks, ledger
from inventory.exceptions import AlreadyPosted, InsufficientStock, StockError
from inventory.models import StockBalance, StockMovement
from inventory.tests.factories import BatchFactory, GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

Kind = StockMovement.Kind
DOC = ledger.Document(type="other", ref="LOCK")
BALANCE_TABLE = '"inventory_stockbalance"'


def writes_after_ordered_lock(queries: list[dict]) -> list[int]:
    """Assert the first write of the balance table comes after a FOR UPDATE select ordered by
    primary key; return the ids that select named, in the order it named them."""
    sqls = [q["sql"] for q in queries]
    lock_at = next(i for i, sql in enumerate(sqls) if "FOR UPDATE" in sql and BALANCE_TABLE in sql)
    write_at = next(i for i, sql in enumerate(sqls) if sql.startswith(f"UPDATE {BALANCE_TABLE}"))
    assert lock_at < write_at
    lock_sql = sqls[lock_at]
    assert re.search(r'ORDER BY "inventory_stockbalance"\."id" ASC', lock_sql)
    assert 'FOR UPDATE OF "inventory_stockbalance"' in lock_sql
    ids = [int(x) for x in re.search(r"IN \(([\d, ]+)\)", lock_sql).group(1).split(", ")]
    return ids


@pytest.fixture
def two_bins():
    first = BinFactory()
    return first, BinFactory(zone=first.zone)


def test_receive_locks_balances_in_primary_key_order_before_writing(two_bins):
    # given
    first, second = two_bins
    goods = [GoodsFactory() for _ in range(3)]
    for g in goods:
        receive_stock(g, first, 1)

    # when
    with CaptureQueriesContext(connection) as ctx:
        ledger.receive(
            kind=Kind.INBOUND_PURCHASE,
            lines=[ledger.Receipt(g.pk, b.pk, 1) for g in reversed(goods) for b in (second, first)],
            document=DOC,
        )

    # then
    ids = writes_after_ordered_lock(ctx.captured_queries)
    assert ids == sorted(ids) and len(ids) == 6
    share = next(q["sql"] for q in ctx.captured_queries if "FOR SHARE" in q["sql"])
    assert "ORDER BY id" in share


def test_issue_locks_candidates_in_primary_key_order_before_writing(two_bins):
    # given
    first, second = two_bins
    goods = GoodsFactory()
    for batch in [BatchFactory(goods=goods) for _ in range(3)]:
        receive_stock(goods, second, 2, batch=batch)
        receive_stock(goods, first, 2, batch=batch)

    # when
    with CaptureQueriesContext(connection) as ctx:
        ledger.issue(
            kind=Kind.OUTBOUND_ORDER_SHIPMENT,
            warehouse_id=first.warehouse_id,
            lines=[ledger.Pick(goods.pk, 9)],
            document=DOC,
        )

    # then
    ids = writes_after_ordered_lock(ctx.captured_queries)
    assert ids == sorted(ids) and len(ids) == 6


def test_single_balance_issue_locks_with_one_conditional_update(two_bins):
    # given
    first, _second = two_bins
    goods = GoodsFactory()
    balance = receive_stock(goods, first, 5)

    # when
    with CaptureQueriesContext(connection) as ctx:
        ledger.issue(
            kind=Kind.OUTBOUND_ORDER_SHIPMENT,
            warehouse_id=first.warehouse_id,
            lines=[ledger.Pick(goods.pk, 2, balance_id=balance.pk)],
            document=DOC,
        )

    # then: the conditional UPDATE is the first statement touching the row (it takes the lock),
    # and the same statement inserts the movement, so the lock is held only until the commit
    sqls = [q["sql"] for q in ctx.captured_queries]
    touching = [s for s in sqls if BALANCE_TABLE in s or '"inventory_stockmovement"' in s]
    assert len(touching) == 1
    assert touching[0].startswith(f"WITH moved AS (UPDATE {BALANCE_TABLE} SET on_hand = on_hand -")
    assert "on_hand - frozen - reserved >=" in touching[0]
    assert 'INSERT INTO "inventory_stockmovement"' in touching[0]


def test_transfer_locks_both_ends_in_primary_key_order_before_writing(two_bins):
    # given
    first, second = two_bins
    goods = [GoodsFactory() for _ in range(2)]
    for g in goods:
        receive_stock(g, second, 3)
        receive_stock(g, first, 3)

    # when
    with CaptureQueriesContext(connection) as ctx:
        ledger.transfer(
            moves=[
                ledger.Move(goods[1].pk, second.pk, first.pk, 1),
                ledger.Move(goods[0].pk, first.pk, second.pk, 1),
            ],
            document=DOC,
        )

    # then
    ids = writes_after_ordered_lock(ctx.captured_queries)
    assert ids == sorted(ids) and len(ids) == 4


def test_adjust_locks_in_primary_key_order_before_writing(two_bins):
    # given
    first, second = two_bins
    goods = GoodsFactory()
    receive_stock(goods, second, 3)
    receive_stock(goods, first, 3)

    # when
    with CaptureQueriesContext(connection) as ctx:
        ledger.adjust(
            warehouse_id=first.warehouse_id,
            lines=[ledger.Count(goods.pk, second.pk, 1), ledger.Count(goods.pk, first.pk, 5)],
            document=DOC,
            reason="count",
        )

    # then
    ids = writes_after_ordered_lock(ctx.captured_queries)
    assert ids == sorted(ids) and len(ids) == 2


@pytest.mark.parametrize("action", ["freeze", "reserve", "freeze_fefo", "unfreeze"])
def test_holds_lock_in_primary_key_order_before_writing(two_bins, action):
    # given
    first, second = two_bins
    goods = GoodsFactory()
    late = receive_stock(goods, second, 3)
    early = receive_stock(goods, first, 3)
    ledger.freeze(holds=[ledger.Hold(late.pk, 1), ledger.Hold(early.pk, 1)], document=DOC)
    holds = [ledger.Hold(early.pk, 1), ledger.Hold(late.pk, 1)]

    # when
    with CaptureQueriesContext(connection) as ctx:
        if action == "freeze_fefo":
            ledger.freeze_fefo(balance_ids=[early.pk, late.pk], quantity=3, document=DOC)
        else:
            getattr(ledger, action)(holds=holds, document=DOC)

    # then
    ids = writes_after_ordered_lock(ctx.captured_queries)
    assert ids == sorted(ids) and len(ids) == 2


def test_rows_stay_locked_until_the_posting_commits(two_bins):
    # given: a posting paused inside its transaction by an in-transaction hook
    first, second = two_bins
    goods = GoodsFactory()
    a = receive_stock(goods, first, 5)
    b = receive_stock(goods, second, 5)
    inside, release = threading.Event(), threading.Event()

    def pause(event):
        inside.set()
        release.wait(10)

    def post():
        try:
            ledger.transfer(moves=[ledger.Move(goods.pk, first.pk, second.pk, 1)], document=DOC)
        finally:
            connections.close_all()

    # when
    with hooks.registered(in_transaction=pause, kinds={Kind.TRANSFER_OUT}):
        worker = threading.Thread(target=post)
        worker.start()
        assert inside.wait(10)
        params = connection.get_connection_params()
        other = psycopg2.connect(**params)
        try:
            cursor = other.cursor()
            locked = []
            for pk in (a.pk, b.pk):
                try:
                    cursor.execute(
                        f"SELECT 1 FROM {BALANCE_TABLE} WHERE id = %s FOR UPDATE NOWAIT", [pk]
                    )
                except psycopg2.errors.LockNotAvailable:
                    locked.append(pk)
                other.rollback()
        finally:
            other.close()
            release.set()
            worker.join(10)

    # then
    assert locked == [a.pk, b.pk]


# --- races ----------------------------------------------------------------------------------


def run_threads(fn, n: int):
    def wrapped(i):
        try:
            return fn(i)
        except StockError as exc:
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(wrapped, range(n)))


def test_concurrent_shipments_of_one_balance_never_oversell(two_bins):
    # given
    first, _ = two_bins
    goods = GoodsFactory()
    balance = receive_stock(goods, first, 5)
    barrier = threading.Barrier(10)

    def ship(i):
        barrier.wait()
        line = ledger.Pick(goods.pk, 1, balance_id=balance.pk if i % 2 else None)
        return ledger.issue(
            kind=Kind.OUTBOUND_ORDER_SHIPMENT,
            warehouse_id=first.warehouse_id,
            lines=[line],
            document=DOC,
        )

    # when
    results = run_threads(ship, 10)

    # then
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 5 and all(isinstance(r, InsufficientStock) for r in refused)
    balance.refresh_from_db()
    assert balance.on_hand == 0


def test_crossing_transfers_do_not_deadlock(two_bins):
    # given
    first, second = two_bins
    goods = [GoodsFactory() for _ in range(3)]
    for g in goods:
        receive_stock(g, first, 100)
        receive_stock(g, second, 100)
    barrier = threading.Barrier(8)

    def move(i):
        barrier.wait()
        src, dst = (first, second) if i % 2 else (second, first)
        order = goods if i % 2 else list(reversed(goods))
        for _ in range(10):
            ledger.transfer(
                moves=[ledger.Move(g.pk, src.pk, dst.pk, 1) for g in order], document=DOC
            )
        return "ok"

    # when
    results = run_threads(move, 8)

    # then
    assert results == ["ok"] * 8
    totals = Counter()
    for goods_id, on_hand in StockBalance.objects.values_list("goods_id", "on_hand"):
        totals[goods_id] += on_hand
    assert set(totals.values()) == {200}


def test_concurrent_first_receipts_create_one_balance_row(two_bins):
    # given
    first, second = two_bins
    goods = [GoodsFactory() for _ in range(4)]
    barrier = threading.Barrier(6)

    def receive(i):
        barrier.wait()
        order = goods if i % 2 else list(reversed(goods))
        ledger.receive(
            kind=Kind.INBOUND_PURCHASE,
            lines=[ledger.Receipt(g.pk, b.pk, 1) for g in order for b in (first, second)],
            document=DOC,
        )
        return "ok"

    # when
    results = run_threads(receive, 6)

    # then
    assert results == ["ok"] * 6
    assert StockBalance.objects.count() == 8
    assert set(StockBalance.objects.values_list("on_hand", flat=True)) == {6}


def test_the_same_operation_posted_twice_at_once_posts_once(two_bins):
    # given
    first, _ = two_bins
    goods = GoodsFactory()
    balance = receive_stock(goods, first, 10)
    barrier = threading.Barrier(4)

    def ship(i):
        barrier.wait()
        return ledger.issue(
            kind=Kind.OUTBOUND_ORDER_SHIPMENT,
            warehouse_id=first.warehouse_id,
            lines=[ledger.Pick(goods.pk, 1, balance_id=balance.pk if i % 2 else None)],
            document=DOC,
            idempotency_key="tab-twice",
        )

    # when
    results = run_threads(ship, 4)

    # then
    assert sum(isinstance(r, AlreadyPosted) for r in results) == 3
    balance.refresh_from_db()
    assert balance.on_hand == 9


def test_freezes_and_shipments_racing_keep_the_laws(two_bins):
    # given
    first, _ = two_bins
    goods = GoodsFactory()
    balance = receive_stock(goods, first, 20)
    barrier = threading.Barrier(8)

    def work(i):
        barrier.wait()
        outcomes = []
        for _ in range(5):
            try:
                if i % 2:
                    ledger.freeze(holds=[ledger.Hold(balance.pk, 1)], document=DOC)
                else:
                    ledger.issue(
                        kind=Kind.OUTBOUND_ORDER_SHIPMENT,
                        warehouse_id=first.warehouse_id,
                        lines=[ledger.Pick(goods.pk, 1)],
                        document=DOC,
                    )
                outcomes.append("ok")
            except InsufficientStock:
                outcomes.append("short")
        return outcomes

    # when
    results = run_threads(work, 8)

    # then
    balance.refresh_from_db()
    done = sum(r.count("ok") for r in results)
    assert done == 20
    shipped = 20 - balance.on_hand
    assert shipped + balance.frozen == 20
    assert balance.available == 0
