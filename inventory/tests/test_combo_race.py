"""A receipt and the combo editor on two connections (PostgreSQL): no goods ever becomes a
combo while stock is being put on it (receipts hold the goods ``FOR KEY SHARE``, the editor
takes ``FOR UPDATE`` and re-reads)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections, transaction

from inventory import ledger
from inventory.exceptions import InvalidGoods, NotAllowed
from inventory.models import Goods, StockBalance, StockMovement
from inventory.services.goods import combo_component_set
from inventory.tests.factories import GoodsFactory
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DOC = ledger.Document(type="other", ref="RACE")
WAIT = 10


def _receive(goods, bin_, quantity=5):
    return ledger.receive(
        kind=StockMovement.Kind.INBOUND_PURCHASE,
        lines=[ledger.Receipt(goods.pk, bin_.pk, quantity)],
        document=DOC,
    )


def _in_thread(fn):
    def run():
        try:
            return fn()
        finally:
            connections.close_all()  # this thread's own connection

    return run


def test_the_combo_editor_waits_for_a_receipt_then_sees_its_stock():
    # given: a receipt of a plain goods, open (not committed) on one connection
    bin_ = BinFactory()
    goods, component = GoodsFactory(sku="RACE-A"), GoodsFactory(sku="RACE-PART")
    received, release = threading.Event(), threading.Event()

    def receive_and_hold():
        with transaction.atomic():
            _receive(goods, bin_)
            received.set()
            release.wait(WAIT)

    def make_combo():
        try:
            combo_component_set(
                combo=Goods.objects.get(pk=goods.pk), component=component, quantity=1
            )
        except InvalidGoods as refused:
            return str(refused)
        return "became a combo"

    # when: the editor tries to turn that goods into a combo on another connection
    with ThreadPoolExecutor(2) as pool:
        receipt = pool.submit(_in_thread(receive_and_hold))
        assert received.wait(WAIT)
        edit = pool.submit(_in_thread(make_combo))
        time.sleep(0.5)
        waited = not edit.done()
        release.set()
        receipt.result(WAIT)
        outcome = edit.result(WAIT)

    # then: it waited for the receipt, then saw the stock and refused
    assert waited
    assert "still holds stock" in outcome
    goods.refresh_from_db()
    assert not goods.is_combo
    assert StockBalance.objects.get(goods=goods).on_hand == 5


def test_a_receipt_waits_for_the_combo_editor_then_refuses_the_new_combo():
    # given: the editor turning a goods into a combo, open (not committed) on one connection
    bin_ = BinFactory()
    goods, component = GoodsFactory(sku="RACE-B"), GoodsFactory(sku="RACE-PART-B")
    edited, release = threading.Event(), threading.Event()

    def edit_and_hold():
        with transaction.atomic():
            combo_component_set(
                combo=Goods.objects.get(pk=goods.pk), component=component, quantity=2
            )
            edited.set()
            release.wait(WAIT)

    def receive():
        try:
            _receive(goods, bin_)
        except NotAllowed as refused:
            return str(refused)
        return "received"

    # when: a receipt of that goods (read as plain) runs on another connection
    with ThreadPoolExecutor(2) as pool:
        edit = pool.submit(_in_thread(edit_and_hold))
        assert edited.wait(WAIT)
        receipt = pool.submit(_in_thread(receive))
        time.sleep(0.5)
        waited = not receipt.done()
        release.set()
        edit.result(WAIT)
        outcome = receipt.result(WAIT)

    # then: it waited, re-read the goods under its lock and put no stock on the combo
    assert waited
    assert "became a combo" in outcome and "RACE-B" in outcome
    goods.refresh_from_db()
    assert goods.is_combo
    assert not StockBalance.objects.filter(goods=goods, on_hand__gt=0).exists()
    assert not StockMovement.objects.filter(goods=goods).exists()


def test_receipts_of_the_same_goods_do_not_wait_for_each_other():
    # given: one receipt open on a goods
    bin_ = BinFactory()
    goods = GoodsFactory(sku="RACE-C")
    received, release = threading.Event(), threading.Event()

    def receive_and_hold():
        with transaction.atomic():
            _receive(goods, bin_, 1)
            received.set()
            release.wait(WAIT)

    # when: a second receipt of another bin of the same goods runs meanwhile
    other_bin = BinFactory(zone=bin_.zone)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(_in_thread(receive_and_hold))
        assert received.wait(WAIT)
        second = pool.submit(_in_thread(lambda: _receive(goods, other_bin, 2)))
        second.result(WAIT)  # finishes while the first is still open
        release.set()
        first.result(WAIT)

    # then
    assert sorted(StockBalance.objects.filter(goods=goods).values_list("on_hand", flat=True)) == [
        1,
        2,
    ]
