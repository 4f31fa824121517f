"""A posting in flight while a push claims its goods: its change is never lost."""

import threading
import time

import psycopg2
import pytest
from django.db import connection

from channels_sync.models import OutboxItem
from channels_sync.services.push import shop_push
from channels_sync.tests.test_push import _adapter, _setup
from inventory.models import StockBalance

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

MOVEMENT = """
INSERT INTO inventory_stockmovement
    (kind, balance_id, goods_id, warehouse_id, bin_id, batch_id, from_bin_id, to_bin_id,
     quantity, on_hand_delta, frozen_delta, reserved_delta, document_type, document_id,
     document_ref, operator_id, reason, idempotency_key, created_at)
VALUES ('out_order_shipment', %s, %s, %s, %s, NULL, %s, NULL, 3, -3, 0, 0, 'outbound', NULL,
        'race', NULL, '', 'race-1', now())
"""


def test_a_shipment_in_flight_during_the_push_claim_goes_out_with_it(fake_shopify):
    # given goods with 5 units, pending for the shop, and a shipment of 3 in flight: its
    # balance locked and written, its movement inserted (the trigger finds the row pending)
    shop, bin_a, listings = _setup(fake_shopify, count=1, quantity=5)
    goods = listings[0].goods
    balance = StockBalance.objects.get(goods=goods)
    posted = threading.Event()
    committed: list[float] = []

    def ship() -> None:
        raw = psycopg2.connect(**connection.get_connection_params())
        try:
            cur = raw.cursor()
            cur.execute(
                "SELECT id FROM inventory_stockbalance WHERE id = %s FOR UPDATE", [balance.pk]
            )
            cur.execute(
                "UPDATE inventory_stockbalance SET on_hand = on_hand - 3 WHERE id = %s",
                [balance.pk],
            )
            cur.execute(MOVEMENT, [balance.pk, goods.pk, bin_a.warehouse_id, bin_a.pk, bin_a.pk])
            posted.set()
            time.sleep(1.0)  # the push claims meanwhile
            committed.append(time.monotonic())
            raw.commit()
        finally:
            raw.close()

    shipper = threading.Thread(target=ship)
    shipper.start()
    assert posted.wait(10)
    # when the push runs while the shipment is uncommitted
    started = time.monotonic()
    summary = shop_push(shop.pk, adapter=_adapter(shop))
    shipper.join()
    # then it started while the shipment was uncommitted (the race took place), waited for it
    # and sent what is left, never the 5 that were there
    assert started < committed[0] < time.monotonic()
    assert summary.succeeded == 1
    assert StockBalance.objects.get(pk=balance.pk).on_hand == 2
    assert fake_shopify.quantity_of("P-0") == 2
    assert not OutboxItem.objects.filter(shop=shop, status="pending").exists()
