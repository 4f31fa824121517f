from decimal import Decimal

import pytest

from channels_sync.models import LogisticsRule, Order, OrderEvent, Shipment
from channels_sync.services import shipping
from channels_sync.services.orders import orders_pull
from channels_sync.services.shipping import (
    OrderFacts,
    fulfilment_report,
    orders_confirm,
    rule_choose,
    shipment_book,
    shipment_retry,
    tracking_pull,
)
from channels_sync.tests.order_helpers import order_world, reserved, source
from inventory.models import StockBalance, StockMovement
from inventory.tests.factories import CategoryFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SYDNEY = ("Mia Chen", "12 George St", "Sydney", "NSW", "2000", "AU")


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch):
    monkeypatch.setattr(
        "channels_sync.adapters.http.RetryPolicy.delay", lambda self, attempt, retry_after: 0
    )


def _rules(carrier):
    LogisticsRule.objects.create(
        name="Heavy goods: local delivery",
        priority=10,
        weight_min=Decimal("20"),
        method="local_delivery",
    )
    return LogisticsRule.objects.create(
        name="AU parcels",
        priority=20,
        country="AU",
        postcode_from="1000",
        postcode_to="2999",
        carrier=carrier,
        service="7E55",
    )


def _pulled(fake_shop, lines=(("A", 2),)):
    shop, wh_syd, wh_mel, *_rest, goods = order_world(fake_shop)
    number = fake_shop.add_order(list(lines), address=SYDNEY).number
    orders_pull(shop.pk, source=source(shop))
    return shop, wh_syd, goods, number, Order.objects.get()


def test_rule_tester_picks_the_first_match_by_priority_and_says_why_others_lost(
    auspost_carrier,
):
    au = _rules(auspost_carrier)
    facts = OrderFacts(
        shop_id=None,
        country="AU",
        state="NSW",
        postcode="2000",
        weight=Decimal("1.2"),
        value=Decimal("30"),
    )
    rule, trace = rule_choose(facts)
    assert rule == au
    assert trace[0].reasons == ["lighter than 20 kg"] and trace[1].matched
    heavy = OrderFacts(None, "AU", "NSW", "2000", Decimal("25"), Decimal("30"))
    assert rule_choose(heavy)[0].method == "local_delivery"
    perth = OrderFacts(None, "AU", "WA", "6000", Decimal("1"), Decimal("30"))
    rule, trace = rule_choose(perth)
    assert rule is None and "postcode outside 1000–2999" in trace[1].reasons
    category = CategoryFactory()
    by_category = LogisticsRule.objects.create(
        name="Fragile", priority=5, category=category, method="local_pickup"
    )
    assert rule_choose(perth)[0] is None
    perth.category_ids = {category.pk}
    assert rule_choose(perth)[0] == by_category


def test_confirm_books_ships_from_the_reservation_and_reports_the_fulfilment(
    fake_shop_orders, fake_auspost, auspost_carrier
):
    shop, wh_syd, goods, number, order = _pulled(fake_shop_orders)
    _rules(auspost_carrier)
    on_hand_before = sum(
        StockBalance.objects.filter(goods=goods["A"]).values_list("on_hand", flat=True)
    )
    confirmed, refused = orders_confirm(order_ids=[order.pk], user=None)  # eager tasks run
    assert confirmed == [order.pk] and refused == {}
    order.refresh_from_db()
    shipment = order.shipment
    assert order.status == Order.Status.SHIPPED
    assert shipment.status == Shipment.Status.BOOKED and shipment.tracking_number.startswith("33AB")
    assert bytes(shipment.label_pdf).startswith(b"%PDF-1.4")
    assert shipment.report_status == "done"
    assert reserved(goods["A"]) == 0
    on_hand_after = sum(
        StockBalance.objects.filter(goods=goods["A"]).values_list("on_hand", flat=True)
    )
    assert on_hand_before - on_hand_after == 2
    movement = StockMovement.objects.get(kind="out_order_shipment")
    assert movement.warehouse_id == wh_syd.pk and movement.quantity == 2
    fulfilled = fake_shop_orders.fulfilled(number)
    assert len(fulfilled) == 1 and fulfilled[0]["tracking"]["number"] == shipment.tracking_number
    assert fake_auspost.creates == 1
    kinds = list(order.events.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["pulled", "routed", "confirmed", "shipped", "reported"]


def test_refusals_change_nothing(fake_shop_orders, auspost_carrier):
    shop, _wh, goods, _n, order = _pulled(fake_shop_orders)
    confirmed, refused = orders_confirm(order_ids=[order.pk], user=None)
    assert confirmed == [] and "No logistics rule matches" in refused[order.pk]
    Order.objects.filter(pk=order.pk).update(status="short")
    _rules(auspost_carrier)
    confirmed, refused = orders_confirm(order_ids=[order.pk], user=None)
    assert "only reserved orders" in refused[order.pk]
    assert not Shipment.objects.exists() and reserved(goods["A"]) == 2


def test_failed_booking_leaves_the_order_confirmed_then_retry_books_once(
    fake_shop_orders, fake_auspost, auspost_carrier
):
    _shop, _wh, goods, _n, order = _pulled(fake_shop_orders)
    _rules(auspost_carrier)
    fake_auspost.fail_next("status", times=4, status=500)  # every attempt of the first call
    orders_confirm(order_ids=[order.pk], user=None)
    order.refresh_from_db()
    shipment = order.shipment
    assert order.status == Order.Status.CONFIRMED
    assert shipment.status == Shipment.Status.FAILED and "HTTP 500" in shipment.last_error
    assert reserved(goods["A"]) == 2 and not StockMovement.objects.filter(kind="out_order_shipment")
    assert OrderEvent.objects.filter(kind="booking_failed").count() == 1
    shipment_retry(shipment_id=shipment.pk, user=None)
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED and fake_auspost.creates == 1
    assert StockMovement.objects.filter(kind="out_order_shipment").count() == 1


def test_a_crash_after_the_carrier_booked_is_not_a_second_booking_nor_movement(
    fake_shop_orders, fake_auspost, auspost_carrier, monkeypatch
):
    _shop, _wh, goods, _n, order = _pulled(fake_shop_orders)
    _rules(auspost_carrier)
    real_ship = shipping._ship

    def die(*args, **kwargs):
        raise SystemExit("worker killed after the carrier answered")

    monkeypatch.setattr(shipping, "_ship", die)
    with pytest.raises(SystemExit):
        orders_confirm(order_ids=[order.pk], user=None)
    shipment = Shipment.objects.get()
    assert shipment.status == Shipment.Status.BOOKING and fake_auspost.creates == 1
    monkeypatch.setattr(shipping, "_ship", real_ship)
    shipment_book(shipment.pk)  # the redelivered task
    shipment_book(shipment.pk)  # and once more
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.BOOKED and fake_auspost.creates == 1
    assert StockMovement.objects.filter(kind="out_order_shipment").count() == 1
    assert reserved(goods["A"]) == 0


def test_platform_down_leaves_the_report_pending_and_a_repeat_is_not_a_second_fulfilment(
    fake_shop_orders, fake_auspost, auspost_carrier
):
    _shop, _wh, _goods, number, order = _pulled(fake_shop_orders)
    _rules(auspost_carrier)
    fake_shop_orders.fail_next("status", times=4, status=503)
    orders_confirm(order_ids=[order.pk], user=None)
    shipment = Shipment.objects.get()
    assert shipment.report_status == "pending" and "503" in shipment.report_error
    assert fulfilment_report(shipment.pk) == "done"
    Shipment.objects.filter(pk=shipment.pk).update(report_status="pending")
    assert fulfilment_report(shipment.pk) == "done"  # found by its tracking number
    assert len(fake_shop_orders.fulfilled(number)) == 1


def test_local_delivery_ships_without_a_carrier(fake_shop_orders):
    _shop, _wh, goods, number, order = _pulled(fake_shop_orders)
    LogisticsRule.objects.create(name="Local", priority=1, method="local_delivery")
    orders_confirm(order_ids=[order.pk], user=None)
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED and order.shipment.carrier is None
    assert fake_shop_orders.fulfilled(number)[0]["tracking"]["number"] == f"LOCAL-{order.pk}"


def test_tracking_events_until_delivered(fake_shop_orders, fake_auspost, auspost_carrier):
    _shop, _wh, _goods, _n, order = _pulled(fake_shop_orders)
    _rules(auspost_carrier)
    orders_confirm(order_ids=[order.pk], user=None)
    shipment = Shipment.objects.get()
    assert tracking_pull() == 1
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.BOOKED and shipment.tracking_events
    fake_auspost.advance(shipment.tracking_number, "Delivered")
    tracking_pull()
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.DELIVERED and shipment.delivered_at
    assert tracking_pull() == 0  # delivered: not asked again


def test_cancelled_on_the_platform_before_the_booking_ran_books_nothing_and_releases(
    fake_shop_orders, fake_auspost, auspost_carrier, monkeypatch
):
    # given: an order confirmed whose booking task has not run yet
    shop, _wh, goods, number, order = _pulled(fake_shop_orders)
    _rules(auspost_carrier)
    with monkeypatch.context() as m:
        m.setattr(shipping, "enqueue_on_commit", lambda *args: None)
        shipment = shipping.order_confirm(order_id=order.pk, user=None)
    assert reserved(goods["A"]) == 2

    # when: the platform cancels it, the pull sees that, then the booking task runs
    fake_shop_orders.cancel_order(number)
    orders_pull(shop.pk, source=source(shop))
    shipment_book(shipment.pk)

    # then: no parcel, no movement, the reservation given back, the order cancelled
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and order.cancelled_on_platform
    assert reserved(goods["A"]) == 0
    assert fake_auspost.creates == 0
    assert not StockMovement.objects.filter(kind="out_order_shipment").exists()
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.FAILED and "ancelled" in shipment.last_error
    assert not fake_shop_orders.fulfilled(number)


def test_cancelled_on_the_platform_after_a_failed_booking_releases_and_refuses_the_retry(
    fake_shop_orders, fake_auspost, auspost_carrier
):
    from channels_sync.exceptions import ChannelError

    # given: an order confirmed whose booking failed
    shop, _wh, goods, number, order = _pulled(fake_shop_orders)
    _rules(auspost_carrier)
    fake_auspost.fail_next("status", times=4, status=500)
    orders_confirm(order_ids=[order.pk], user=None)
    shipment = Shipment.objects.get()
    assert shipment.status == Shipment.Status.FAILED and reserved(goods["A"]) == 2

    # when: the platform cancels it
    fake_shop_orders.cancel_order(number)
    orders_pull(shop.pk, source=source(shop))

    # then: the stock is given back and a retry books nothing
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and reserved(goods["A"]) == 0
    with pytest.raises(ChannelError):
        shipment_retry(shipment_id=shipment.pk, user=None)
    shipment_book(shipment.pk)
    assert fake_auspost.creates == 0
    assert not StockMovement.objects.filter(kind="out_order_shipment").exists()


def test_cancelled_on_the_platform_once_booked_keeps_the_shipment_with_a_note(
    fake_shop_orders, fake_auspost, auspost_carrier
):
    # given: an order booked and shipped
    shop, _wh, goods, number, order = _pulled(fake_shop_orders)
    _rules(auspost_carrier)
    orders_confirm(order_ids=[order.pk], user=None)

    # when: the platform cancels it afterwards
    fake_shop_orders.cancel_order(number)
    orders_pull(shop.pk, source=source(shop))

    # then: shipped stays shipped, with the note to stop the parcel
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED and order.cancelled_on_platform
    assert "stop the parcel" in order.message
    assert StockMovement.objects.filter(kind="out_order_shipment").count() == 1
