"""Stock push through a real ``celery worker`` subprocess on Redis (this helper's db), against
the test database and a local Shopify fake: platform errors, a worker killed mid-push, and a
web process whose broker is down (the outbox grows, then drains)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from channels_sync.models import OutboxItem, SyncRecord
from channels_sync.tests.factories import BindingFactory, ShopFactory, listed_on
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory
from wms.celery import app as celery_app

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.xdist_group("real_worker"),
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{quote(db['USER'] or '')}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, tmp_path: Path, name: str, **env):
        self.log_path = tmp_path / f"{name}.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "wms.settings",
            "DATABASE_URL": _database_url(),
            "WMS_VAR_DIR": str(tmp_path / "var"),
            "LOG_LEVEL": "INFO",
            **env,
        }
        self.command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wms",
            "worker",
            "-Q",
            "sync_push,sync_pull",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"{name}-{os.getpid()}@%h",
        ]
        self.process = None

    def __enter__(self):
        (Path(self.env["WMS_VAR_DIR"])).mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in __exit__
        self.process = subprocess.Popen(  # noqa: S603 - our own celery command line
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def kill(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def wait_for(predicate, *, timeout: float, what: str, worker: Worker | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}\n{worker.text() if worker else ''}")


@pytest.fixture
def broker():
    import redis

    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://...")
    redis.Redis.from_url(url).flushdb()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield url
    celery_app.conf.task_always_eager = eager
    redis.Redis.from_url(url).flushdb()


def _world(fake, count=3):
    from channels_sync.fakes.shopify import LOCATION_ID

    shop = ShopFactory(api_base_url=fake.url, location_ref=LOCATION_ID)
    bin_a = BinFactory()
    BindingFactory(shop=shop, warehouse=bin_a.warehouse)
    listings = []
    for n in range(count):
        goods = GoodsFactory(sku=f"W-{n}")
        listings.append(listed_on(fake, shop, goods))
        receive_stock(goods, bin_a, 4 + n)
    return shop, listings


def test_platform_500_is_recorded_goods_stay_dirty_and_go_out_later(broker, fake_shopify, tmp_path):
    from channels_sync.tasks import shop_push_task

    shop, _listings = _world(fake_shopify)
    fake_shopify.fail_next("status", status=500, times=4)
    with Worker(tmp_path, "w500") as worker:
        shop_push_task.delay(shop.pk)
        wait_for(
            lambda: SyncRecord.objects.filter(status="failure").count() == 3,
            timeout=60,
            what="failure records",
            worker=worker,
        )
        wait_for(
            lambda: OutboxItem.objects.filter(shop=shop, status="pending").count() == 3,
            timeout=30,
            what="the rows back to pending",
            worker=worker,
        )
        OutboxItem.objects.filter(shop=shop).update(claimed_at=None)  # backoff over
        shop_push_task.delay(shop.pk)
        wait_for(
            lambda: not OutboxItem.objects.filter(shop=shop).exists(),
            timeout=60,
            what="the outbox to drain",
            worker=worker,
        )
    assert [fake_shopify.quantity_of(f"W-{n}") for n in range(3)] == [4, 5, 6]


def test_worker_killed_mid_push_redoes_the_batch_with_the_same_key(broker, fake_shopify, tmp_path):
    from channels_sync.tasks import shop_push_task

    shop, listings = _world(fake_shopify)
    fake_shopify.fail_next("slow", seconds=4)  # the first call is applied, answered late
    with Worker(tmp_path, "wkill", WMS_PUSH_STALE_SECONDS="1") as worker:
        shop_push_task.delay(shop.pk)
        wait_for(
            lambda: OutboxItem.objects.filter(shop=shop, status="sending").count() == 3,
            timeout=60,
            what="the push to start",
            worker=worker,
        )
        key = OutboxItem.objects.filter(shop=shop).values_list("idempotency_key", flat=True)[0]
        time.sleep(1.0)
        worker.kill()
    time.sleep(4)  # the fake applied the first call meanwhile
    assert fake_shopify.quantity_of("W-2") == 6
    assert not SyncRecord.objects.exists()
    with Worker(tmp_path, "wback", WMS_PUSH_STALE_SECONDS="1") as worker:
        shop_push_task.delay(shop.pk)
        wait_for(
            lambda: not OutboxItem.objects.filter(shop=shop).exists(),
            timeout=60,
            what="the outbox to drain",
            worker=worker,
        )
    # the same request was replayed under its key (no second application), then the current
    # quantities went out again by compare-and-set
    assert SyncRecord.objects.filter(idempotency_key=key, status="success").count() == 3
    assert [fake_shopify.quantity_of(f"W-{n}") for n in range(3)] == [4, 5, 6]
    assert not SyncRecord.objects.filter(status="failure").exists()


def test_broker_down_web_keeps_posting_outbox_grows_then_drains(broker, fake_shopify, tmp_path):
    shop, listings = _world(fake_shopify)
    OutboxItem.objects.all().delete()
    # a web process whose broker is unreachable posts a receipt (the after-commit push request
    # fails fast; the posting commits with its outbox row)
    from inventory.models import StockBalance

    bin_id = StockBalance.objects.get(goods_id=listings[0].goods_id).bin_id
    script = (
        "from inventory import ledger;"
        f"ledger.receive(kind='in_purchase', lines=[ledger.Receipt({listings[0].goods_id}, "
        f"{bin_id}, 10)], document=ledger.Document(type='other', ref='down'))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wms.settings",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/6",
    }
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - our own manage.py command line
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert time.monotonic() - started < 60
    assert OutboxItem.objects.filter(
        shop=shop, goods_id=listings[0].goods_id, status="pending"
    ).exists()
    # the broker is back: the drain (beat) sends the push
    from channels_sync.tasks import outbox_drain_task

    with Worker(tmp_path, "wdrain") as worker:
        outbox_drain_task.delay()
        wait_for(
            lambda: not OutboxItem.objects.filter(shop=shop).exists(),
            timeout=60,
            what="the outbox to drain",
            worker=worker,
        )
    assert fake_shopify.quantity_of("W-0") == 14


def test_worker_killed_mid_product_sync_is_swept_requeued_and_finished(
    broker, fake_shopify, tmp_path
):
    # given: a sync that a worker takes, then dies in (the platform answers slowly)
    from channels_sync.fakes.shopify import LOCATION_ID
    from channels_sync.models import ProductSyncRun
    from channels_sync.services.products import product_sync_start
    from wms.jobs import jobs_sweep

    shop = ShopFactory(api_base_url=fake_shopify.url, location_ref=LOCATION_ID)
    for n in range(3):
        fake_shopify.add_variant(f"PK-{n}")
    fake_shopify.fail_next("slow", seconds=5)
    run = product_sync_start(shop=shop, mode="full", user=None)
    with Worker(tmp_path, "wsync") as worker:
        wait_for(
            lambda: ProductSyncRun.objects.filter(pk=run.pk, status="running").exists(),
            timeout=60,
            what="the sync to start",
            worker=worker,
        )
        worker.kill()
    # the dead run would block the shop's next sync
    assert ProductSyncRun.objects.get(pk=run.pk).status == "running"

    # when: the sweeper runs once PostgreSQL has seen the worker's session go
    wait_for(lambda: jobs_sweep() == 1, timeout=30, what="the sweeper to requeue the run")
    assert ProductSyncRun.objects.get(pk=run.pk).status == "queued"

    # then: a live worker takes it again and finishes it; the shop can sync again
    with Worker(tmp_path, "wsync2") as worker:
        wait_for(
            lambda: ProductSyncRun.objects.filter(pk=run.pk, status="done").exists(),
            timeout=60,
            what="the requeued sync to finish",
            worker=worker,
        )
    run.refresh_from_db()
    assert run.attempts == 2
    assert shop.listings.count() == 3
    assert product_sync_start(shop=shop, mode="incremental", user=None).status == "queued"
