"""Large freezes run as a Celery task with progress, so the confirming request returns at once."""

import datetime

import pytest
from django.urls import reverse

from freezes.models import Freeze, FreezeJob, Reason
from freezes.scope import Scope
from freezes.services import jobs
from freezes.tests.conftest import receive, ship
from inventory.models import StockBalance
from inventory.tests.factories import GoodsFactory

pytestmark = pytest.mark.django_db


def _stock(world, count=4):
    for _n in range(count):
        receive(GoodsFactory(category=world.snacks), world.bin, 5)


def test_a_freeze_of_many_balances_runs_as_a_job_and_ends_on_its_freeze(
    client, world, make_user, settings, django_capture_on_commit_callbacks
):
    # given
    settings.FREEZES_BACKGROUND_BALANCES = 3
    _stock(world)
    client.force_login(make_user("staff"))
    url = reverse("freezes:freeze-create")
    data = {"category": world.food.pk, "reason": Reason.QC_HOLD, "token": "big-1"}
    digest = client.post(url, {**data, "preview": "1"}).context["digest"]

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**data, "confirm": "1", "digest": digest})

    # then
    job = FreezeJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("freezes:freeze-job", args=[job.pk])
    assert (job.status, job.total, job.done) == (FreezeJob.Status.DONE, 4, 4)
    assert job.freeze.lines.count() == 4
    assert sum(StockBalance.objects.values_list("frozen", flat=True)) == 20
    page = client.get(response["Location"])
    assert job.freeze.number in page.content.decode()
    polled = client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert polled["HX-Redirect"] == reverse("freezes:freeze-detail", args=[job.freeze_id])


def test_a_job_refused_when_it_runs_records_the_message_and_freezes_nothing(
    world, make_user, django_capture_on_commit_callbacks
):
    # given: the stock is shipped between the confirmation and the task
    clerk = make_user("staff")
    balance = receive(world.snack, world.bin, 5)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        job = jobs.freeze_job_create(
            scope=Scope(goods_id=world.snack.pk),
            reason=Reason.QC_HOLD,
            quantity=5,
            operator=clerk,
            token="t-1",
            total=1,
        )
    ship(world.snack, world.warehouse, 2, balance=balance)

    # when
    for callback in queued:
        callback()

    # then
    job.refresh_from_db()
    assert job.status == FreezeJob.Status.FAILED
    assert "short by 2" in job.message
    assert not Freeze.objects.exists()


def test_running_a_job_twice_makes_one_freeze(world, make_user):
    # given
    clerk = make_user("staff")
    receive(world.snack, world.bin, 5)
    job = jobs.freeze_job_create(
        scope=Scope(goods_id=world.snack.pk),
        reason=Reason.QC_HOLD,
        operator=clerk,
        token="t-2",
        total=1,
    )

    # when
    first = jobs.freeze_job_run(job_id=job.pk)
    second = jobs.freeze_job_run(job_id=job.pk)

    # then
    assert first.status == FreezeJob.Status.DONE and second is None
    assert Freeze.objects.count() == 1


def test_a_double_submit_of_a_large_freeze_makes_one_job(world, make_user):
    # given
    from inventory.exceptions import AlreadyPosted

    clerk = make_user("staff")
    receive(world.snack, world.bin, 5)
    arguments = {
        "scope": Scope(goods_id=world.snack.pk),
        "reason": Reason.QC_HOLD,
        "operator": clerk,
        "token": "t-3",
        "total": 1,
    }
    jobs.freeze_job_create(**arguments)

    # when / then
    with pytest.raises(AlreadyPosted):
        jobs.freeze_job_create(**arguments)
    assert FreezeJob.objects.count() == 1


def _job(world, clerk, token):
    receive(world.snack, world.bin, 5)
    return jobs.freeze_job_create(
        scope=Scope(goods_id=world.snack.pk),
        reason=Reason.QC_HOLD,
        operator=clerk,
        token=token,
        total=1,
    )


def test_a_job_whose_freeze_fails_unexpectedly_ends_failed_with_a_plain_message(
    world, make_user, django_capture_on_commit_callbacks
):
    # given
    from unittest import mock

    clerk = make_user("staff")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        job = _job(world, clerk, "t-boom")

    # when
    with mock.patch.object(jobs.freezing, "freeze_create", side_effect=RuntimeError("boom")):
        for callback in queued:
            callback()

    # then
    job.refresh_from_db()
    assert job.status == FreezeJob.Status.FAILED and not job.is_running
    assert job.message == jobs.unexpected_error_message()
    assert "boom" not in job.message
    assert job.finished_at is not None
    assert not Freeze.objects.exists()
    assert StockBalance.objects.get().frozen == 0


def test_a_job_hitting_a_database_error_is_queued_again_for_the_retry(world, make_user):
    # given
    from unittest import mock

    from django.db import OperationalError

    job = _job(world, make_user("staff"), "t-db")

    # when
    with (
        mock.patch.object(jobs.freezing, "freeze_create", side_effect=OperationalError("gone")),
        pytest.raises(OperationalError),
    ):
        jobs.freeze_job_run(job_id=job.pk)

    # then
    job.refresh_from_db()
    assert (job.status, job.done) == (FreezeJob.Status.QUEUED, 0)
    assert jobs.freeze_job_run(job_id=job.pk).status == FreezeJob.Status.DONE


def test_a_job_out_of_database_retries_ends_failed(world, make_user):
    # given
    from unittest import mock

    from django.db import OperationalError

    from freezes.tasks import freeze_job_run_task

    job = _job(world, make_user("staff"), "t-retries")

    # when: the last retry fails too
    with (
        mock.patch.object(jobs.freezing, "freeze_create", side_effect=OperationalError("gone")),
        pytest.raises(OperationalError),
    ):
        freeze_job_run_task.apply(args=[job.pk], retries=freeze_job_run_task.max_retries)

    # then
    job.refresh_from_db()
    assert job.status == FreezeJob.Status.FAILED
    assert job.message == jobs.unexpected_error_message()


def test_a_large_freeze_with_the_broker_unreachable_waits_and_runs_when_it_is_back(
    client, world, make_user, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # given
    from unittest import mock

    from kombu.exceptions import OperationalError

    from freezes.tasks import freeze_job_run_task
    from wms.models import TaskOutbox
    from wms.outbox import outbox_drain

    settings.FREEZES_BACKGROUND_BALANCES = 3
    _stock(world)
    client.force_login(make_user("staff"))
    url = reverse("freezes:freeze-create")
    data = {"category": world.food.pk, "reason": Reason.QC_HOLD, "token": "big-down"}
    digest = client.post(url, {**data, "preview": "1"}).context["digest"]

    # when: the broker refuses the message
    from wms.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", False)
    with (
        mock.patch.object(
            freeze_job_run_task, "apply_async", side_effect=OperationalError("Connection refused")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(url, {**data, "confirm": "1", "digest": digest})

    # then: the job waits (nothing lost, no error page); the task is kept in the outbox
    job = FreezeJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("freezes:freeze-job", args=[job.pk])
    assert job.status == FreezeJob.Status.QUEUED and job.is_running
    assert not Freeze.objects.exists()
    kept = TaskOutbox.objects.get()
    assert (kept.task, kept.args, kept.attempts) == (freeze_job_run_task.name, [job.pk], 1)
    assert "Connection refused" in kept.last_error
    assert "hx-trigger" in client.get(response["Location"]).content.decode()

    # when: the broker is back and the drain runs
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    assert outbox_drain(older_than=datetime.timedelta(0)) == 1

    # then
    job.refresh_from_db()
    assert job.status == FreezeJob.Status.DONE
    assert job.freeze.lines.count() == 4
    assert not TaskOutbox.objects.exists()


def _left_by_a_dead_worker(job, *, attempts=1):
    """What a SIGKILLed worker leaves: the job RUNNING, taken, its claim free."""
    from django.utils import timezone

    FreezeJob.objects.filter(pk=job.pk).update(
        status=FreezeJob.Status.RUNNING, attempts=attempts, heartbeat_at=timezone.now(), done=1
    )


def test_the_sweeper_requeues_a_job_left_by_a_dead_worker_and_it_freezes_once(
    world, make_user, django_capture_on_commit_callbacks
):
    # given
    from wms.jobs import jobs_sweep

    with django_capture_on_commit_callbacks(execute=False):
        job = _job(world, make_user("staff"), "t-dead")
    _left_by_a_dead_worker(job)

    # when: the sweeper runs (its requeued task runs eagerly after commit)
    with django_capture_on_commit_callbacks(execute=True):
        recovered = jobs_sweep()

    # then
    job.refresh_from_db()
    assert recovered == 1
    assert (job.status, job.attempts) == (FreezeJob.Status.DONE, 2)
    assert Freeze.objects.count() == 1
    assert StockBalance.objects.get().frozen == 5
    assert jobs_sweep() == 0


@pytest.mark.postgres
def test_the_sweeper_leaves_a_job_whose_worker_is_alive(world, make_user):
    # given: another worker holds the job's claim (a slow job, not a dead one)
    from django.db import connections

    from wms.jobs import job_lock_name, jobs_sweep
    from wms.locks import advisory_key

    job = _job(world, make_user("staff"), "t-alive")
    _left_by_a_dead_worker(job)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            key = advisory_key(job_lock_name(jobs.JOB_KIND, job.pk))
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])

        # when
        recovered = jobs_sweep()
    finally:
        other.close()

    # then
    job.refresh_from_db()
    assert recovered == 0 and job.status == FreezeJob.Status.RUNNING


def test_the_sweeper_gives_up_on_a_job_that_killed_its_worker_every_time(
    world, make_user, django_capture_on_commit_callbacks
):
    # given
    from wms.jobs import MAX_ATTEMPTS, jobs_sweep
    from wms.models import TaskOutbox

    with django_capture_on_commit_callbacks(execute=False):
        job = _job(world, make_user("staff"), "t-oom")
    TaskOutbox.objects.all().delete()
    _left_by_a_dead_worker(job, attempts=MAX_ATTEMPTS)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        jobs_sweep()

    # then: failed, saying so; nothing frozen and nothing queued
    job.refresh_from_db()
    assert job.status == FreezeJob.Status.FAILED and not job.is_running
    assert f"stopped {MAX_ATTEMPTS} times" in job.message
    assert "Nothing was frozen" in job.message
    assert not Freeze.objects.exists() and not TaskOutbox.objects.exists()


def test_the_sweeper_ends_a_job_on_the_freeze_its_worker_made_before_dying(
    world, make_user, django_capture_on_commit_callbacks
):
    # given: the freeze committed, then the worker died before marking the job done
    from freezes.services import freezing
    from wms.jobs import jobs_sweep

    clerk = make_user("staff")
    with django_capture_on_commit_callbacks(execute=False):
        job = _job(world, clerk, "t-late")
    made = freezing.freeze_create(
        scope=Scope(goods_id=world.snack.pk),
        reason=Reason.QC_HOLD,
        operator=clerk,
        idempotency_key=jobs.freeze_job_key(job.pk),
    )
    _left_by_a_dead_worker(job)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        jobs_sweep()

    # then
    job.refresh_from_db()
    assert (job.status, job.freeze_id) == (FreezeJob.Status.DONE, made.pk)
    assert Freeze.objects.count() == 1


def test_the_job_page_says_a_job_left_by_a_dead_worker_is_run_again(
    client, world, make_user, django_capture_on_commit_callbacks
):
    # given: the sweeper requeued a job whose worker died (its task not run yet)
    from wms.jobs import jobs_sweep

    clerk = make_user("staff")
    with django_capture_on_commit_callbacks(execute=False):
        job = _job(world, clerk, "t-page")
    _left_by_a_dead_worker(job)
    with django_capture_on_commit_callbacks(execute=False):
        jobs_sweep()
    client.force_login(clerk)

    # when
    page = client.get(reverse("freezes:freeze-job", args=[job.pk])).content.decode()

    # then
    assert "being run again (attempt 2 of 3)" in page
    assert 'hx-trigger="every 1s"' in page
