"""A small allocation world: a warehouse bin holding goods, stores with managers, a policy,
and a helper opening a window through the service."""

import datetime

import pytest
from django.utils import timezone

from allocation.models import GrabWindow
from allocation.services import windows
from allocation.tests.factories import PolicyFactory, StoreFactory
from inventory.tests.factories import BatchFactory, GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory


class World:
    def __init__(self, make_user):
        self.bin = BinFactory()
        self.warehouse = self.bin.warehouse
        self.goods = GoodsFactory(sku="TEA")
        self.other_goods = GoodsFactory(sku="COFFEE")
        today = datetime.date.today()
        self.batch_soon = BatchFactory(goods=self.goods, expiry_date=today + datetime.timedelta(30))
        self.batch_late = BatchFactory(
            goods=self.goods, expiry_date=today + datetime.timedelta(300)
        )
        self.balance_late = receive_stock(self.goods, self.bin, 100, batch=self.batch_late)
        self.balance_soon = receive_stock(self.goods, self.bin, 60, batch=self.batch_soon)
        self.other_balance = receive_stock(self.other_goods, self.bin, 50)
        self.manager = make_user("manager")
        self.alice = make_user("store", "alice")
        self.bob = make_user("store", "bob")
        self.carol = make_user("store", "carol")
        self.store_a = StoreFactory(code="A01")
        self.store_b = StoreFactory(code="B01")
        self.store_c = StoreFactory(code="C01")
        self.store_a.managers.add(self.alice)
        self.store_b.managers.add(self.bob)
        self.store_c.managers.add(self.carol)
        self.policy = PolicyFactory()

    def open_window(self, *, mode=GrabWindow.Mode.FIRST_COME, offers=None, policy=None, **kw):
        now = timezone.now()
        return windows.window_create(
            name="Monday tea",
            warehouse=self.warehouse,
            policy=policy or self.policy,
            mode=mode,
            opens_at=kw.pop("opens_at", now - datetime.timedelta(minutes=1)),
            closes_at=kw.pop("closes_at", now + datetime.timedelta(minutes=30)),
            scope=kw.pop("scope", GrabWindow.Scope.ALL),
            offers=offers or [windows.Offer(self.goods, 100)],
            user=self.manager,
            **kw,
        )


@pytest.fixture
def world(db, make_user):
    return World(make_user)


@pytest.fixture
def world_tx(transactional_db, make_user):
    return World(make_user)
