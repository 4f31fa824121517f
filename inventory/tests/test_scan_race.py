"""Two clerks scanning onto one document at the same moment (PostgreSQL, real connections):
every scan counts once. ``inbound_line_scan`` and ``count_line_scan`` lock the document row
before reading the line they add to, so concurrent scans queue instead of losing an update."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from inventory.models import InboundLine, StockCountLine
from inventory.services import scanning
from inventory.services import stock as services
from inventory.tests.factories import GoodsFactory
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SCANS = 12


def _race(fn) -> None:
    start = threading.Barrier(SCANS)

    def run():
        try:
            start.wait(timeout=10)
            return fn()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(SCANS) as pool:
        for future in [pool.submit(run) for _n in range(SCANS)]:
            future.result(timeout=30)


def test_concurrent_receive_scans_each_add_one(make_user):
    # given
    user = make_user("staff")
    bin_ = BinFactory(code="A-01")
    goods = GoodsFactory()
    sheet = services.inbound_sheet_create(warehouse=bin_.warehouse, type="purchase", user=user)
    # when twelve scans of the same goods arrive at once
    _race(lambda: scanning.inbound_line_scan(sheet=sheet, goods=goods, bin=bin_))
    # then one line of twelve
    assert list(InboundLine.objects.filter(sheet=sheet).values_list("quantity", flat=True)) == [
        SCANS
    ]


def test_concurrent_count_scans_each_add_one(make_user):
    user = make_user("staff")
    bin_ = BinFactory(code="A-01")
    goods = GoodsFactory()
    count = services.count_create(warehouse=bin_.warehouse, reason="cycle", user=user)
    _race(lambda: scanning.count_line_scan(count=count, goods=goods, bin=bin_))
    line = StockCountLine.objects.get(count=count)
    assert line.counted_quantity == SCANS
