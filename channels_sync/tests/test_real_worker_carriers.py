"""4PX and Aramex Australia through a real ``celery worker`` subprocess on Redis (mirroring
``test_real_worker_orders`` for Australia Post): a worker killed while the carrier is booking
(the carrier applied the create, its answer never arrived) never leads to a second booking, a
second stock movement or a second fulfilment on the platform."""

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


@pytest.mark.parametrize("kind", ["fourpx", "aramex"])
def test_worker_killed_while_booking_books_once_ships_once_reports_once(
    broker,  # noqa: F811
    fake_shop_orders,
    kind,
    request,
    tmp_path,
):
    from channels_sync.tasks import orders_pull_task, shipment_book_task

    fake = request.getfixturevalue(f"fake_{kind}")
    carrier = request.getfixturevalue(f"{kind}_carrier")
    shop, wh_syd, *_rest, goods = order_world(fake_shop_orders)
    number = fake_shop_orders.add_order([("A", 3)], address=SYDNEY).number
    LogisticsRule.objects.create(name="AU", priority=1, country="AU", carrier=carrier)
    fake.create_delay = 4.0  # the booking is applied at the carrier, answered late
    with Worker(tmp_path, f"{kind}-pull") as worker:
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
            lambda: fake.creates == 1,
            timeout=60,
            what="the carrier to apply the booking",
            worker=worker,
        )
        time.sleep(0.5)
        worker.kill()  # before the carrier's answer arrives
    shipment = Shipment.objects.get()
    assert shipment.status == "booking" and not StockMovement.objects.filter(
        kind="out_order_shipment"
    )
    fake.create_delay = 0
    with Worker(tmp_path, f"{kind}-back") as worker:
        shipment_book_task.delay(shipment.pk)  # the redelivered task (or the retry button)
        shipment_book_task.delay(shipment.pk)  # delivered twice
        wait_for(
            lambda: Shipment.objects.filter(pk=shipment.pk, report_status="done").exists(),
            timeout=60,
            what="the order shipped and reported",
            worker=worker,
        )
    shipment.refresh_from_db()
    assert fake.creates == 1 and shipment.tracking_number
    assert StockMovement.objects.filter(kind="out_order_shipment").count() == 1
    assert reserved(goods["A"]) == 0
    assert Order.objects.get().status == "shipped"
    fulfilled = fake_shop_orders.fulfilled(number)
    assert len(fulfilled) == 1 and fulfilled[0]["tracking"]["number"] == shipment.tracking_number
