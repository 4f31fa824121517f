"""``ledger.reserve_many``: many documents released and reserved in one posting, planned on the
quantities read under its locks (a page of shop orders). On real PostgreSQL: the candidates
are locked in primary-key order before anything is written, balances and movements are one
statement, a bad plan or a replayed key writes nothing, and racing postings never oversell."""

import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from inventory import hooks, ledger
from inventory.exceptions import AlreadyPosted, InsufficientStock, InvalidQuantity
from inventory.models import StockBalance, StockMovement
from inventory.tests.factories import BatchFactory, GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BATCH = ledger.Document(type="shop_order", ref="page 1")
BALANCE_TABLE = '"inventory_stockbalance"'


def doc(n: int) -> ledger.Document:
    return ledger.Document(type="shop_order", id=n, ref=f"#{n}")


def take(plan_holds):
    """A planner reserving the given ``{document number: [(balance, quantity)]}``."""

    def plan(available, balances):
        return [
            ledger.DocumentHolds(
                document=doc(n),
                holds=tuple(ledger.Hold(pk, q) for pk, q in holds),
                idempotency_key=f"test-reserve:{n}",
            )
            for n, holds in plan_holds.items()
        ]

    return plan


@pytest.fixture
def two_bins():
    first = BinFactory()
    return first, BinFactory(zone=first.zone)


def test_reserves_for_many_documents_in_one_posting(two_bins):
    # given
    first, second = two_bins
    goods = GoodsFactory()
    a = receive_stock(goods, first, 5)
    b = receive_stock(goods, second, 5)
    seen = []

    # when
    with hooks.registered(in_transaction=seen.append):
        releases, postings = ledger.reserve_many(
            goods_ids=[goods.pk],
            warehouse_ids=[first.warehouse_id],
            plan=take({1: [(a.pk, 2)], 2: [(b.pk, 1), (a.pk, 3)]}),
            document=BATCH,
            reason="order",
        )

    # then: each document its own movements and key, the hooks once for the batch
    assert releases == [] and [p.total for p in postings] == [2, 4]
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.reserved, b.reserved) == (5, 1)
    rows = list(StockMovement.objects.filter(kind="reserve").order_by("pk"))
    assert [(m.document_id, m.quantity) for m in rows] == [(1, 2), (2, 1), (2, 3)]
    assert [m.idempotency_key for m in rows] == ["test-reserve:1", "test-reserve:2", None]
    assert len(seen) == 1 and seen[0].document_ref == "page 1" and len(seen[0].movements) == 3


def test_each_movement_object_carries_the_id_of_its_own_row(two_bins):
    # given: many documents over two balances, written in one statement
    first, second = two_bins
    goods = GoodsFactory()
    a = receive_stock(goods, first, 40)
    b = receive_stock(goods, second, 40)
    plan = {n: [(a.pk if n % 2 else b.pk, 1 + n % 3)] for n in range(1, 21)}

    # when
    _releases, postings = ledger.reserve_many(
        goods_ids=[goods.pk],
        warehouse_ids=[first.warehouse_id],
        plan=take(plan),
        document=BATCH,
    )

    # then: the objects the hooks and callers get name the rows that hold their content
    objects = [m for posting in postings for m in posting.movements]
    assert len(objects) == 20
    stored = StockMovement.objects.in_bulk([m.pk for m in objects])
    assert [
        (stored[m.pk].document_id, stored[m.pk].balance_id, stored[m.pk].quantity) for m in objects
    ] == [(m.document_id, m.balance_id, m.quantity) for m in objects]
    assert [m.document_id for m in objects] == list(range(1, 21))


def test_the_planner_sees_the_candidates_with_fresh_quantities_and_expiry(two_bins):
    # given
    first, second = two_bins
    goods, other = GoodsFactory(), GoodsFactory()
    batch = BatchFactory(goods=goods)
    early = receive_stock(goods, first, 4, batch=batch)
    plain = receive_stock(goods, second, 3)
    receive_stock(other, first, 9)
    ledger.reserve(holds=[ledger.Hold(early.pk, 1)], document=doc(9))
    got = {}

    def plan(available, balances):
        got.update(available=available, balances=balances)
        return []

    # when
    ledger.reserve_many(
        goods_ids=[goods.pk],
        warehouse_ids=[first.warehouse_id],
        plan=plan,
        document=BATCH,
    )

    # then: both balances of the goods in that warehouse, not the other goods
    assert got["available"] == {early.pk: 3, plain.pk: 3}
    assert got["balances"][early.pk].expiry_date == batch.expiry_date
    assert got["balances"][plain.pk].batch_id is None
    assert not StockMovement.objects.filter(kind="reserve", document_ref="page 1").exists()


def test_releases_come_first_and_their_units_can_be_planned_again(two_bins):
    # given: document 1 holds all 5 units
    first, _second = two_bins
    goods = GoodsFactory()
    a = receive_stock(goods, first, 5)
    ledger.reserve(holds=[ledger.Hold(a.pk, 5)], document=doc(1))

    # when: released and 4 of them reserved again for it, in one posting
    released, postings = ledger.reserve_many(
        balance_ids=[a.pk],
        releases=[
            ledger.DocumentHolds(
                document=doc(1), holds=(ledger.Hold(a.pk, 5),), idempotency_key="rel:1"
            )
        ],
        plan=lambda available, _b: [
            ledger.DocumentHolds(document=doc(1), holds=(ledger.Hold(a.pk, available[a.pk] - 1),))
        ],
        document=BATCH,
    )

    # then
    a.refresh_from_db()
    assert a.reserved == 4
    assert [m.kind for m in released[0].movements] == ["unreserve"]
    assert [m.kind for m in postings[0].movements] == ["reserve"]


def test_a_plan_taking_more_than_available_writes_nothing(two_bins):
    # given
    first, _second = two_bins
    goods = GoodsFactory()
    a = receive_stock(goods, first, 3)
    before = StockMovement.objects.count()

    # when / then
    with pytest.raises(InsufficientStock), transaction.atomic():
        ledger.reserve_many(
            balance_ids=[a.pk], plan=take({1: [(a.pk, 2)], 2: [(a.pk, 2)]}), document=BATCH
        )
    a.refresh_from_db()
    assert a.reserved == 0 and StockMovement.objects.count() == before


def test_releasing_more_than_reserved_is_refused(two_bins):
    first, _second = two_bins
    a = receive_stock(GoodsFactory(), first, 3)
    with pytest.raises(InvalidQuantity):
        ledger.reserve_many(
            balance_ids=[],
            releases=[ledger.DocumentHolds(document=doc(1), holds=(ledger.Hold(a.pk, 1),))],
            plan=take({}),
            document=BATCH,
        )


def test_a_replayed_key_posts_nothing(two_bins):
    # given
    first, _second = two_bins
    a = receive_stock(GoodsFactory(), first, 5)
    ledger.reserve_many(balance_ids=[a.pk], plan=take({1: [(a.pk, 1)]}), document=BATCH)

    # when / then: the same document key again, beside a new one
    with pytest.raises(AlreadyPosted), transaction.atomic():
        ledger.reserve_many(
            balance_ids=[a.pk], plan=take({2: [(a.pk, 1)], 1: [(a.pk, 1)]}), document=BATCH
        )
    a.refresh_from_db()
    assert a.reserved == 1


def test_locks_candidates_in_primary_key_order_then_writes_in_one_statement(two_bins):
    # given
    first, second = two_bins
    goods = [GoodsFactory() for _ in range(3)]
    balances = [receive_stock(g, b, 2) for g in reversed(goods) for b in (second, first)]

    # when
    with CaptureQueriesContext(connection) as ctx:
        ledger.reserve_many(
            goods_ids=[g.pk for g in goods],
            warehouse_ids=[first.warehouse_id],
            plan=take({n: [(b.pk, 1)] for n, b in enumerate(balances)}),
            document=BATCH,
        )

    # then
    sqls = [q["sql"] for q in ctx.captured_queries]
    lock_at = next(i for i, s in enumerate(sqls) if "FOR UPDATE" in s and BALANCE_TABLE in s)
    write_at = next(i for i, s in enumerate(sqls) if s.startswith("WITH b AS (UPDATE"))
    assert lock_at < write_at
    assert 'ORDER BY "inventory_stockbalance"."id" ASC' in sqls[lock_at]
    assert 'FOR UPDATE OF "inventory_stockbalance"' in sqls[lock_at]
    assert 'INSERT INTO "inventory_stockmovement"' in sqls[write_at]
    assert not any(s.startswith(f"UPDATE {BALANCE_TABLE}") for s in sqls)
    assert sum(b.reserved for b in StockBalance.objects.all()) == 6


def test_racing_batches_and_shipments_never_oversell(two_bins):
    # given: 20 units, four batches of 3 documents x 2 units and four shipments of 3
    first, _second = two_bins
    goods = GoodsFactory()
    a = receive_stock(goods, first, 20)
    errors = []
    start = threading.Barrier(8)

    def batch(n):
        def plan(available, _balances):
            out = []
            for d in range(3):
                if available[a.pk] >= 2:
                    available[a.pk] -= 2
                    out.append(
                        ledger.DocumentHolds(
                            document=doc(n * 10 + d), holds=(ledger.Hold(a.pk, 2),)
                        )
                    )
            return out

        try:
            start.wait(5)
            ledger.reserve_many(
                goods_ids=[goods.pk], warehouse_ids=[first.warehouse_id], plan=plan, document=BATCH
            )
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connections.close_all()

    def ship():
        try:
            start.wait(5)
            ledger.issue(
                kind="out_other",
                warehouse_id=first.warehouse_id,
                lines=[ledger.Pick(goods.pk, 3)],
                document=ledger.Document(type="other", ref="ship"),
            )
        except InsufficientStock:
            pass
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=batch, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=ship) for _ in range(4)]

    # when
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    # then
    assert not errors
    a.refresh_from_db()
    assert 0 <= a.reserved <= a.on_hand and a.on_hand >= 0
    assert a.reserved == sum(m.reserved_delta for m in StockMovement.objects.filter(balance=a))
    assert a.on_hand == sum(m.on_hand_delta for m in StockMovement.objects.filter(balance=a))
