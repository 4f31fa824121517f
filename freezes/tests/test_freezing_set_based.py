"""Whole-scope freezes and the near-expiry scan freeze through the ledger's set-based
``freeze_all_available``: a few statements per chunk whatever the number of balances, chunks in
ascending primary-key ranges with progress after each, movements that reconcile."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from freezes.models import Freeze, FreezeLine, Reason
from freezes.scope import Scope
from freezes.services import freezing
from freezes.tests.conftest import Kind, receive
from inventory.models import StockBalance, StockMovement
from inventory.selectors.stock import balance_drift
from inventory.tests.factories import GoodsFactory
from warehouses.tests.factories import BinFactory

pytestmark = pytest.mark.django_db


def _stock(world, count: int) -> list[StockBalance]:
    return [receive(GoodsFactory(category=world.phones), world.bin, 3) for _ in range(count)]


def test_a_whole_scope_freeze_posts_ascending_chunks_and_tells_progress(
    world, make_user, monkeypatch
):
    # given: 5 balances, chunks of 2
    clerk = make_user("staff")
    balances = _stock(world, 5)
    monkeypatch.setattr(freezing, "FREEZE_ALL_CHUNK", 2)
    told = []

    # when
    freeze = freezing.freeze_create(
        scope=Scope(category_id=world.phones.pk),
        reason=Reason.QC_HOLD,
        operator=clerk,
        progress=told.append,
    )

    # then
    assert told == [2, 4, 5]
    movements = list(
        StockMovement.objects.filter(kind=Kind.FREEZE, document_id=freeze.pk).order_by("pk")
    )
    assert [m.balance_id for m in movements] == sorted(b.pk for b in balances)
    assert sum(1 for m in movements if m.operator_id == clerk.pk) == 5
    lines = FreezeLine.objects.filter(freeze=freeze)
    assert sorted(lines.values_list("balance_id", "quantity")) == sorted(
        (b.pk, 3) for b in balances
    )
    assert balance_drift() == []


def test_a_chunk_with_nothing_left_is_skipped_and_the_rest_is_frozen(world, make_user, monkeypatch):
    # given: the first chunk's balances are all frozen already
    clerk = make_user("staff")
    balances = _stock(world, 4)
    monkeypatch.setattr(freezing, "FREEZE_ALL_CHUNK", 2)
    ids = sorted(b.pk for b in balances)
    freezing.freeze_create(
        scope=Scope(goods_id=StockBalance.objects.get(pk=ids[0]).goods_id),
        reason=Reason.QC_HOLD,
        operator=clerk,
    )
    freezing.freeze_create(
        scope=Scope(goods_id=StockBalance.objects.get(pk=ids[1]).goods_id),
        reason=Reason.QC_HOLD,
        operator=clerk,
    )

    # when: everything goes through the helper, stale ids included
    freeze = Freeze.objects.create(reason=Reason.QC_HOLD, created_by=clerk)
    movements = freezing.freeze_everything_available(freeze, ids, operator=clerk, reason="qc")

    # then
    assert sorted(m.balance_id for m in movements) == ids[2:]
    assert balance_drift() == []


@pytest.mark.postgres
def test_a_whole_scope_freeze_costs_the_same_statements_for_10_or_60_balances(world, make_user):
    # given: two categories of 10 and 60 balances
    clerk = make_user("staff")
    small, large = world.phones, world.food
    for _ in range(10):
        receive(GoodsFactory(category=small), world.bin, 2)
    for _ in range(60):
        receive(GoodsFactory(category=large), world.bin2, 2)
    other = BinFactory(zone=world.bin.zone)
    receive(GoodsFactory(category=large), other, 2)

    # when
    counts = []
    for category in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            freeze = freezing.freeze_create(
                scope=Scope(category_id=category.pk), reason=Reason.QC_HOLD, operator=clerk
            )
        counts.append(len(ctx.captured_queries))
        assert freeze.lines.count() in (10, 61)

    # then: no statement per balance
    assert counts[0] == counts[1]
    assert balance_drift() == []
