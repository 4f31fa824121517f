"""Product sync: a run whose worker died is swept and requeued or failed (wms.jobs liveness),
so it never blocks the shop's next sync; deletions seen by incremental syncs and reconciles."""

from __future__ import annotations

import pytest
from django.db import connections
from django.utils import timezone

from channels_sync.exceptions import ChannelError
from channels_sync.models import ProductSyncRun
from channels_sync.services.products import JOB_KIND, product_sync_run, product_sync_start
from channels_sync.tests.factories import ShopFactory
from wms.jobs import job_lock_name, jobs_sweep
from wms.locks import advisory_key

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def other_connection():
    """A second database session: the worker that holds the run."""
    other = connections.create_connection("default")
    yield other
    other.close()


def _left_running(shop, *, attempts=1) -> ProductSyncRun:
    """A run a worker took (heartbeat set) and then died in (its session lock is gone)."""
    return ProductSyncRun.objects.create(
        shop=shop,
        mode="full",
        status=ProductSyncRun.Status.RUNNING,
        attempts=attempts,
        heartbeat_at=timezone.now(),
        done=3,
        total=10,
    )


def test_a_sync_left_running_by_a_dead_worker_is_requeued_and_finishes(
    fake_shopify, django_capture_on_commit_callbacks
):
    # given: the shop's sync was left RUNNING; a new sync is refused meanwhile
    fake_shopify.add_variant("PS-1")
    shop = ShopFactory(api_base_url=fake_shopify.url)
    run = _left_running(shop)
    with pytest.raises(ChannelError):
        product_sync_start(shop=shop, mode="full", user=None)

    # when: the sweeper sees its lock free (the task runs eagerly after commit)
    with django_capture_on_commit_callbacks(execute=True):
        recovered = jobs_sweep()

    # then
    run.refresh_from_db()
    assert recovered == 1
    assert (run.status, run.attempts) == ("done", 2)
    assert shop.listings.count() == 1
    assert product_sync_start(shop=shop, mode="full", user=None).status == "queued"


def test_a_sync_whose_worker_keeps_dying_is_failed_and_unblocks_the_shop():
    shop = ShopFactory()
    run = _left_running(shop, attempts=3)

    recovered = jobs_sweep()

    run.refresh_from_db()
    assert recovered == 1
    assert run.status == "failed"
    assert "stopped 3 times" in run.message
    assert product_sync_start(shop=shop, mode="full", user=None).status == "queued"


def test_a_live_sync_is_never_swept_and_a_second_delivery_does_nothing(other_connection):
    # given: a worker (another session) holds the run's claim
    shop = ShopFactory()
    run = _left_running(shop)
    with other_connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_lock(%s)", [advisory_key(job_lock_name(JOB_KIND, run.pk))]
        )

    # when
    recovered = jobs_sweep()
    again = product_sync_run(run.pk)

    # then
    assert recovered == 0
    assert again.status == "running" and again.attempts == 1


# -- deletions ---------------------------------------------------------------------------------


def _synced_shop(fake, count=3):
    from channels_sync.services.products import product_sync_start

    for n in range(count):
        fake.add_variant(f"DL-{n}")
    shop = ShopFactory(api_base_url=fake.url)
    run = product_sync_start(shop=shop, mode="full", user=None)
    assert product_sync_run(run.pk).status == "done"
    shop.refresh_from_db()
    return shop


def test_incremental_sync_marks_products_deleted_on_shopify_from_its_destroy_events(
    fake_shopify,
):
    # given
    shop = _synced_shop(fake_shopify)
    fake_shopify.delete_variant("DL-1")

    # when
    run = product_sync_start(shop=shop, mode="incremental", user=None)
    run = product_sync_run(run.pk)

    # then: marked, not deleted; the others untouched
    assert (run.mode, run.status, run.deleted) == ("incremental", "done", 1)
    statuses = dict(shop.listings.values_list("sku", "status"))
    assert statuses == {"DL-0": "active", "DL-1": "deleted", "DL-2": "active"}


def test_a_stale_full_sync_turns_the_incremental_into_a_reconcile_that_sees_silent_deletions(
    fake_shopify,
):
    # given: a product gone without any event, and the last full sync two days old
    from datetime import timedelta

    shop = _synced_shop(fake_shopify)
    number = next(n for n, v in fake_shopify.variants.items() if v.sku == "DL-2")
    del fake_shopify.variants[number]
    run = product_sync_start(shop=shop, mode="incremental", user=None)
    assert run.mode == "incremental"  # a full sync ran a moment ago
    product_sync_run(run.pk)
    assert shop.listings.get(sku="DL-2").status == "active"  # no event: not seen yet
    ProductSyncRun.objects.filter(shop=shop, mode="full").update(
        created_at=timezone.now() - timedelta(days=2)
    )

    # when
    run = product_sync_run(product_sync_start(shop=shop, mode="incremental", user=None).pk)

    # then
    assert (run.mode, run.status, run.deleted) == ("full", "done", 1)
    assert shop.listings.get(sku="DL-2").status == "deleted"
    assert shop.listings.count() == 3


def test_own_shop_soft_deletes_are_seen_by_an_incremental_sync():
    from channels_sync import adapters
    from channels_sync.fakes import FakeServer
    from channels_sync.fakes.rest import FakeRestShop

    fake = FakeRestShop()
    for n in range(3):
        fake.add_product(f"RS-{n}")
    with FakeServer(fake) as server:
        shop = ShopFactory(
            platform="rest", api_base_url=server.url, credentials={"api_token": "rest_test"}
        )
        run = product_sync_start(shop=shop, mode="full", user=None)
        assert product_sync_run(run.pk, adapter=adapters.for_shop(shop)).status == "done"
        fake.delete_product("RS-0")
        run = product_sync_start(shop=shop, mode="incremental", user=None)
        run = product_sync_run(run.pk, adapter=adapters.for_shop(shop))
    assert (run.mode, run.status, run.deleted) == ("incremental", "done", 1)
    assert shop.listings.get(sku="RS-0").status == "deleted"
