"""Hypothesis stateful test: the ledger against a simple in-memory model of balances.

Random sequences of receipts, first-expiry-first-out shipments, named-balance shipments,
transfers, counts, freezes, releases, reserves and unreserves run against both; after every
step the database balances equal the model, and every refusal the ledger makes is one the model
predicts (with the same error type)."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from inventory import ledger
from inventory.exceptions import InsufficientStock, InvalidQuantity, NotAllowed, StockError
from inventory.models import StockBalance, StockMovement
from inventory.tests.factories import BatchFactory, GoodsFactory
from warehouses.tests.factories import BinFactory

Kind = StockMovement.Kind
DOC = ledger.Document(type="other", ref="HYP")

GOODS = st.integers(0, 1)
BINS = st.integers(0, 2)
BATCH = st.sampled_from([None, 0, 1, 2])  # index into the goods' batches (goods 0 only)
QTY = st.integers(1, 25)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        today = timezone.localdate()
        first = BinFactory()
        self.bins = [first] + [BinFactory(zone=first.zone) for _ in range(2)]
        self.warehouse_id = first.warehouse_id
        self.goods = [GoodsFactory(), GoodsFactory()]
        g0 = self.goods[0]
        self.batches = [
            BatchFactory(goods=g0, expiry_date=today + datetime.timedelta(days=20)),
            BatchFactory(goods=g0, expiry_date=today + datetime.timedelta(days=5)),
            BatchFactory(goods=g0, expiry_date=today - datetime.timedelta(days=1)),  # expired
        ]
        self.model: dict[tuple[int, int, int | None], list[int]] = {}

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # helpers --------------------------------------------------------------------------------

    def key(self, g: int, b: int, batch: int | None) -> tuple[int, int, int | None]:
        batch_id = self.batches[batch].pk if (batch is not None and g == 0) else None
        return (self.goods[g].pk, self.bins[b].pk, batch_id)

    def row(self, key) -> list[int]:
        return self.model.setdefault(key, [0, 0, 0])

    def available(self, key) -> int:
        on_hand, frozen, reserved = self.model.get(key, [0, 0, 0])
        return on_hand - frozen - reserved

    def expiry(self, batch_id):
        return next((b.expiry_date for b in self.batches if b.pk == batch_id), None)

    def expect(self, error_type, fn):
        """Run ``fn``; the ledger must refuse exactly when the model says ``error_type``."""
        if error_type is None:
            fn()
            return
        with pytest.raises(error_type):
            fn()

    # rules ----------------------------------------------------------------------------------

    @rule(g=GOODS, b=BINS, batch=BATCH, qty=QTY)
    def receive(self, g, b, batch, qty):
        key = self.key(g, b, batch)
        ledger.receive(
            kind=Kind.INBOUND_PURCHASE,
            lines=[ledger.Receipt(key[0], key[1], qty, key[2])],
            document=DOC,
        )
        self.row(key)[0] += qty

    @rule(g=GOODS, qty=st.integers(1, 60))
    def ship_first_expiry_first(self, g, qty):
        goods_id = self.goods[g].pk
        today = timezone.localdate()
        pks = dict(
            ((gid, bid, xid), pk)
            for pk, gid, bid, xid in StockBalance.objects.values_list(
                "pk", "goods_id", "bin_id", "batch_id"
            )
        )
        candidates = [
            k
            for k in self.model
            if k[0] == goods_id and self.model[k][0] > 0 and not self._expired(k[2], today)
        ]
        candidates.sort(
            key=lambda k: (self.expiry(k[2]) is None, self.expiry(k[2]) or today, pks[k])
        )
        total = sum(max(self.available(k), 0) for k in candidates)
        if qty > total:
            self.expect(InsufficientStock, lambda: self._ship(goods_id, qty))
            return
        self._ship(goods_id, qty)
        remaining = qty
        for k in candidates:
            take = min(self.available(k), remaining)
            if take > 0:
                self.model[k][0] -= take
                remaining -= take

    def _expired(self, batch_id, today) -> bool:
        expiry = self.expiry(batch_id)
        return expiry is not None and expiry < today

    def _ship(self, goods_id, qty, **pick):
        ledger.issue(
            kind=Kind.OUTBOUND_ORDER_SHIPMENT,
            warehouse_id=self.warehouse_id,
            lines=[ledger.Pick(goods_id, qty, **pick)],
            document=DOC,
        )

    @rule(g=GOODS, b=BINS, batch=BATCH, qty=QTY)
    def ship_named_balance(self, g, b, batch, qty):
        key = self.key(g, b, batch)
        balance = StockBalance.objects.filter(
            goods_id=key[0], bin_id=key[1], batch_id=key[2]
        ).first()
        if balance is None:
            return
        if self._expired(key[2], timezone.localdate()):
            from inventory.exceptions import ExpiredBatch

            self.expect(ExpiredBatch, lambda: self._ship(key[0], qty, balance_id=balance.pk))
            return
        if qty > self.available(key):
            self.expect(InsufficientStock, lambda: self._ship(key[0], qty, balance_id=balance.pk))
            return
        self._ship(key[0], qty, balance_id=balance.pk)
        self.model[key][0] -= qty

    @rule(g=GOODS, src=BINS, dst=BINS, batch=BATCH, qty=QTY)
    def transfer(self, g, src, dst, batch, qty):
        if src == dst:
            return
        source, target = self.key(g, src, batch), self.key(g, dst, batch)

        def move():
            ledger.transfer(
                moves=[ledger.Move(source[0], source[1], target[1], qty, source[2])],
                document=DOC,
            )

        if qty > self.available(source):
            self.expect(InsufficientStock, move)
            return
        move()
        self.model[source][0] -= qty
        self.row(target)[0] += qty

    @rule(g=GOODS, b=BINS, batch=BATCH, counted=st.integers(0, 40))
    def count(self, g, b, batch, counted):
        key = self.key(g, b, batch)
        held = sum(self.model.get(key, [0, 0, 0])[1:])

        def adjust():
            ledger.adjust(
                warehouse_id=self.warehouse_id,
                lines=[ledger.Count(key[0], key[1], counted, key[2])],
                document=DOC,
                reason="stateful count",
            )

        on_hand = self.model.get(key, [0, 0, 0])[0]
        if counted != on_hand and counted < held:
            self.expect(NotAllowed, adjust)
            return
        adjust()
        if counted != on_hand or key in self.model:
            self.row(key)[0] = counted

    @rule(g=GOODS, b=BINS, batch=BATCH, qty=QTY, which=st.sampled_from(["freeze", "reserve"]))
    def hold(self, g, b, batch, qty, which):
        key = self.key(g, b, batch)
        balance = StockBalance.objects.filter(
            goods_id=key[0], bin_id=key[1], batch_id=key[2]
        ).first()
        if balance is None:
            return
        call = getattr(ledger, which)
        holds = [ledger.Hold(balance.pk, qty)]
        if qty > self.available(key):
            self.expect(InsufficientStock, lambda: call(holds=holds, document=DOC))
            return
        call(holds=holds, document=DOC)
        self.model[key][1 if which == "freeze" else 2] += qty

    @rule(g=GOODS, b=BINS, batch=BATCH, qty=QTY, which=st.sampled_from(["unfreeze", "unreserve"]))
    def release(self, g, b, batch, qty, which):
        key = self.key(g, b, batch)
        balance = StockBalance.objects.filter(
            goods_id=key[0], bin_id=key[1], batch_id=key[2]
        ).first()
        if balance is None:
            return
        column = 1 if which == "unfreeze" else 2
        call = getattr(ledger, which)
        holds = [ledger.Hold(balance.pk, qty)]
        if qty > self.model[key][column]:
            self.expect(InvalidQuantity, lambda: call(holds=holds, document=DOC))
            return
        call(holds=holds, document=DOC)
        self.model[key][column] -= qty

    @rule(bad=st.sampled_from([0, -1, 2.5, "3"]))
    def bad_quantity_is_refused(self, bad):
        self.expect(
            StockError,
            lambda: ledger.receive(
                kind=Kind.INBOUND_PURCHASE,
                lines=[ledger.Receipt(self.goods[0].pk, self.bins[0].pk, bad)],
                document=DOC,
            ),
        )

    # invariants -----------------------------------------------------------------------------

    @invariant()
    def database_equals_model(self):
        stored = {
            (g, b, x): [on_hand, frozen, reserved]
            for g, b, x, on_hand, frozen, reserved in StockBalance.objects.values_list(
                "goods_id", "bin_id", "batch_id", "on_hand", "frozen", "reserved"
            )
        }
        expected = {k: v for k, v in self.model.items() if k in stored or any(v)}
        assert stored == expected

    @invariant()
    def laws_hold(self):
        for on_hand, frozen, reserved in self.model.values():
            assert frozen >= 0 and reserved >= 0 and frozen + reserved <= on_hand


@pytest.mark.django_db
def test_ledger_behaves_like_the_in_memory_model():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
