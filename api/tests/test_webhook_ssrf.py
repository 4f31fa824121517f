"""Webhook URLs reach only public addresses: refused when saved (after DNS resolution) and
again when sent (every address the host resolves to, before connecting), unless a network is
exempted on purpose."""

from __future__ import annotations

import pytest
from werkzeug import Response

from api.exceptions import WebhookError
from api.models import WebhookDelivery, WebhookSubscription
from api.webhooks import delivery, events, ssrf
from api.webhooks.delivery import subscription_create, subscription_update
from api.webhooks.outbox import publish

INTERNAL = [
    "http://127.0.0.1/hook",
    "http://localhost:8000/hook",
    "http://[::1]/hook",
    "http://10.0.0.5/hook",
    "http://192.168.1.10/hook",
    "http://172.16.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[fe80::1]/hook",
    "http://2130706433/hook",
    "http://[2002:7f00:1::]/hook",  # 6to4 around 127.0.0.1
    "http://[2002:a9fe:a9fe::]/hook",  # 6to4 around 169.254.169.254
    "http://[fec0::1]/hook",  # site-local
]


@pytest.fixture(autouse=True)
def _http_allowed(settings):
    settings.WMS_WEBHOOKS_ALLOW_HTTP = True
    settings.WMS_WEBHOOKS_ALLOWED_NETWORKS = []


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_addresses_are_refused_when_saved(db, make_user, url):
    with pytest.raises(WebhookError) as refused:
        subscription_create(url=url, events=[events.STOCK_CHANGED], user=make_user("admin"))
    assert refused.value.field == "url"
    assert not WebhookSubscription.objects.exists()


def test_public_addresses_pass_and_exempt_networks_are_allowed(settings):
    assert ssrf.address_allowed("93.184.216.34")
    assert ssrf.address_allowed("2606:2800:220:1:248:1893:25c8:1946")
    assert not ssrf.address_allowed("127.0.0.1")
    settings.WMS_WEBHOOKS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    assert ssrf.address_allowed("127.0.0.1")
    assert not ssrf.address_allowed("10.0.0.1")


def test_api_refuses_an_internal_url_with_the_error_body(client_for, db):
    client = client_for("admin")
    response = client.post(
        "/api/v1/webhooks/",
        {"url": "http://169.254.169.254/latest/", "events": ["stock.changed"]},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "webhook_error" and "url" in body["fields"]
    assert not WebhookSubscription.objects.exists()


def test_update_to_an_internal_url_is_refused(db, make_user, settings, httpserver):
    settings.WMS_WEBHOOKS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    made = subscription_create(
        url=httpserver.url_for("/hook"), events=[events.STOCK_CHANGED], user=make_user("admin")
    )
    settings.WMS_WEBHOOKS_ALLOWED_NETWORKS = []
    with pytest.raises(WebhookError):
        subscription_update(
            subscription=made,
            url="http://10.1.2.3/hook",
            events=[events.STOCK_CHANGED],
            is_active=True,
        )
    made.refresh_from_db()
    assert made.url == httpserver.url_for("/hook")


def test_send_time_check_refuses_what_resolves_inside_now(db, make_user, settings, httpserver):
    # given a subscription saved while its host was allowed (as a name that later resolves to
    # an internal address: DNS rebinding)
    hits = []
    httpserver.expect_request("/hook").respond_with_handler(
        lambda request: hits.append(1) or Response("ok")
    )
    settings.WMS_WEBHOOKS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    made = subscription_create(
        url=httpserver.url_for("/hook"), events=[events.STOCK_CHANGED], user=make_user("admin")
    )
    settings.WMS_WEBHOOKS_ALLOWED_NETWORKS = []
    [delivery_id] = publish(events.STOCK_CHANGED, {"movements": []})
    # when it is sent
    delivery.deliver(delivery_id)
    # then nothing reached the receiver and the attempt says why
    row = WebhookDelivery.objects.get(pk=delivery_id)
    assert hits == [] and row.status == WebhookDelivery.Status.PENDING
    assert "not a public address" in row.last_error
    assert made.pk == row.subscription_id


def test_send_time_refusal_opens_no_connection_to_the_internal_address(db, make_user, settings):
    # a listener on an internal address the subscription's host now resolves to
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.3)
    port = listener.getsockname()[1]
    try:
        settings.WMS_WEBHOOKS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
        subscription_create(
            url=f"http://127.0.0.1:{port}/hook",
            events=[events.STOCK_CHANGED],
            user=make_user("admin"),
        )
        settings.WMS_WEBHOOKS_ALLOWED_NETWORKS = []
        [delivery_id] = publish(events.STOCK_CHANGED, {"movements": []})
        delivery.deliver(delivery_id)
        # not even a TCP handshake reached it
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
    row = WebhookDelivery.objects.get(pk=delivery_id)
    assert row.status == WebhookDelivery.Status.PENDING
    assert "127.0.0.1" in row.last_error and "not a public address" in row.last_error


def test_redirects_are_not_followed(db, make_user, settings, httpserver):
    settings.WMS_WEBHOOKS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    httpserver.expect_request("/hook").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/"}
    )
    subscription_create(
        url=httpserver.url_for("/hook"), events=[events.STOCK_CHANGED], user=make_user("admin")
    )
    [delivery_id] = publish(events.STOCK_CHANGED, {"movements": []})
    delivery.deliver(delivery_id)
    row = WebhookDelivery.objects.get(pk=delivery_id)
    assert row.last_status_code == 302 and row.status == WebhookDelivery.Status.PENDING


def test_the_screen_shows_the_refusal_on_the_url_field(client, make_user):
    from django.urls import reverse

    client.force_login(make_user("admin"))
    response = client.post(
        reverse("api:webhook-list"),
        {"url": "http://10.0.0.7/hook", "events": [events.STOCK_CHANGED]},
    )
    assert response.status_code == 422
    assert "public address" in response.content.decode()
    assert not WebhookSubscription.objects.exists()
