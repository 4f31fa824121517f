"""Large freezes run as a Celery task with progress, so the confirming request returns at once."""

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


def test_a_large_freeze_with_the_broker_unreachable_shows_a_failed_job_not_an_error(
    client, world, make_user, settings, django_capture_on_commit_callbacks
):
    # given
    from unittest import mock

    from kombu.exceptions import OperationalError

    from freezes.tasks import freeze_job_run_task

    settings.FREEZES_BACKGROUND_BALANCES = 3
    _stock(world)
    client.force_login(make_user("staff"))
    url = reverse("freezes:freeze-create")
    data = {"category": world.food.pk, "reason": Reason.QC_HOLD, "token": "big-down"}
    digest = client.post(url, {**data, "preview": "1"}).context["digest"]

    # when
    with (
        mock.patch.object(
            freeze_job_run_task, "delay", side_effect=OperationalError("Connection refused")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(url, {**data, "confirm": "1", "digest": digest})

    # then
    job = FreezeJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("freezes:freeze-job", args=[job.pk])
    assert job.status == FreezeJob.Status.FAILED and not job.is_running
    assert "could not be reached" in job.message
    assert not Freeze.objects.exists()
    page = client.get(response["Location"])
    assert job.message in page.content.decode()
    assert "hx-trigger" not in page.content.decode()
