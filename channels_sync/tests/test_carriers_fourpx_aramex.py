"""The 4PX and Aramex Australia adapters against their local fakes: booking, label, tracking
until delivered, the carriers' auth (4PX's MD5 request signature, Aramex's OAuth tokens),
validation, and fault injection (500, timeout, 429 with Retry-After, a lost create answer):
never a second shipment, a visible failure when retries run out. Then end to end: an order a
logistics rule routes to either carrier is confirmed, booked, labelled, shipped, reported and
tracked to delivery; and Australia Post's look-up parameters as its reference documents them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from channels_sync.adapters.http import RetryPolicy
from channels_sync.carriers import for_carrier
from channels_sync.carriers.base import Address, CarrierError, ShipmentRequest
from channels_sync.models import Carrier, LogisticsRule, Order, Shipment
from channels_sync.services.orders import orders_pull
from channels_sync.services.shipping import orders_confirm, shipment_retry, tracking_pull
from channels_sync.tests.order_helpers import order_world, reserved, source
from inventory.models import StockMovement

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SYDNEY = ("Mia Chen", "12 George St", "Sydney", "NSW", "2000", "AU")
KINDS = ["fourpx", "aramex"]
REAL_DELAY = RetryPolicy.delay


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch):
    monkeypatch.setattr(
        "channels_sync.adapters.http.RetryPolicy.delay", lambda self, attempt, retry_after: 0
    )


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


@pytest.fixture
def world(kind, request):
    """(fake, carrier) of the parametrised kind."""
    fake = request.getfixturevalue(f"fake_{kind}")
    carrier = request.getfixturevalue(f"{kind}_carrier")
    return fake, carrier


def _request(reference="ship-1", **changes) -> ShipmentRequest:
    values = {
        "reference": reference,
        "order_name": "#1001",
        "service": "",
        "sender": Address("Sydney DC", ("1 Dock Rd",), "Botany", "NSW", "2019", "AU"),
        "recipient": Address(
            "Mia Chen", ("12 George St",), "Sydney", "NSW", "2000", "AU", email="mia@example.com"
        ),
        "weight_kg": Decimal("1.25"),
        "value": Decimal("30.00"),
        "currency": "AUD",
        "contents": (("A", "Lager can", 2),),
    }
    values.update(changes)
    return ShipmentRequest(**values)


def _book(carrier, request=None, **options):
    adapter = for_carrier(carrier, **options)
    try:
        return adapter.book_shipment(request or _request())
    finally:
        adapter.close()


def test_both_carriers_are_selectable_and_no_longer_refused(kind):
    assert kind in Carrier.Kind.values
    carrier = Carrier(kind=kind, name=kind, api_base_url="http://127.0.0.1:9")
    adapter = for_carrier(carrier)
    adapter.close()


def test_aramex_token_server_is_the_one_beside_the_api_address():
    from channels_sync.carriers.aramex import BASE, IDENTITY, _identity_for

    assert _identity_for(BASE) == IDENTITY
    assert _identity_for("https://api.aramexconnect.co.nz") == (
        "https://identity.aramexconnect.co.nz"
    )
    assert _identity_for("http://127.0.0.1:8765") == "http://127.0.0.1:8765"


def test_booking_returns_tracking_number_and_pdf_and_a_retry_finds_it(world):
    fake, carrier = world
    first = _book(carrier)
    assert first.tracking_number and not first.existed
    assert first.label_pdf.startswith(b"%PDF-1.4")
    again = _book(carrier)
    assert again.existed and again.tracking_number == first.tracking_number
    assert again.carrier_ref == first.carrier_ref
    assert fake.creates == 1
    other = _book(carrier, _request("ship-2"))
    assert other.tracking_number != first.tracking_number and fake.creates == 2


def test_wrong_credentials_are_refused_without_booking(world):
    fake, carrier = world
    creds = dict(carrier.credentials)
    secret = "app_secret" if carrier.kind == "fourpx" else "client_secret"
    creds[secret] = "wrong"
    carrier.credentials = creds
    with pytest.raises(CarrierError) as caught:
        _book(carrier)
    assert not caught.value.transient and fake.creates == 0
    expected = "sign check failed" if carrier.kind == "fourpx" else "invalid_client"
    assert expected in str(caught.value)


def test_fourpx_signature_covers_the_body(fake_fourpx, fourpx_carrier):
    """A request whose body was changed after signing is refused (the fake recomputes MD5)."""
    from channels_sync.carriers import fourpx

    adapter = for_carrier(fourpx_carrier)
    real_sign = fourpx.sign
    try:
        fourpx.sign = lambda key, secret, method, ts, body: real_sign(
            key, secret, method, ts, body + " "
        )
        with pytest.raises(CarrierError, match="sign check failed"):
            adapter.book_shipment(_request())
    finally:
        fourpx.sign = real_sign
        adapter.close()
    assert fake_fourpx.creates == 0


def test_aramex_expired_token_is_renewed_once(fake_aramex, aramex_carrier):
    adapter = for_carrier(aramex_carrier)
    try:
        first = adapter.book_shipment(_request())
        fake_aramex.expire_tokens()
        events = adapter.tracking_events([first.tracking_number])
    finally:
        adapter.close()
    assert events[first.tracking_number] and fake_aramex.token_requests == 2


def test_invalid_shipment_is_a_clear_permanent_refusal(world):
    fake, carrier = world
    bad = _request(
        recipient=Address("Mia Chen", ("12 George St",), "Sydney", "NSW", "", "AU"),
    )
    with pytest.raises(CarrierError) as caught:
        _book(carrier, bad)
    assert not caught.value.transient and "missing" in str(caught.value)
    assert fake.creates == 0


def test_500s_are_retried_then_booked_once(world):
    fake, carrier = world
    fake.fail_next("status", times=3, status=500)
    booking = _book(carrier)
    assert booking.tracking_number and fake.creates == 1


def test_carrier_down_is_a_visible_transient_failure(world):
    fake, carrier = world
    fake.fail_next("status", times=40, status=503)
    with pytest.raises(CarrierError) as caught:
        _book(carrier)
    assert caught.value.transient and "503" in str(caught.value) and fake.creates == 0


def test_429_waits_at_least_retry_after(world, monkeypatch):
    monkeypatch.setattr(RetryPolicy, "delay", REAL_DELAY)
    fake, carrier = world
    fake.fail_next("throttle", times=1, retry_after=2)
    waits: list[float] = []
    booking = _book(carrier, sleep=waits.append)
    assert booking.tracking_number and fake.creates == 1
    assert waits and max(waits) >= 2


def test_timeouts_are_retried(world):
    fake, carrier = world
    fake.fail_next("timeout", times=2, seconds=0.6)
    booking = _book(carrier, timeout=0.3)
    assert booking.tracking_number and fake.creates == 1


def test_a_create_whose_answer_is_lost_is_found_not_booked_twice(world):
    """The carrier applies the create, the answer comes after our timeout: the next attempt
    looks our reference up first and finds it."""
    fake, carrier = world
    fake.create_delay = 0.8
    booking = _book(carrier, timeout=0.3)
    fake.create_delay = 0
    assert booking.existed and booking.tracking_number and fake.creates == 1


def test_tracking_events_until_delivered(world):
    fake, carrier = world
    booking = _book(carrier)
    adapter = for_carrier(carrier)
    fake.fail_next("status", times=1, status=502)
    fake.fail_next("throttle", times=1, retry_after=0)
    try:
        events = adapter.tracking_events([booking.tracking_number, "UNKNOWN1"])
        assert events[booking.tracking_number]
        assert not any(e.delivered for e in events[booking.tracking_number])
        assert "UNKNOWN1" not in events
        fake.advance(booking.tracking_number)
        events = adapter.tracking_events([booking.tracking_number])
    finally:
        adapter.close()
    latest = events[booking.tracking_number][0]
    assert latest.delivered and latest.description == "Delivered"


def test_tracking_refused_for_every_number_is_an_error_not_silence(world):
    _fake, carrier = world
    adapter = for_carrier(carrier)
    try:
        with pytest.raises(CarrierError) as caught:
            adapter.tracking_events(["UNKNOWN1", "UNKNOWN2"])
    finally:
        adapter.close()
    assert not caught.value.transient


# -- end to end: an order a rule routes to the carrier ---------------------------------------


def _routed_order(fake_shop, carrier, service):
    shop, wh_syd, *_rest, goods = order_world(fake_shop)
    number = fake_shop.add_order([("A", 2)], address=SYDNEY).number
    orders_pull(shop.pk, source=source(shop))
    LogisticsRule.objects.create(
        name=f"AU by {carrier.kind}", priority=1, country="AU", carrier=carrier, service=service
    )
    return goods, number, Order.objects.get()


def test_an_order_routed_by_a_rule_is_booked_labelled_shipped_reported_and_tracked(
    fake_shop_orders, world
):
    fake, carrier = world
    service = "A1" if carrier.kind == "fourpx" else "A4"  # 4PX product code / Aramex satchel
    goods, number, order = _routed_order(fake_shop_orders, carrier, service)
    orders_confirm(order_ids=[order.pk], user=None)
    order.refresh_from_db()
    shipment = order.shipment
    assert order.status == Order.Status.SHIPPED and shipment.carrier == carrier
    assert shipment.status == Shipment.Status.BOOKED and shipment.tracking_number
    assert shipment.service == service
    assert bytes(shipment.label_pdf).startswith(b"%PDF")
    assert reserved(goods["A"]) == 0
    assert StockMovement.objects.filter(kind="out_order_shipment").count() == 1
    fulfilled = fake_shop_orders.fulfilled(number)
    assert len(fulfilled) == 1 and fulfilled[0]["tracking"]["number"] == shipment.tracking_number
    assert fulfilled[0]["tracking"]["company"] == carrier.get_kind_display()
    assert fake.creates == 1
    assert tracking_pull() == 1
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.BOOKED and shipment.tracking_events
    fake.advance(shipment.tracking_number)
    tracking_pull()
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.DELIVERED and shipment.delivered_at
    assert tracking_pull() == 0


def test_failed_booking_shows_the_error_and_the_retry_books_once(fake_shop_orders, world):
    fake, carrier = world
    goods, _number, order = _routed_order(fake_shop_orders, carrier, "")
    fake.fail_next("status", times=40, status=500)
    orders_confirm(order_ids=[order.pk], user=None)
    order.refresh_from_db()
    shipment = order.shipment
    assert order.status == Order.Status.CONFIRMED and shipment.status == Shipment.Status.FAILED
    assert "HTTP 500" in shipment.last_error
    assert reserved(goods["A"]) == 2 and fake.creates == 0
    fake.failures.clear()
    shipment_retry(shipment_id=shipment.pk, user=None)
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED and fake.creates == 1
    assert StockMovement.objects.filter(kind="out_order_shipment").count() == 1


# -- Australia Post: the look-up as its Get Shipments reference documents it -----------------


def test_auspost_lookup_uses_sender_reference_with_paging(fake_auspost, auspost_carrier):
    adapter = for_carrier(auspost_carrier)
    try:
        first = adapter.book_shipment(_request("ship-77"))
        again = adapter.book_shipment(_request("ship-77"))
    finally:
        adapter.close()
    assert again.existed and again.tracking_number == first.tracking_number
    assert fake_auspost.creates == 1
    shipment = next(iter(fake_auspost.shipments.values()))
    assert shipment["sender_references"][0] == "ship-77"


def test_auspost_lost_create_answer_is_found_not_booked_twice(fake_auspost, auspost_carrier):
    fake_auspost.create_delay = 0.8  # applied, answered after our timeout
    adapter = for_carrier(auspost_carrier, timeout=0.3)
    try:
        booking = adapter.book_shipment(_request("ship-78"))
    finally:
        adapter.close()
    fake_auspost.create_delay = 0
    assert booking.existed and booking.tracking_number and fake_auspost.creates == 1
