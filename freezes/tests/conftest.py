"""Shared fixtures of the freezes tests: a small warehouse world and ledger helpers.

Stock is never made with factories: it is received through the ledger, as in production (so
the freezes app's receipt hooks run too)."""

import datetime

import pytest

from inventory import ledger
from inventory.models import StockBalance, StockMovement
from inventory.tests.factories import BatchFactory, BrandFactory, CategoryFactory, GoodsFactory
from warehouses.tests.factories import BinFactory

Kind = StockMovement.Kind


def receive(goods, bin, quantity, *, batch=None, kind=Kind.INBOUND_PURCHASE, operator=None):
    """Receive stock through the ledger and return the balance row."""
    ledger.receive(
        kind=kind,
        lines=[ledger.Receipt(goods.pk, bin.pk, quantity, batch.pk if batch else None)],
        document=ledger.Document(type="inbound", ref="IN-TEST"),
        operator=operator,
    )
    return StockBalance.objects.get(goods=goods, bin=bin, batch=batch)


def ship(goods, warehouse, quantity, *, balance=None, kind=Kind.OUTBOUND_ORDER_SHIPMENT):
    """Ship through the ledger (first-expiry-first-out, or from one named balance)."""
    return ledger.issue(
        kind=kind,
        warehouse_id=warehouse.pk,
        lines=[ledger.Pick(goods.pk, quantity, balance_id=balance.pk if balance else None)],
        document=ledger.Document(type="outbound", ref="OUT-TEST"),
    )


class World:
    """Two warehouses, bins, a category tree (food > snacks), two brands, goods and batches."""

    def __init__(self):
        self.bin = BinFactory()
        self.bin2 = BinFactory(zone=self.bin.zone)
        self.warehouse = self.bin.warehouse
        self.other_bin = BinFactory()
        self.other_warehouse = self.other_bin.warehouse
        self.food = CategoryFactory(name="Food")
        self.snacks = CategoryFactory(name="Snacks", parent=self.food)
        self.phones = CategoryFactory(name="Phones")
        self.brand_x = BrandFactory(name="Brand X")
        self.brand_y = BrandFactory(name="Brand Y")
        self.snack = GoodsFactory(sku="SNACK", category=self.snacks, brand=self.brand_x)
        self.phone = GoodsFactory(sku="PHONE", category=self.phones, brand=self.brand_y)
        today = datetime.date.today()
        self.batch_old = BatchFactory(
            goods=self.snack,
            batch_no="2024-03",
            production_date=datetime.date(2024, 3, 1),
            inbound_date=datetime.date(2024, 3, 10),
            expiry_date=today + datetime.timedelta(days=20),
        )
        self.batch_new = BatchFactory(
            goods=self.snack,
            batch_no="2024-09",
            production_date=datetime.date(2024, 9, 1),
            inbound_date=datetime.date(2024, 9, 10),
            expiry_date=today + datetime.timedelta(days=200),
        )


@pytest.fixture
def world(db):
    return World()
