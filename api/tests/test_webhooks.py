"""Outbound webhooks: the outbox row commits with the business transaction, sends are signed
(verified here as the README tells a receiver to), retried with backoff, logged, and can be
redelivered from the screen; a real Celery worker on Redis delivers them."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from werkzeug import Response

from api.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from api.webhooks import delivery, events, signing
from api.webhooks.delivery import subscription_create
from inventory.exceptions import InsufficientStock

LOCAL_RECEIVER_NETWORKS = ["127.0.0.1/32", "::1/128"]


def verify_like_the_readme(secret: str, header: str, body: bytes) -> dict:
    """Run the receiver's lines exactly as README "Webhooks" prints them."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("### Webhooks") :]
    code = section[
        section.index("```python") + len("```python") : section.index(
            "```\n", section.index("```python") + 9
        )
    ]
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    return namespace["verify"](secret, header, body)


@pytest.fixture(autouse=True)
def _local_receivers(settings):
    """The receivers are local http:// test servers on the loopback (production requires
    https:// and a public address)."""
    settings.WMS_WEBHOOKS_ALLOW_HTTP = True
    settings.WMS_WEBHOOKS_ALLOWED_NETWORKS = LOCAL_RECEIVER_NETWORKS


@pytest.fixture
def subscription(db, make_user, httpserver):
    return subscription_create(
        url=httpserver.url_for("/hook"),
        events=[events.STOCK_CHANGED, events.FREEZE_CREATED, events.FREEZE_RELEASED],
        user=make_user("admin"),
    )


def _ship(client_for, world, quantity=2):
    client = client_for("staff")
    body = {
        "warehouse": world.warehouse.pk,
        "lines": [{"goods": world.goods.pk, "quantity": quantity}],
    }
    return client.post("/api/v1/shipments/", body, format="json")


def test_a_posting_is_delivered_signed_and_verifiable(
    client_for, world, subscription, httpserver, django_capture_on_commit_callbacks
):
    # given a receiver that records what it gets
    received = []

    def handler(request):
        received.append((request.headers.get(signing.HEADER), request.get_data()))
        return Response("ok", status=200)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(handler)
    # when stock is shipped (eager Celery in tests: the send runs after commit)
    with django_capture_on_commit_callbacks(execute=True):
        assert _ship(client_for, world).status_code == 201
    # then one stock.changed arrived, signed, and the README's check accepts it
    row = WebhookDelivery.objects.get(event=events.STOCK_CHANGED)
    assert row.status == WebhookDelivery.Status.DELIVERED and row.attempts == 1
    header, body = received[-1]
    envelope = verify_like_the_readme(subscription.secret, header, body)
    assert envelope["event"] == "stock.changed" and envelope["id"] == str(row.event_id)
    [movement] = envelope["data"]["movements"]
    assert (movement["sku"], movement["on_hand_delta"]) == ("LIP-001", -2)
    # each movement names its own document (a batch posting spans many documents)
    assert movement["document_type"] == envelope["data"]["document_type"]
    assert movement["document_id"] == envelope["data"]["document_id"] is not None
    # a tampered body or another secret fails the check
    with pytest.raises(ValueError):
        verify_like_the_readme(subscription.secret, header, body.replace(b"-2", b"-9"))
    assert not signing.verify("whsec_other", header, body)
    # an old timestamp is refused (replay window)
    old = signing.header_value(subscription.secret, body, timestamp=int(time.time()) - 301)
    assert not signing.verify(subscription.secret, old, body)


def test_a_refused_posting_leaves_no_delivery(client_for, world, subscription):
    assert _ship(client_for, world, quantity=1000).status_code == 409
    assert not WebhookDelivery.objects.exists()


def test_outbox_row_rolls_back_with_the_business_transaction(world, subscription):
    from django.db import transaction

    from inventory import ledger
    from inventory.models import StockMovement

    with pytest.raises(InsufficientStock), transaction.atomic():
        ledger.receive(
            kind=StockMovement.Kind.INBOUND_PURCHASE,
            lines=[ledger.Receipt(world.goods.pk, world.bin.pk, 5, world.batch.pk)],
            document=ledger.Document(type="inbound", ref="IN-X"),
        )
        assert WebhookDelivery.objects.count() == 1  # written inside the posting
        raise InsufficientStock(requested=1)
    assert not WebhookDelivery.objects.exists()


def test_failures_back_off_then_fail_and_are_logged(
    world, subscription, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_request("/hook").respond_with_data(
        "busy", status=503, headers={"Retry-After": "120"}
    )
    from inventory.tests.factories import receive_stock

    with django_capture_on_commit_callbacks(execute=True):
        receive_stock(world.goods, world.bin, 1, batch=world.batch)
    row = WebhookDelivery.objects.get()
    assert row.status == WebhookDelivery.Status.PENDING
    assert row.attempts == 1 and row.last_status_code == 503
    assert row.next_attempt_at >= timezone.now() + datetime.timedelta(seconds=115)  # Retry-After
    # not due yet: nothing is sent
    assert delivery.deliver(row.pk) is None
    # each later attempt once due; the last one gives up
    for _ in range(delivery.MAX_ATTEMPTS - 1):
        WebhookDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        delivery.deliver(row.pk)
    row.refresh_from_db()
    assert row.status == WebhookDelivery.Status.FAILED
    assert WebhookAttempt.objects.filter(delivery=row).count() == delivery.MAX_ATTEMPTS


def test_backoff_grows_and_is_capped():
    delays = [delivery.backoff(n).total_seconds() for n in range(1, 12)]
    assert delays[0] <= 30 and delays[3] >= 120
    assert max(delays) <= delivery.BACKOFF_CAP


def test_freeze_created_and_released_events(client_for, world, subscription, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    staff = client_for("staff")
    freeze = staff.post(
        "/api/v1/freezes/",
        {"scope": {"batch": world.batch.pk}, "reason": "qc_hold", "release_on_qc_pass": True},
        format="json",
    ).json()
    client_for("qc").post(
        f"/api/v1/freezes/{freeze['id']}/inspections/", {"result": "pass"}, format="json"
    )
    kinds = list(WebhookDelivery.objects.order_by("pk").values_list("event", flat=True))
    assert events.FREEZE_CREATED in kinds and events.FREEZE_RELEASED in kinds
    created = WebhookDelivery.objects.get(event=events.FREEZE_CREATED)
    assert (
        created.payload["freeze_id"] == freeze["id"]
        and created.payload["scope"]["batch"] == world.batch.pk
    )


def test_unsubscribed_events_and_paused_subscriptions_write_nothing(
    client_for, world, subscription
):
    subscription.events = [events.FREEZE_CREATED]
    subscription.save()
    _ship(client_for, world)
    assert not WebhookDelivery.objects.exists()


def test_screen_lists_deliveries_and_redelivers(
    client, make_user, world, subscription, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    from inventory.tests.factories import receive_stock

    with django_capture_on_commit_callbacks(execute=True):
        receive_stock(world.goods, world.bin, 1, batch=world.batch)
    row = WebhookDelivery.objects.get()
    assert row.status == WebhookDelivery.Status.DELIVERED
    admin = subscription.created_by
    client.force_login(admin)
    page = client.get(reverse("api:webhook-detail", args=[subscription.pk]))
    assert page.status_code == 200 and str(row.event_id) in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("api:delivery-redeliver", args=[row.pk]))
    row.refresh_from_db()
    assert row.status == WebhookDelivery.Status.DELIVERED
    assert WebhookAttempt.objects.filter(delivery=row).count() == 2
    # staff without the permission get 403
    client.force_login(make_user("staff"))
    assert client.get(reverse("api:webhook-list")).status_code == 403


def test_screen_creates_a_subscription_and_refuses_bad_input(client, make_user, httpserver):
    client.force_login(make_user("admin"))
    url = reverse("api:webhook-list")
    bad = client.post(url, {"url": "ftp://x", "events": ["stock.changed"]})
    assert bad.status_code == 422
    none = client.post(url, {"url": httpserver.url_for("/h"), "events": []})
    assert none.status_code == 422
    assert not WebhookSubscription.objects.exists()
    ok = client.post(
        url, {"url": httpserver.url_for("/h"), "events": ["stock.changed"], "is_active": "on"}
    )
    assert ok.status_code == 302
    made = WebhookSubscription.objects.get()
    assert made.secret.startswith("whsec_") and made.events == ["stock.changed"]
    zh = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "新建订阅" in zh and "库存变动" in zh


# One real worker at a time on the shared Redis (CI: --dist loadgroup).
@pytest.mark.xdist_group("real_worker")
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_delivers_from_the_outbox(client_for, make_user, httpserver, tmp_path):
    """No eager tasks: the posting queues on Redis after commit, a worker subprocess sends."""
    from wms.celery import app

    broker = os.environ.get("CELERY_BROKER_URL", "")
    if connection.vendor != "postgresql" or not broker.startswith("redis://"):
        pytest.skip("needs PostgreSQL and Redis")
    from api.tests.conftest import World

    world = World()
    httpserver.expect_request("/hook").respond_with_data("ok")
    subscription_create(
        url=httpserver.url_for("/hook"), events=[events.STOCK_CHANGED], user=make_user("admin")
    )
    settings_dict = connection.settings_dict
    database_url = f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wms",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-Q",
            "celery",
            "--loglevel=WARNING",
        ],
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "wms.settings",
            "DEBUG": "1",
            "WMS_WEBHOOKS_ALLOWED_NETWORKS": ",".join(LOCAL_RECEIVER_NETWORKS),
        },
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    app.conf.task_always_eager = False
    try:
        assert _ship(client_for, world).status_code == 201
        row = WebhookDelivery.objects.get()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            row.refresh_from_db()
            if row.status == WebhookDelivery.Status.DELIVERED:
                break
            time.sleep(0.5)
        assert row.status == WebhookDelivery.Status.DELIVERED, (tmp_path / "worker.log").read_text()
        assert len(httpserver.log) == 1
    finally:
        app.conf.task_always_eager = True
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
