"""``ledger.freeze_all_available``: the set-based freeze of everything available on many
balances. It must behave as ``ledger.freeze`` with ``Hold(pk)`` per balance (movements that
reconcile, the hooks fired, the CHECK constraints kept), lock in primary-key order on
PostgreSQL, and never let a concurrent shipment oversell."""

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from inventory import hooks, ledger
from inventory.exceptions import AlreadyPosted, InsufficientStock, InvalidInput, StockError
from inventory.models import StockBalance, StockMovement
from inventory.selectors.stock import balance_drift
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

Kind = StockMovement.Kind
DOC = ledger.Document(type="freeze", id=7, ref="FRZ-000007")
BALANCE_TABLE = '"inventory_stockbalance"'


@pytest.fixture
def stock():
    """Three balances: 10 on hand (2 reserved), 4 on hand (all frozen), 6 on hand."""
    first = BinFactory()
    second = BinFactory(zone=first.zone)
    goods = GoodsFactory()
    partly = receive_stock(goods, first, 10)
    ledger.reserve(holds=[ledger.Hold(partly.pk, 2)], document=ledger.Document(type="other"))
    full = receive_stock(goods, second, 4)
    ledger.freeze(holds=[ledger.Hold(full.pk)], document=ledger.Document(type="other"))
    free = receive_stock(GoodsFactory(), first, 6)
    return partly, full, free


def quantities(*balances):
    return [
        StockBalance.objects.values_list("on_hand", "frozen", "reserved").get(pk=b.pk)
        for b in balances
    ]


@pytest.mark.django_db
def test_freeze_all_available_freezes_what_is_available_and_skips_the_rest(stock):
    # given
    partly, full, free = stock

    # when
    posting = ledger.freeze_all_available(
        balance_ids=[free.pk, full.pk, partly.pk],
        document=DOC,
        reason="near_expiry: rule",
        idempotency_key="scan-1",
    )

    # then: one freeze movement per balance with units available, ascending
    assert posting.quantities() == {partly.pk: 8, free.pk: 6}
    assert [m.balance_id for m in posting.movements] == sorted([partly.pk, free.pk])
    assert quantities(partly, full, free) == [(10, 8, 2), (4, 4, 0), (6, 6, 0)]
    saved = list(StockMovement.objects.filter(kind=Kind.FREEZE, document_id=7).order_by("pk"))
    assert [m.pk for m in saved] == [m.pk for m in posting.movements]
    first, second = saved
    assert (first.quantity, first.frozen_delta, first.on_hand_delta) == (8, 8, 0)
    assert (first.goods_id, first.bin_id, first.warehouse_id) == (
        partly.goods_id,
        partly.bin_id,
        partly.warehouse_id,
    )
    assert (first.document_type, first.document_ref, first.reason) == (
        "freeze",
        "FRZ-000007",
        "near_expiry: rule",
    )
    assert first.idempotency_key == "scan-1" and second.idempotency_key is None
    assert posting.movements[0].created_at == first.created_at


@pytest.mark.django_db
def test_freeze_all_available_writes_movements_that_reconcile(stock):
    # given
    partly, full, free = stock

    # when
    ledger.freeze_all_available(balance_ids=[partly.pk, full.pk, free.pk], document=DOC)

    # then
    assert balance_drift() == []
    call_command("wms_reconcile", stdout=io.StringIO())


@pytest.mark.django_db
def test_freeze_all_available_with_nothing_available_refuses_and_writes_nothing(stock):
    # given
    _partly, full, _free = stock
    before = StockMovement.objects.count()

    # when / then
    with pytest.raises(InsufficientStock) as error:
        ledger.freeze_all_available(balance_ids=[full.pk], document=DOC)
    assert error.value.requested == 0
    assert StockMovement.objects.count() == before
    assert quantities(full) == [(4, 4, 0)]


@pytest.mark.django_db
def test_freeze_all_available_refuses_unknown_balances_and_empty_lists(stock):
    # given
    partly, _full, _free = stock
    before = StockMovement.objects.count()

    # when / then
    with pytest.raises(InvalidInput):
        ledger.freeze_all_available(balance_ids=[partly.pk, 999_999_999], document=DOC)
    with pytest.raises(InvalidInput):
        ledger.freeze_all_available(balance_ids=[], document=DOC)
    assert StockMovement.objects.count() == before
    assert quantities(partly) == [(10, 0, 2)]


@pytest.mark.django_db
def test_freeze_all_available_posts_a_key_once(stock):
    # given
    partly, _full, free = stock
    ledger.freeze_all_available(balance_ids=[partly.pk], document=DOC, idempotency_key="twice")

    # when / then
    with pytest.raises(AlreadyPosted):
        ledger.freeze_all_available(
            balance_ids=[partly.pk, free.pk], document=DOC, idempotency_key="twice"
        )
    assert quantities(partly, free) == [(10, 8, 2), (6, 0, 0)]


@pytest.mark.django_db
def test_freeze_all_available_fires_the_hooks_like_every_posting(
    stock, django_capture_on_commit_callbacks
):
    # given
    partly, _full, free = stock
    inside, after = [], []

    def in_transaction(event):
        # the rows are written and still locked when the in-transaction hook runs
        inside.append(
            (event.kinds, event.balance_ids, StockBalance.objects.get(pk=partly.pk).frozen)
        )

    # when
    with (
        hooks.registered(in_transaction=in_transaction, after_commit=after.append),
        django_capture_on_commit_callbacks(execute=True),
    ):
        posting = ledger.freeze_all_available(
            balance_ids=[partly.pk, free.pk], document=DOC, operator=None
        )

    # then
    assert inside == [(frozenset({Kind.FREEZE}), tuple(sorted([partly.pk, free.pk])), 8)]
    assert len(after) == 1
    assert after[0].movements == tuple(posting.movements)
    assert (after[0].document_type, after[0].document_id) == ("freeze", 7)


@pytest.mark.django_db
def test_a_hook_refusing_the_posting_rolls_the_freeze_back(stock):
    # given
    partly, _full, free = stock

    def refuse(event):
        raise InvalidInput("no")

    # when
    with (
        hooks.registered(in_transaction=refuse, kinds={Kind.FREEZE}),
        pytest.raises(InvalidInput),
    ):
        ledger.freeze_all_available(balance_ids=[partly.pk, free.pk], document=DOC)

    # then
    assert quantities(partly, free) == [(10, 0, 2), (6, 0, 0)]
    assert not StockMovement.objects.filter(document_id=7).exists()


# --- PostgreSQL: locks and races ------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_freeze_all_available_locks_in_primary_key_order_before_writing(stock):
    # given
    partly, full, free = stock
    ids = [free.pk, partly.pk, full.pk]

    # when
    with CaptureQueriesContext(connection) as ctx:
        ledger.freeze_all_available(balance_ids=ids, document=DOC)

    # then: one ordered FOR UPDATE statement of every row, then one statement that writes
    sqls = [q["sql"] for q in ctx.captured_queries if BALANCE_TABLE in q["sql"]]
    assert len(sqls) == 2
    lock, write = sqls
    assert "ORDER BY id FOR UPDATE" in lock and "= ANY(" in lock
    assert f"UPDATE {BALANCE_TABLE} SET frozen" in write
    assert 'INSERT INTO "inventory_stockmovement"' in write
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {lock}")
        plan = [row[0].strip().lstrip("-> ") for row in cursor.fetchall()]
    # the rows are locked as they leave the ordered scan or the sort: in ascending primary key
    below = plan[next(i for i, line in enumerate(plan) if line.startswith("LockRows")) + 1]
    assert below.startswith(("Sort", "Index Scan using inventory_stockbalance_pkey"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_freeze_all_available_waiting_for_a_row_holds_only_the_lower_ones(stock):
    # given: another transaction holds the middle row
    partly, full, free = sorted(stock, key=lambda b: b.pk)
    params = connection.get_connection_params()
    holder = psycopg2.connect(**params)
    holder.cursor().execute(f"SELECT 1 FROM {BALANCE_TABLE} WHERE id = %s FOR UPDATE", [full.pk])
    done = threading.Event()

    def post():
        try:
            ledger.freeze_all_available(balance_ids=[free.pk, full.pk, partly.pk], document=DOC)
        finally:
            connections.close_all()
            done.set()

    worker = threading.Thread(target=post)
    worker.start()
    probe = psycopg2.connect(**params)
    try:
        # when: the posting waits for the middle row
        locked = []
        for _ in range(100):
            locked = []
            for pk in (partly.pk, free.pk):
                try:
                    probe.cursor().execute(
                        f"SELECT 1 FROM {BALANCE_TABLE} WHERE id = %s FOR UPDATE NOWAIT", [pk]
                    )
                except psycopg2.errors.LockNotAvailable:
                    locked.append(pk)
                probe.rollback()
            if locked:
                break
            done.wait(0.05)

        # then: it holds the lower row, not yet the higher one
        assert locked == [partly.pk]
        assert not done.is_set()
    finally:
        holder.rollback()
        holder.close()
        probe.close()
        worker.join(10)
    assert quantities(partly, full, free) == [(10, 8, 2), (4, 4, 0), (6, 6, 0)]


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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_freeze_all_available_racing_shipments_never_oversells():
    # given: 8 balances of one goods, 5 units each
    first = BinFactory()
    goods = GoodsFactory()
    bins = [first] + [BinFactory(zone=first.zone) for _ in range(7)]
    balances = [receive_stock(goods, b, 5) for b in bins]
    ids = [b.pk for b in balances]
    barrier = threading.Barrier(7)

    def work(i):
        barrier.wait()
        if i == 0:
            return ledger.freeze_all_available(balance_ids=list(reversed(ids)), document=DOC)
        shipped = 0
        for n in range(6):
            named = ids[(i + n) % len(ids)] if n % 2 else None
            try:
                ledger.issue(
                    kind=Kind.OUTBOUND_ORDER_SHIPMENT,
                    warehouse_id=first.warehouse_id,
                    lines=[ledger.Pick(goods.pk, 2, balance_id=named)],
                    document=ledger.Document(type="outbound", ref=f"SHIP-{i}-{n}"),
                )
                shipped += 2
            except InsufficientStock:
                pass
        return shipped

    # when
    results = run_threads(work, 7)

    # then: every unit is either shipped or frozen (by the freeze or still available), none
    # twice, none below zero
    freeze = results[0]
    shipped = sum(results[1:])
    assert not isinstance(freeze, Exception) or isinstance(freeze, InsufficientStock)
    frozen_by_freeze = 0 if isinstance(freeze, Exception) else freeze.total
    rows = list(StockBalance.objects.filter(pk__in=ids))
    assert all(r.on_hand >= 0 and r.available >= 0 for r in rows)
    assert sum(r.frozen for r in rows) == frozen_by_freeze
    assert shipped + sum(r.on_hand for r in rows) == 40
    assert shipped + frozen_by_freeze + sum(r.available for r in rows) == 40
    assert sum(r.available for r in rows) == 0
    assert balance_drift() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_shipment_waiting_for_the_freeze_finds_nothing_available():
    # given: the freeze is paused inside its transaction (rows written, locks held)
    first = BinFactory()
    goods = GoodsFactory()
    balance = receive_stock(goods, first, 5)
    inside, release = threading.Event(), threading.Event()
    outcome = {}

    def pause(event):
        inside.set()
        release.wait(10)

    def freeze():
        try:
            with transaction.atomic():
                ledger.freeze_all_available(balance_ids=[balance.pk], document=DOC)
        finally:
            connections.close_all()

    def ship():
        try:
            ledger.issue(
                kind=Kind.OUTBOUND_ORDER_SHIPMENT,
                warehouse_id=first.warehouse_id,
                lines=[ledger.Pick(goods.pk, 1, balance_id=balance.pk)],
                document=ledger.Document(type="outbound", ref="SHIP"),
            )
            outcome["shipped"] = True
        except InsufficientStock:
            outcome["shipped"] = False
        finally:
            connections.close_all()

    # when
    with hooks.registered(in_transaction=pause, kinds={Kind.FREEZE}):
        freezer = threading.Thread(target=freeze)
        freezer.start()
        assert inside.wait(10)
        shipper = threading.Thread(target=ship)
        shipper.start()
        shipper.join(0.5)
        waited = shipper.is_alive()
        release.set()
        freezer.join(10)
        shipper.join(10)

    # then
    assert waited
    assert outcome == {"shipped": False}
    balance.refresh_from_db()
    assert (balance.on_hand, balance.frozen) == (5, 5)
