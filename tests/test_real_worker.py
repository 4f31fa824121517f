"""Background work through a real ``celery -A wms worker`` (subprocess, Redis, the test database).

Each test starts the worker (with its embedded beat) on the test broker against pytest's test
database: the tests are transactional, so the worker sees the rows they commit. The worker is
killed as a whole (parent, pool children and beat: the process group) with SIGKILL, as an OOM
kill or a lost node would; the test then checks what a user would see, and that a worker coming
back brings the job to an end within two minutes, writing nothing twice.

Each test has its own redis-server on a random local port (started and stopped by the test),
so nothing else running beside it can take its messages; they are also marked
``xdist_group("real_worker")`` so that, where xdist groups them, they run one after the other.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from freezes.models import Freeze, FreezeJob, FreezeLine, Reason
from freezes.scope import Scope
from freezes.services import jobs as freeze_jobs
from inventory import ledger
from inventory.models import Category, Goods, ImportJob, StockBalance, StockMovement
from inventory.tests.test_import_support import csv_bytes
from warehouses.tests.factories import BinFactory
from wms.celery import app as celery_app
from wms.models import TaskOutbox

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.xdist_group("real_worker"),
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[1]
BACK_WITHIN = 120  # seconds: "within two minutes of a worker being back"
#: Generous waits for the steps before a kill: CI machines are small and may be busy.
UNDER_WAY_WITHIN = 120


def _database_url() -> str:
    """The URL of the database this test runs on (pytest's ``test_...`` database)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(predicate, *, timeout: float, what: str, worker: RealWorker | None = None):
    """Poll ``predicate`` until it returns something truthy; fail with the worker's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if worker is not None and worker.process.poll() is not None:
            pytest.fail(f"the worker exited while waiting for {what}:\n{worker.log()}")
        time.sleep(0.05)
    log = worker.log() if worker else ""
    pytest.fail(f"timed out after {timeout}s waiting for {what}:\n{_state()}\n{log}")


def _state() -> str:
    """What the database and the broker hold, for failure messages."""
    broker = celery_app.conf.broker_url
    try:
        queued = redis.Redis.from_url(broker, socket_connect_timeout=1).llen("celery")
    except redis.RedisError as error:
        queued = error
    return (
        f"outbox={list(TaskOutbox.objects.values_list('task', 'args', 'attempts', 'last_error'))} "
        f"freeze_jobs={list(FreezeJob.objects.values_list('pk', 'status', 'done', 'attempts'))} "
        f"import_jobs={list(ImportJob.objects.values_list('pk', 'status', 'progress_rows'))} "
        f"broker={broker} queued={queued} eager={celery_app.conf.task_always_eager}"
    )


class RealWorker:
    """``celery -A wms worker --beat`` in its own process group, logging to a file."""

    def __init__(self, *, broker_url: str, media_root: Path, directory: Path, name: str) -> None:
        self.directory = directory
        self.log_path = directory / f"{name}.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "wms.settings",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": broker_url,
            "WMS_MEDIA_ROOT": str(media_root),
            "WMS_VAR_DIR": str(directory / "var"),
            "WMS_SWEEP_SECONDS": "2",
            "DEBUG": "0",
            "SECRET_KEY": "real-worker-test-only-" + "x" * 40,
            "ALLOWED_HOSTS": "localhost",
            "LOG_LEVEL": "INFO",
        }
        self.command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wms",
            "worker",
            "--beat",
            "--schedule",
            str(directory / f"{name}-beat-schedule"),
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"{name}-{os.getpid()}@%h",
        ]
        self.process: subprocess.Popen | None = None

    def start(self) -> RealWorker:
        (self.directory / "var").mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill parent and children
            )
        return self

    def kill(self) -> None:
        """SIGKILL the whole worker: parent, pool children and beat."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def wait_ready(self) -> RealWorker:
        """Wait until the worker is connected to its broker and consuming."""
        wait_for(
            lambda: " ready." in self.log(),
            timeout=UNDER_WAY_WITHIN,
            what="the worker to be ready",
            worker=self,
        )
        return self

    def log(self) -> str:
        """The worker's log without the every-2-seconds sweep and drain lines (the last 8,000
        characters), for failure messages."""
        if not self.log_path.exists():
            return ""
        lines = self.log_path.read_text(errors="replace").splitlines()
        noise = ("wms.sweep_jobs", "wms.drain_outbox", "wms-sweep-jobs", "wms-drain-outbox")
        kept = [line for line in lines if not any(word in line for word in noise)]
        return "\n".join(kept)[-8000:]


@pytest.fixture
def start_worker(tmp_path, settings, monkeypatch, own_redis):
    """``start_worker()`` starts a real worker on this test's own redis-server (``own_redis``);
    every worker is killed at the end. The test process publishes for real (not eagerly).

    A private Redis per test, not a shared database number: no other test's worker can take
    this test's messages, whatever runs beside it (pytest-xdist 3.8's ``loadgroup`` does not
    group tests under pytest 9, so ``xdist_group`` alone cannot be relied on)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    started: list[RealWorker] = []

    def start() -> RealWorker:
        worker = RealWorker(
            broker_url=own_redis.url,
            media_root=tmp_path / "media",
            directory=tmp_path,
            name=f"worker{len(started) + 1}",
        )
        started.append(worker.start())
        return worker

    yield start
    for worker in started:
        worker.kill()


def _row(model, pk: int, *fields: str) -> dict:
    return model.objects.filter(pk=pk).values(*fields).get()


# --- a large goods import ---------------------------------------------------------------------

IMPORT_ROWS = 25_000


def test_a_large_goods_import_survives_a_killed_worker_and_writes_every_row_once(
    client, make_user, settings, start_worker
):
    # given: a large sheet uploaded through the screen (it runs in the background)
    settings.WMS_IMPORT_BACKGROUND_ROWS = 1000
    client.force_login(make_user("manager"))
    rows = [["sku", "name"]] + [[f"RW-{n:06d}", f"Goods {n}"] for n in range(IMPORT_ROWS)]
    client.post(
        reverse("inventory:import-start"),
        {"resource": "goods", "file": SimpleUploadedFile("big.csv", csv_bytes(rows))},
    )
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.QUEUED and job.in_background

    # when: a real worker checks it, with progress the page can poll
    worker = start_worker()
    seen = set()

    def checked():
        state = _row(ImportJob, job.pk, "status", "progress_rows")
        seen.add(state["progress_rows"])
        return state["status"] == ImportJob.Status.READY

    wait_for(checked, timeout=UNDER_WAY_WITHIN, what="the check", worker=worker)
    assert any(0 < done < IMPORT_ROWS for done in seen), seen  # progress moved while it ran
    page = client.get(reverse("inventory:import-job", args=[job.pk]))
    assert page.status_code == 200

    # when: the commit runs, and the whole worker is SIGKILLed in the middle of it
    client.post(reverse("inventory:import-job-commit", args=[job.pk]))
    wait_for(
        lambda: _row(ImportJob, job.pk, "progress_rows")["progress_rows"] >= IMPORT_ROWS // 10,
        timeout=UNDER_WAY_WITHIN,
        what="the commit to be under way",
        worker=worker,
    )
    worker.kill()

    # then: nothing written (all or nothing), and the job still says it is importing
    stuck = _row(ImportJob, job.pk, "status", "progress_rows")
    assert stuck["status"] == ImportJob.Status.COMMITTING, worker.log()
    assert 0 < stuck["progress_rows"] < IMPORT_ROWS
    assert not Goods.objects.exists()

    # when: a worker is back
    back = time.monotonic()
    worker = start_worker()
    wait_for(
        lambda: _row(ImportJob, job.pk, "status")["status"] not in ImportJob.RUNNING,
        timeout=BACK_WITHIN,
        what="the import to end after the worker came back",
        worker=worker,
    )

    # then: it ended, done, within two minutes, every row written once
    done = _row(ImportJob, job.pk, "status", "attempts", "message")
    assert done["status"] == ImportJob.Status.DONE, (done, worker.log())
    assert time.monotonic() - back < BACK_WITHIN
    assert done["attempts"] == 2
    assert Goods.objects.count() == IMPORT_ROWS
    assert Goods.objects.filter(sku__startswith="RW-").values("sku").distinct().count() == (
        IMPORT_ROWS
    )
    assert not TaskOutbox.objects.exists()


# --- a large freeze ---------------------------------------------------------------------------

FREEZE_BALANCES = 10_000


def _stock_in_many_balances(count: int) -> Category:
    """``count`` goods of one category with 3 units each in one bin, received through the
    ledger in one posting."""
    category = Category.objects.create(name="Bulk")
    Goods.objects.bulk_create(
        Goods(sku=f"FZ-{n:06d}", name=f"Goods {n}", category=category) for n in range(count)
    )
    bin = BinFactory()
    ids = list(Goods.objects.filter(category=category).values_list("pk", flat=True))
    ledger.receive(
        kind=StockMovement.Kind.INBOUND_PURCHASE,
        lines=[ledger.Receipt(goods_id, bin.pk, 3) for goods_id in ids],
        document=ledger.Document(type="inbound", ref="IN-BULK"),
    )
    return category


def test_a_large_freeze_survives_a_killed_worker_and_freezes_once(make_user, start_worker):
    # given: a freeze of many balances, confirmed and queued as a job
    category = _stock_in_many_balances(FREEZE_BALANCES)
    job = freeze_jobs.freeze_job_create(
        scope=Scope(category_id=category.pk),
        reason=Reason.QC_HOLD,
        operator=make_user("manager"),
        token="real-worker-freeze",
        total=FREEZE_BALANCES,
    )

    # when: a real worker runs it; it is SIGKILLed once the progress has moved
    worker = start_worker()
    wait_for(
        lambda: _row(FreezeJob, job.pk, "done")["done"] > 0,
        timeout=UNDER_WAY_WITHIN,
        what="the freeze's progress",
        worker=worker,
    )
    worker.kill()

    # then: nothing frozen (one transaction), and the job still says it is freezing
    stuck = _row(FreezeJob, job.pk, "status", "done")
    assert stuck["status"] == FreezeJob.Status.RUNNING, worker.log()
    assert 0 < stuck["done"] < FREEZE_BALANCES
    assert not Freeze.objects.exists()
    assert sum(StockBalance.objects.values_list("frozen", flat=True)) == 0

    # when: a worker is back
    back = time.monotonic()
    worker = start_worker()
    wait_for(
        lambda: (
            _row(FreezeJob, job.pk, "status")["status"] != FreezeJob.Status.RUNNING
            and _row(FreezeJob, job.pk, "status")["status"] != FreezeJob.Status.QUEUED
        ),
        timeout=BACK_WITHIN,
        what="the freeze to end after the worker came back",
        worker=worker,
    )

    # then: done within two minutes, one freeze, every balance frozen once
    done = _row(FreezeJob, job.pk, "status", "attempts", "freeze_id", "done")
    assert done["status"] == FreezeJob.Status.DONE, (done, worker.log())
    assert time.monotonic() - back < BACK_WITHIN
    assert done["attempts"] == 2 and done["done"] == FREEZE_BALANCES
    assert Freeze.objects.count() == 1
    assert FreezeLine.objects.filter(freeze_id=done["freeze_id"]).count() == FREEZE_BALANCES
    assert sum(StockBalance.objects.values_list("frozen", flat=True)) == 3 * FREEZE_BALANCES
    freeze_movements = StockMovement.objects.filter(kind=StockMovement.Kind.FREEZE)
    assert freeze_movements.count() == FREEZE_BALANCES


# --- Redis stopped while a user posts stock ---------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A throwaway redis-server on a random local port, stopped and started by the test."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed")
        self.process = subprocess.Popen(  # noqa: S603
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=10, what="redis-server")

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path, monkeypatch):
    """A private redis-server; the test process's Celery app publishes to it."""
    server = RedisServer(tmp_path)
    server.start()
    monkeypatch.setitem(celery_app.conf, "broker_url", server.url)
    monkeypatch.setitem(celery_app.conf, "broker_write_url", None)
    monkeypatch.setenv("CELERY_BROKER_URL", server.url)
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    yield server
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    server.stop()


def test_with_redis_down_stock_posts_healthz_says_so_and_queued_work_runs_when_it_is_back(
    client, make_user, settings, own_redis, start_worker
):
    # given: a worker running on the private Redis, stock to move, a large scope to freeze
    from freezes.tests.conftest import receive

    settings.FREEZES_BACKGROUND_BALANCES = 3
    worker = start_worker()
    clerk = make_user("manager")
    client.force_login(clerk)
    source = BinFactory(code="A-01")
    target = BinFactory(code="A-02", zone=source.zone)
    category = Category.objects.create(name="Down")
    goods = [Goods.objects.create(sku=f"DN-{n}", name="x", category=category) for n in range(4)]
    for each in goods:
        receive(each, source, 5)

    worker.wait_ready()

    # when: Redis stops
    own_redis.stop()

    # then: /healthz says the broker is down, and keeps the web node in service
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["broker"]["ok"] is False
    assert health.json()["database"]["ok"] is True

    # when: a user posts stock (a bin transfer) and confirms a large freeze
    url = reverse("inventory:transfer-bin")
    token = client.get(url).context["form"].initial["token"]
    moved = client.post(
        url,
        {
            "warehouse": source.warehouse_id,
            "goods": "DN-0",
            "from_bin": "A-01",
            "to_bin": "A-02",
            "quantity": "2",
            "token": token,
        },
    )
    freeze_url = reverse("freezes:freeze-create")
    data = {"category": category.pk, "reason": Reason.QC_HOLD, "token": "down-1"}
    digest = client.post(freeze_url, {**data, "preview": "1"}).context["digest"]
    confirmed = client.post(freeze_url, {**data, "confirm": "1", "digest": digest})

    # then: both worked; the stock moved; the freeze job waits, its task kept in the outbox
    assert moved.status_code == 302
    assert StockBalance.objects.get(goods=goods[0], bin=target).on_hand == 2
    assert confirmed.status_code == 302
    job = FreezeJob.objects.get()
    assert job.status == FreezeJob.Status.QUEUED
    assert TaskOutbox.objects.filter(task=freeze_jobs.RUN_TASK, args=[job.pk]).exists()

    # when: Redis is back (empty: it kept nothing), with the same worker still running
    own_redis.start()
    back = time.monotonic()

    # then: the queued freeze runs, once. kombu's Redis transport can crash the worker while it
    # closes the lost connection (AttributeError on the connection's hostname, celery/kombu
    # #582 and #970); production runs workers under a supervisor, which starts it again, so the
    # test does the same for that one known crash and fails on any other exit.
    done = lambda: _row(FreezeJob, job.pk, "status")["status"] == FreezeJob.Status.DONE  # noqa: E731
    deadline = back + BACK_WITHIN
    while not done() and time.monotonic() < deadline:
        if worker.process.poll() is not None:
            log = worker.log()
            if "object has no attribute 'hostname'" not in log:
                pytest.fail(f"the worker exited while Redis was away:\n{log}")
            worker = start_worker()
        time.sleep(0.05)
    wait_for(done, timeout=1, what="the queued freeze to run once Redis was back", worker=worker)
    assert time.monotonic() - back < BACK_WITHIN
    assert Freeze.objects.count() == 1
    assert sum(StockBalance.objects.values_list("frozen", flat=True)) == 20  # both bins
    assert not TaskOutbox.objects.exists()
    assert client.get("/healthz").status_code == 200
