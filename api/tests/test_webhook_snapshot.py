"""The ``stock.changed`` hook runs inside every ledger posting: while nobody subscribes it must
not query anything, and a subscription changed by another process must never break a posting."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.models import WebhookDelivery, WebhookSubscription
from api.webhooks import events, outbox
from api.webhooks.delivery import subscription_create
from inventory.tests.factories import receive_stock

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_receivers(settings):
    settings.WMS_WEBHOOKS_ALLOW_HTTP = True


def _subscribe(make_user, name: str, event=events.STOCK_CHANGED):
    return subscription_create(
        url="http://127.0.0.1:9/hook", events=[event], user=make_user("admin", username=name)
    )


def test_a_posting_with_no_subscriber_never_reads_the_subscriptions(world):
    receive_stock(world.goods, world.bin, 1)  # fills this process's snapshot
    with CaptureQueriesContext(connection) as seen:
        receive_stock(world.goods, world.bin, 1)
    touched = [q["sql"] for q in seen.captured_queries if "api_webhook" in q["sql"]]
    assert touched == []
    assert not WebhookDelivery.objects.exists()


def test_a_subscription_saved_here_receives_the_next_posting(world, make_user):
    receive_stock(world.goods, world.bin, 1)  # snapshot taken: nobody listens
    subscription = _subscribe(make_user, "a1")
    receive_stock(world.goods, world.bin, 1)
    assert WebhookDelivery.objects.filter(subscription=subscription).count() == 1


def test_a_subscription_saved_elsewhere_starts_within_the_snapshot_age(
    world, make_user, monkeypatch
):
    receive_stock(world.goods, world.bin, 1)
    # another process saves a subscription: no signal reaches this one
    other = WebhookSubscription.objects.bulk_create(
        [
            WebhookSubscription(
                url="http://127.0.0.1:9/hook",
                secret="s" * 32,
                events=[events.STOCK_CHANGED],
                created_by=make_user("admin"),
            )
        ]
    )[0]
    receive_stock(world.goods, world.bin, 1)
    assert not WebhookDelivery.objects.exists()  # the snapshot is younger than its age limit
    clock = outbox.time.monotonic() + outbox.snapshot_seconds() + 0.01
    monkeypatch.setattr(outbox.time, "monotonic", lambda: clock)
    receive_stock(world.goods, world.bin, 1)
    assert WebhookDelivery.objects.filter(subscription=other).count() == 1


def test_a_subscription_removed_elsewhere_gets_nothing_and_breaks_nothing(world, make_user):
    subscription = _subscribe(make_user, "a1")
    receive_stock(world.goods, world.bin, 1)
    assert WebhookDelivery.objects.count() == 1
    # another process deactivates one subscription and deletes the other: this process's
    # snapshot still lists them, the posting re-reads them in its own transaction
    second = _subscribe(make_user, "a2")
    receive_stock(world.goods, world.bin, 1)  # snapshot now holds both
    WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=False)
    WebhookDelivery.objects.filter(subscription=second).delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM api_webhooksubscription WHERE id = %s", [second.pk])
    before = WebhookDelivery.objects.count()
    receive_stock(world.goods, world.bin, 1)
    assert WebhookDelivery.objects.count() == before
