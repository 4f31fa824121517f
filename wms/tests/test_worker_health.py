"""Worker health: the heartbeat task stamps the time, staff are warned on the home page when it
is older than two minutes, /healthz reports it; and a real worker with beat keeps it fresh."""

import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from wms import health
from wms.models import Heartbeat
from wms.tasks import heartbeat_task

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_background_is_stopped_until_seen_and_again_after_two_minutes():
    # given nothing ever ran
    assert health.background_status().ok is False
    # when the task runs
    heartbeat_task()
    # then
    status = health.background_status()
    assert status.ok and status.age_seconds <= 1
    later = timezone.now() + datetime.timedelta(minutes=2, seconds=1)
    assert health.background_status(now=later).ok is False
    assert health.background_status(now=later - datetime.timedelta(seconds=2)).ok is True
    # and running twice keeps one row
    heartbeat_task()
    assert Heartbeat.objects.count() == 1


@pytest.mark.django_db
def test_healthz_reports_background_without_failing_the_probe(client):
    body = client.get("/healthz").json()
    assert body["background"] == {"ok": False, "last_seen": None, "age_seconds": None}
    heartbeat_task()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["background"]["ok"] is True


@pytest.mark.django_db
def test_home_warns_staff_when_background_jobs_stopped(client, make_user):
    client.force_login(make_user("staff"))
    health.heartbeat_record(now=timezone.now() - datetime.timedelta(minutes=5))
    body = client.get(reverse("home")).content.decode()
    assert "Background jobs are stopped." in body and "Last seen 5" in body
    with translation.override("zh-hans"):  # the language must not leak into later tests
        chinese = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "后台任务已停止" in chinese
    heartbeat_task()
    assert "Background jobs are stopped." not in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_every_page_warns_when_the_heartbeat_is_stale_and_reads_it_at_most_once(client, make_user):
    # given: a clerk, and a heartbeat last seen three minutes ago
    client.force_login(make_user("staff"))
    health.heartbeat_record(now=timezone.now() - datetime.timedelta(minutes=3))
    url = reverse("inventory:stock-query")

    # when: two pages in a row
    with CaptureQueriesContext(connection) as first:
        body = client.get(url).content.decode()
    with CaptureQueriesContext(connection) as second:
        client.get(url)

    # then: the banner says what is stopped and what waits; the heartbeat was read once
    assert "Background jobs are stopped." in body
    assert "automatic releases at their set time" in body
    reads = [q for q in first.captured_queries if "wms_heartbeat" in q["sql"]]
    assert len(reads) == 1
    assert not [q for q in second.captured_queries if "wms_heartbeat" in q["sql"]]


@pytest.mark.django_db
def test_no_banner_while_the_worker_runs_nor_for_anonymous_pages(client, make_user):
    # given
    health.heartbeat_record()

    # then: the login page has no banner; a clerk's page neither
    assert "Background jobs are stopped." not in client.get(reverse("login")).content.decode()
    client.force_login(make_user("staff"))
    page = client.get(reverse("inventory:stock-query")).content.decode()
    assert "Background jobs are stopped." not in page


def test_the_cached_status_is_kept_a_few_seconds(monkeypatch):
    # given: a status read now
    calls = []
    monkeypatch.setattr(
        health, "background_status", lambda: calls.append(1) or health.BackgroundStatus(True, None)
    )
    health.forget_background_status()

    # when
    health.background_status_cached()
    health.background_status_cached()
    health.forget_background_status()
    health.background_status_cached()

    # then: read once, then again once forgotten
    assert len(calls) == 2


def test_beat_sends_the_heartbeat_every_30_seconds(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["wms-heartbeat"]
    assert entry["task"] == heartbeat_task.name == "wms.heartbeat"
    assert entry["schedule"] == datetime.timedelta(seconds=30)
    assert 4 * entry["schedule"] <= health.STALE_AFTER


# One real worker at a time on the shared Redis (CI: --dist loadgroup).
@pytest.mark.xdist_group("real_worker")
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_heartbeat(tmp_path, settings):
    # given a real worker on this test database, listening on a queue of its own (so no other
    # test's worker on the same Redis takes the message, and it takes no one else's)
    db = connection.settings_dict
    host = db["HOST"] or "127.0.0.1"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "WMS_VAR_DIR": str(tmp_path),
    }
    queue = f"heartbeat-{os.getpid()}-{time.monotonic_ns()}"
    command = [sys.executable, "-m", "celery", "-A", "wms", "worker", "--pool=solo"]
    command += ["--loglevel=WARNING", "-Q", queue, "-n", f"{queue}@%h", "--without-mingle"]
    worker = subprocess.Popen(  # noqa: S603 (a fixed command line)
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        assert not health.background_status().ok
        # when beat's message arrives (sent here as beat would send it)
        from wms.celery import app

        eager = app.conf.task_always_eager
        app.conf.task_always_eager = False
        try:
            app.send_task("wms.heartbeat", queue=queue)
        finally:
            app.conf.task_always_eager = eager
        # then within 30 s the worker has stamped the heartbeat
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not health.background_status().ok:
            time.sleep(0.3)
        assert health.background_status().ok, "the real worker did not run the heartbeat"
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
