"""The carrier screens with 4PX and Aramex Australia: their credentials form (secrets stored
encrypted, never shown), rules choosing them, the rule tester naming the winner, and an order
confirmed from the list booked with the carrier its rule chose, its label printable."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse

from channels_sync.models import Carrier, LogisticsRule, Order, Shipment
from channels_sync.services.orders import orders_pull
from channels_sync.tests.order_helpers import order_world, source
from wms import roles

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SYDNEY = ("Mia Chen", "12 George St", "Sydney", "NSW", "2000", "AU")


@pytest.fixture
def operator(django_user_model):
    from django.apps import apps

    roles.sync_roles(apps)
    user = django_user_model.objects.create_user("carrier-op")
    user.groups.add(Group.objects.get(name=roles.CHANNEL_OPERATOR))
    return user


def _raw_credentials(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM channels_sync_carrier WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        (
            "fourpx",
            {"secret_1": "fpx_key", "secret_2": "fpx_topsecret"},
            {"app_key": "fpx_key", "app_secret": "fpx_topsecret"},
        ),
        (
            "aramex",
            {"secret_1": "arx_client", "secret_2": "arx_topsecret", "secret_3": "ac-api-au"},
            {"client_id": "arx_client", "client_secret": "arx_topsecret", "scope": "ac-api-au"},
        ),
    ],
)
def test_carrier_form_stores_secrets_encrypted_and_never_shows_them(
    client, operator, kind, typed, stored
):
    client.force_login(operator)
    url = reverse("channels_sync:carrier-list")
    page = client.get(url).content.decode()
    assert f'value="{kind}"' in page  # selectable
    response = client.post(
        url,
        {
            "kind": kind,
            "name": f"My {kind}",
            "api_base_url": "",
            "default_service": "P",
            "is_active": "on",
            **typed,
        },
    )
    assert response.status_code == 302
    carrier = Carrier.objects.get()
    assert carrier.kind == kind and dict(carrier.credentials) == stored
    assert "topsecret" not in _raw_credentials(carrier.pk)
    body = client.get(url).content.decode()
    assert "topsecret" not in body and carrier.name in body


def test_carrier_form_refuses_bad_input_with_422(client, operator):
    client.force_login(operator)
    response = client.post(
        reverse("channels_sync:carrier-list"),
        {"kind": "fourpx", "name": "", "api_base_url": "not a url"},
    )
    assert response.status_code == 422 and not Carrier.objects.exists()


def test_rules_choose_4px_or_aramex_and_the_tester_names_the_winner(
    client, operator, fourpx_carrier, aramex_carrier
):
    client.force_login(operator)
    url = reverse("channels_sync:rule-list")
    for name, priority, country, carrier in (
        ("China by 4PX", 1, "CN", fourpx_carrier),
        ("Australia by Aramex", 2, "AU", aramex_carrier),
    ):
        response = client.post(
            url,
            {
                "name": name,
                "priority": priority,
                "country": country,
                "method": "carrier",
                "carrier": carrier.pk,
                "service": "P",
                "is_active": "on",
            },
        )
        assert response.status_code == 302, response.content.decode()[:500]
    assert set(LogisticsRule.objects.values_list("carrier__kind", flat=True)) == {
        "fourpx",
        "aramex",
    }
    page = client.get(url, {"country": "CN", "weight": 1, "value": 5}).content.decode()
    assert "data-winner" in page and "China by 4PX" in page


@pytest.mark.parametrize("kind", ["fourpx", "aramex"])
def test_confirm_from_the_list_books_with_the_rules_carrier_and_prints_its_label(
    client, operator, fake_shop_orders, kind, request, monkeypatch
):
    monkeypatch.setattr(
        "channels_sync.adapters.http.RetryPolicy.delay", lambda self, attempt, retry_after: 0
    )
    fake = request.getfixturevalue(f"fake_{kind}")
    carrier = request.getfixturevalue(f"{kind}_carrier")
    shop, *_rest = order_world(fake_shop_orders)
    fake_shop_orders.add_order([("A", 1)], address=SYDNEY)
    orders_pull(shop.pk, source=source(shop))
    LogisticsRule.objects.create(name="AU", priority=1, country="AU", carrier=carrier)
    client.force_login(operator)
    ids = list(Order.objects.values_list("pk", flat=True))
    response = client.post(reverse("channels_sync:order-confirm"), {"orders": ids})
    assert response.status_code == 302
    shipment = Shipment.objects.get()
    assert shipment.carrier == carrier and shipment.status == "booked" and fake.creates == 1
    label = client.get(reverse("channels_sync:shipment-label", args=[shipment.pk]))
    assert label["Content-Type"] == "application/pdf" and label.content.startswith(b"%PDF")
    detail = client.get(reverse("channels_sync:order-detail", args=[shipment.order_id]))
    assert shipment.tracking_number in detail.content.decode()
