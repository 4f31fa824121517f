import re

import pytest
from django.contrib.auth.models import Group
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
    user = django_user_model.objects.create_user("orders-op")
    user.groups.add(Group.objects.get(name=roles.CHANNEL_OPERATOR))
    return user


@pytest.fixture
def flow(fake_shop_orders, fake_auspost, auspost_carrier):
    shop, wh_syd, *_rest = order_world(fake_shop_orders)
    fake_shop_orders.add_order([("A", 2)], address=SYDNEY)
    fake_shop_orders.add_order([("B", 1)], address=SYDNEY)
    orders_pull(shop.pk, source=source(shop))
    LogisticsRule.objects.create(
        name="AU parcels", priority=1, country="AU", carrier=auspost_carrier, service="7E55"
    )
    return shop, fake_shop_orders


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_order_screens_render_in_both_languages_and_never_show_a_secret(
    client, operator, flow, lang
):
    client.force_login(operator)
    client.cookies["django_language"] = lang
    order = Order.objects.order_by("pk").first()
    urls = [
        reverse("channels_sync:order-list"),
        reverse("channels_sync:order-list") + "?status=reserved&q=500",
        reverse("channels_sync:order-detail", args=[order.pk]),
        reverse("channels_sync:rule-list"),
        reverse("channels_sync:rule-list") + "?country=AU&postcode=2000&weight=1&value=20",
        reverse("channels_sync:carrier-list"),
        reverse("channels_sync:order-metrics"),
        reverse("channels_sync:sync-log"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "ap_pass" not in body and "shpat_test" not in body
    if lang == "zh-hans":
        assert "平台订单" in client.get(reverse("channels_sync:order-list")).content.decode()


def test_confirm_many_from_the_list_books_prints_labels_and_counts_in_the_fill_rate(
    client, operator, flow
):
    shop, fake = flow
    client.force_login(operator)
    ids = list(Order.objects.order_by("pk").values_list("pk", flat=True))
    response = client.post(reverse("channels_sync:order-confirm"), {"orders": ids})
    assert response.status_code == 302
    assert set(Order.objects.values_list("status", flat=True)) == {"shipped"}
    shipment = Shipment.objects.first()
    label = client.get(reverse("channels_sync:shipment-label", args=[shipment.pk]))
    assert label["Content-Type"] == "application/pdf" and label.content.startswith(b"%PDF")
    detail = client.get(reverse("channels_sync:order-detail", args=[shipment.order_id]))
    assert shipment.tracking_number in detail.content.decode()
    metrics = client.get(reverse("channels_sync:order-metrics")).content.decode()
    assert "<polyline" in metrics and "100%" in metrics
    log = client.get(reverse("channels_sync:sync-log")).content.decode()
    assert 'data-table="order-pulls"' in log


def test_rule_tester_says_which_rule_wins(client, operator, flow):
    client.force_login(operator)
    response = client.get(
        reverse("channels_sync:rule-list"), {"country": "CN", "weight": 1, "value": 5}
    )
    assert "No rule matches" in response.content.decode()
    response = client.get(
        reverse("channels_sync:rule-list"), {"country": "AU", "weight": 1, "value": 5}
    )
    assert "data-winner" in response.content.decode()


def test_rule_and_carrier_forms_refuse_bad_input_with_422(client, operator):
    client.force_login(operator)
    response = client.post(
        reverse("channels_sync:rule-list"), {"name": "x", "priority": 1, "method": "carrier"}
    )
    assert response.status_code == 422 and not LogisticsRule.objects.exists()
    response = client.post(
        reverse("channels_sync:carrier-list"),
        {
            "kind": "auspost",
            "name": "AP",
            "secret_1": "k",
            "secret_2": "p",
            "secret_3": "123",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    carrier = Carrier.objects.get()
    assert dict(carrier.credentials) == {"api_key": "k", "password": "p", "account_number": "123"}


def test_clerk_without_permission_gets_403(client, django_user_model, flow):
    user = django_user_model.objects.create_user("nobody")
    client.force_login(user)
    assert client.get(reverse("channels_sync:order-list")).status_code == 403
    ids = list(Order.objects.values_list("pk", flat=True))
    assert client.post(reverse("channels_sync:order-confirm"), {"orders": ids}).status_code == 403
    assert set(Order.objects.values_list("status", flat=True)) == {"reserved"}


def test_order_pull_settings_are_edited_on_the_orders_screen(client, operator, flow):
    from channels_sync.models import ShopOrderSettings

    shop, _fake = flow
    client.force_login(operator)
    assert "Order pull settings" in client.get(reverse("channels_sync:order-list")).content.decode()
    url = reverse("channels_sync:order-settings", args=[shop.pk])
    client.post(url, {"pull_interval_minutes": 5, "when_short": "split"})
    row = ShopOrderSettings.objects.get(shop=shop)
    assert (row.pull_interval_minutes, row.when_short) == (5, "split")
    client.post(url, {"pull_interval_minutes": 0, "when_short": "split"})
    row.refresh_from_db()
    assert row.pull_interval_minutes == 5


@pytest.mark.parametrize("days", ["²", "9" * 5000, "-3", "abc"])
def test_metrics_with_a_days_value_that_is_not_a_plain_number_shows_the_default(
    client, operator, days
):
    client.force_login(operator)
    response = client.get(reverse("channels_sync:order-metrics"), {"days": days})
    assert response.status_code == 200
    assert response.context["days"] == 28


@pytest.mark.parametrize("platform", ["ebay", "kogan", "rest"])
def test_pull_orders_now_works_for_every_platform_with_an_order_pull(
    client, operator, platform, monkeypatch
):
    from channels_sync.models import OrderPull
    from channels_sync.tests.factories import ShopFactory

    # given: a shop of a platform whose orders are pulled (the platform is unreachable here)
    monkeypatch.setattr("channels_sync.adapters.http.RetryPolicy.delay", lambda *a: 0)
    shop = ShopFactory(platform=platform, is_order_pull_enabled=True)
    client.force_login(operator)

    # when: the operator asks for a pull now
    response = client.post(reverse("channels_sync:orders-pull"), {"pull-shop": shop.pk})

    # then: the pull ran for that shop (its outcome is on the sync log)
    assert response.status_code == 302
    assert OrderPull.objects.filter(shop=shop, trigger="manual").count() == 1


def test_pull_orders_now_is_refused_for_a_shop_whose_order_pull_is_off(client, operator):
    from channels_sync.models import OrderPull
    from channels_sync.tests.factories import ShopFactory

    # given: an active shop with its order pull switched off
    shop = ShopFactory(is_order_pull_enabled=False)
    client.force_login(operator)

    # when
    response = client.post(
        reverse("channels_sync:orders-pull"), {"pull-shop": shop.pk}, follow=True
    )

    # then: refused with the reason, nothing pulled, and the screen does not offer the shop
    assert "order pull switched on" in response.content.decode()
    assert not OrderPull.objects.filter(shop=shop).exists()
    page = client.get(reverse("channels_sync:order-list")).content.decode()
    pull_select = re.search(r'<select name="pull-shop".*?</select>', page, re.S).group(0)
    assert f'<option value="{shop.pk}"' not in pull_select
