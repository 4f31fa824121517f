"""Two runs of the same shipment's work at once (a task delivered twice, or the minute beat
racing the task queued after commit): still one parcel, one fulfilment."""

import threading

import pytest
from django.db import connections

from channels_sync.models import Order, OrderEvent, Shipment
from channels_sync.services import shipping
from channels_sync.services.orders import orders_pull
from channels_sync.tests.order_helpers import order_world, source
from channels_sync.tests.test_order_shipping import SYDNEY, _rules
from inventory.models import StockMovement

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch):
    monkeypatch.setattr(
        "channels_sync.adapters.http.RetryPolicy.delay", lambda self, attempt, retry_after: 0
    )


def _confirmed_not_booked(fake_shop, carrier, monkeypatch):
    """An order pulled, reserved and confirmed, its booking task not run yet."""
    shop, *_rest = order_world(fake_shop)
    number = fake_shop.add_order([("A", 2)], address=SYDNEY).number
    orders_pull(shop.pk, source=source(shop))
    _rules(carrier)
    order = Order.objects.get()
    with monkeypatch.context() as m:
        m.setattr(shipping, "enqueue_on_commit", lambda *args: None)
        shipment = shipping.order_confirm(order_id=order.pk, user=None)
    return shipment, number


def _in_thread(target):
    errors: list[BaseException] = []

    def run():
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def test_two_runs_of_one_booking_at_once_book_one_parcel(
    fake_shop_orders, fake_auspost, auspost_carrier, monkeypatch
):
    # given: the first run is inside the carrier's create call when the second one starts
    from channels_sync.carriers.auspost import AusPostCarrier

    shipment, _number = _confirmed_not_booked(fake_shop_orders, auspost_carrier, monkeypatch)
    real_create = AusPostCarrier._create
    entered, go = threading.Event(), threading.Event()
    first = []

    def paused_create(self, request):
        if not first:
            first.append(1)
            entered.set()
            go.wait(10)
        return real_create(self, request)

    monkeypatch.setattr(AusPostCarrier, "_create", paused_create)
    thread, errors = _in_thread(lambda: shipping.shipment_book(shipment.pk))
    assert entered.wait(10)

    # when: the task delivered a second time runs meanwhile
    shipping.shipment_book(shipment.pk)
    go.set()
    thread.join(30)

    # then: one parcel, one movement, the order shipped once
    assert errors == []
    assert fake_auspost.creates == 1
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.BOOKED
    assert StockMovement.objects.filter(kind="out_order_shipment").count() == 1
    assert Order.objects.get().status == Order.Status.SHIPPED


def test_two_reports_of_one_fulfilment_at_once_make_one_fulfilment_and_no_false_failure(
    fake_shop_orders, fake_auspost, auspost_carrier, monkeypatch
):
    # given: a shipped order whose report is pending; the first report is about to create the
    # fulfilment (it has read that none exists) when the minute beat reports it too
    from channels_sync.adapters.shopify import ShopifyAdapter
    from channels_sync.adapters.shopify_orders import FULFILMENT_CREATE

    shipment, number = _confirmed_not_booked(fake_shop_orders, auspost_carrier, monkeypatch)
    with monkeypatch.context() as m:
        m.setattr(shipping, "enqueue_on_commit", lambda *args: None)
        shipping.shipment_book(shipment.pk)
    assert Shipment.objects.get().report_status == "pending"
    real_graphql = ShopifyAdapter.graphql
    entered, go = threading.Event(), threading.Event()
    first = []

    def paused(self, query, *args, **kwargs):
        if query == FULFILMENT_CREATE and not first:
            first.append(1)
            entered.set()
            go.wait(10)
        return real_graphql(self, query, *args, **kwargs)

    monkeypatch.setattr(ShopifyAdapter, "graphql", paused)
    shop = Order.objects.get().shop
    thread, errors = _in_thread(
        lambda: shipping.fulfilment_report(shipment.pk, source=source(shop))
    )
    assert entered.wait(10)

    # when
    shipping.fulfilment_report(shipment.pk, source=source(shop))
    go.set()
    thread.join(30)

    # then: one fulfilment on the platform, reported done, no failure recorded
    assert errors == []
    assert len(fake_shop_orders.fulfilled(number)) == 1
    assert fake_shop_orders.fulfillment_creates == 1
    assert Shipment.objects.get().report_status == "done"
    assert not OrderEvent.objects.filter(kind=OrderEvent.Kind.REPORT_FAILED).exists()
