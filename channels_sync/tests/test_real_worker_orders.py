"""Orders through a real ``celery worker`` subprocess on Redis: the pull task reserves, and a
worker killed while the carrier is booking never leads to a second booking, a second stock
movement or a second fulfilment on the platform."""

from __future__ import annotations

import time

import pytest

from channels_sync.models import LogisticsRule, Order, Shipment
from channels_sync.services.shipping import orders_confirm
from channels_sync.tests.order_helpers import order_world, reserved
from channels_sync.tests.test_real_worker_push import Worker, broker, wait_for  # noqa: F401
from inventory.models import StockMovement

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.xdist_group("real_worker"),
    pytest.mark.django_db(transaction=True),
]

SYDNEY = ("Mia Chen", "12 George St", "Sydney", "NSW", "2000", "AU")


def test_worker_killed_while_booking_books_once_ships_once_reports_once(
    broker,  # noqa: F811
    fake_shop_orders,
    fake_auspost,
    auspost_carrier,
    tmp_path,
):
    from channels_sync.tasks import orders_pull_task, shipment_book_task

    shop, wh_syd, *_rest, goods = order_world(fake_shop_orders)
    number = fake_shop_orders.add_order([("A", 3)], address=SYDNEY).number
    LogisticsRule.objects.create(name="AU", priority=1, country="AU", carrier=auspost_carrier)
    fake_auspost.create_delay = 4.0  # the booking is applied at the carrier, answered late
    with Worker(tmp_path, "orders-pull") as worker:
        orders_pull_task.delay(shop.pk, "manual")
        order = wait_for(
            lambda: Order.objects.filter(status="reserved").first(),
            timeout=60,
            what="the pulled order to be reserved",
            worker=worker,
        )
        assert order.warehouse_id == wh_syd.pk and reserved(goods["A"]) == 3
        orders_confirm(order_ids=[order.pk], user=None)  # queues the booking after commit
        wait_for(
            lambda: Shipment.objects.filter(status="booking").exists(),
            timeout=60,
            what="the booking to start",
            worker=worker,
        )
        time.sleep(1.0)
        worker.kill()
    wait_for(lambda: fake_auspost.creates == 1, timeout=10, what="the carrier to apply it")
    shipment = Shipment.objects.get()
    assert shipment.status == "booking" and not StockMovement.objects.filter(
        kind="out_order_shipment"
    )
    fake_auspost.create_delay = 0
    with Worker(tmp_path, "orders-back") as worker:
        shipment_book_task.delay(shipment.pk)  # the redelivered task (or the retry button)
        shipment_book_task.delay(shipment.pk)  # delivered twice
        wait_for(
            lambda: Shipment.objects.filter(pk=shipment.pk, report_status="done").exists(),
            timeout=60,
            what="the order shipped and reported",
            worker=worker,
        )
    shipment.refresh_from_db()
    assert fake_auspost.creates == 1
    assert shipment.tracking_number.startswith("33AB")
    assert StockMovement.objects.filter(kind="out_order_shipment").count() == 1
    assert reserved(goods["A"]) == 0
    assert Order.objects.get().status == "shipped"
    fulfilled = fake_shop_orders.fulfilled(number)
    assert len(fulfilled) == 1 and fulfilled[0]["tracking"]["number"] == shipment.tracking_number
