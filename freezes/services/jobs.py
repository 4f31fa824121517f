"""Large manual freezes run by a Celery task with progress, so the confirming request returns
at once (the freeze of a large scope, past ``FREEZES_BACKGROUND_BALANCES`` balances).

The job runs ``freezing.freeze_create`` unchanged: one transaction, all or nothing. Its
progress is written through a second database connection (``wms.jobs.JobProgress``), so the
screen can show it while the freeze's own transaction is still open. The worker running it holds
the job's claim (``wms.jobs.job_claim``); when that worker dies the sweeper requeues the job
(``freeze_job_recover``), and the freeze is made once (its idempotency key is the job's).

This module never imports ``freezes.tasks``: it queues the task by name after commit
(``wms.outbox.enqueue_on_commit``), so a broker outage delays the job instead of failing it.
"""

from __future__ import annotations

import datetime
import logging
from functools import partial

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from freezes.models import Freeze, FreezeJob
from freezes.scope import Scope
from freezes.services import freezing
from inventory.exceptions import AlreadyPosted, StockError
from wms.jobs import JobKind, JobProgress, claim_values, job_claim
from wms.outbox import enqueue_on_commit

logger = logging.getLogger(__name__)

#: A freeze matching more balances than this runs as a job (settings FREEZES_BACKGROUND_BALANCES).
BACKGROUND_BALANCES = 2000
#: The job kind watched by the sweeper (``wms.jobs``), and the task that runs a job.
JOB_KIND = "freezes.freeze_job"
RUN_TASK = "freezes.run_freeze_job"

DATE_FIELDS = ("inbound_from", "inbound_to", "produced_from", "produced_to")


def background_threshold() -> int:
    return int(getattr(settings, "FREEZES_BACKGROUND_BALANCES", BACKGROUND_BALANCES))


def _params(
    *,
    scope: Scope,
    reason: str,
    note: str,
    quantity: int | None,
    is_sticky: bool,
    release_on_qc_pass: bool,
    release_at: datetime.datetime | None,
) -> dict:
    scope_fields = {
        name: value.isoformat() if name in DATE_FIELDS and value is not None else value
        for name, value in scope.as_model_fields().items()
    }
    return {
        "scope": scope_fields,
        "reason": reason,
        "note": note,
        "quantity": quantity,
        "is_sticky": is_sticky,
        "release_on_qc_pass": release_on_qc_pass,
        "release_at": release_at.isoformat() if release_at is not None else None,
    }


def _arguments(params: dict) -> dict:
    scope = {
        name: parse_date(value) if name in DATE_FIELDS and value else value
        for name, value in params["scope"].items()
    }
    release_at = params.get("release_at")
    return {
        "scope": Scope(**scope),
        "reason": params["reason"],
        "note": params.get("note", ""),
        "quantity": params.get("quantity"),
        "is_sticky": bool(params.get("is_sticky")),
        "release_on_qc_pass": bool(params.get("release_on_qc_pass")),
        "release_at": parse_datetime(release_at) if release_at else None,
    }


def freeze_job_create(
    *,
    scope: Scope,
    reason: str,
    operator,
    token: str,
    total: int,
    note: str = "",
    quantity: int | None = None,
    is_sticky: bool = False,
    release_on_qc_pass: bool = False,
    release_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> FreezeJob:
    """Record a large freeze to be made in the background and queue its task (``RUN_TASK``)
    after commit, through the outbox (a broker outage delays it). Raises what ``freezing.check_request`` raises, and ``AlreadyPosted`` when ``token`` was
    used already (a double submit)."""
    now = now or timezone.now()
    note = freezing.check_request(
        scope=scope, reason=reason, note=note, quantity=quantity, release_at=release_at, now=now
    )
    try:
        with transaction.atomic():
            job = FreezeJob.objects.create(
                params=_params(
                    scope=scope,
                    reason=reason,
                    note=note,
                    quantity=quantity,
                    is_sticky=is_sticky,
                    release_on_qc_pass=release_on_qc_pass,
                    release_at=release_at,
                ),
                total=total,
                token=token,
                created_by=operator,
                created_at=now,
            )
            enqueue_on_commit(RUN_TASK, job.pk)
    except IntegrityError as error:
        raise AlreadyPosted(_("This freeze was submitted already; nothing was changed.")) from error
    return job


def freeze_job_fail(*, job_id: int, message: str) -> bool:
    """Mark a waiting or running job FAILED with ``message`` (nothing was frozen: the freeze's
    transaction rolled back, or never started). Returns whether the job changed."""
    return bool(
        FreezeJob.objects.filter(
            pk=job_id, status__in=[FreezeJob.Status.QUEUED, FreezeJob.Status.RUNNING]
        ).update(status=FreezeJob.Status.FAILED, message=message, finished_at=timezone.now())
    )


def unexpected_error_message() -> str:
    return _(
        "The freeze could not be made because of an unexpected error. Nothing was frozen: "
        "try again, and tell your administrator if it happens again."
    )


def freeze_job_run(*, job_id: int, now: datetime.datetime | None = None) -> FreezeJob | None:
    """Make a queued job's freeze (``freezing.freeze_create``, idempotency key of the job) and
    record the outcome on the job: done with its freeze, or refused with the message. Runs under
    the job's claim (``wms.jobs.job_claim``) and takes the job by compare-and-set from QUEUED, or
    from RUNNING (its claim was free, so its worker died), so running the task twice makes one
    freeze. Returns the job, or None when there was nothing to run (or another worker runs it).

    A database ``OperationalError`` (connection lost, deadlock...) puts the job back in the
    queue and is raised again, for the task to retry; any other unexpected error is logged and
    the job marked FAILED with a plain message (nothing was frozen)."""
    now = now or timezone.now()
    with job_claim(JOB_KIND, job_id) as claimed:
        if not claimed:
            logger.info("freeze job %s is being run by another worker", job_id)
            return None
        taken = FreezeJob.objects.filter(
            pk=job_id, status__in=[FreezeJob.Status.QUEUED, FreezeJob.Status.RUNNING]
        ).update(status=FreezeJob.Status.RUNNING, started_at=now, **claim_values())
        if not taken:
            return None
        return _run(job_id)


def _run(job_id: int) -> FreezeJob:
    job = FreezeJob.objects.select_related("created_by").get(pk=job_id)
    key = freeze_job_key(job.pk)
    with JobProgress(FreezeJob, job.pk) as progress:
        try:
            freeze = freezing.freeze_create(
                **_arguments(job.params),
                operator=job.created_by,
                idempotency_key=key,
                progress=partial(_progress, progress),
            )
        except AlreadyPosted:
            freeze = Freeze.objects.get(idempotency_key=key)
        except StockError as error:
            FreezeJob.objects.filter(pk=job.pk).update(
                status=FreezeJob.Status.FAILED, message=str(error), finished_at=timezone.now()
            )
            return FreezeJob.objects.get(pk=job.pk)
        except OperationalError:
            # Nothing was written (the freeze's transaction rolled back): queue it for the retry.
            FreezeJob.objects.filter(pk=job.pk).update(
                status=FreezeJob.Status.QUEUED, done=0, heartbeat_at=None
            )
            raise
        except Exception:
            # Nothing was written either, and running it again would fail the same way.
            logger.exception("freeze job %s: the freeze failed", job.pk)
            freeze_job_fail(job_id=job.pk, message=unexpected_error_message())
            return FreezeJob.objects.get(pk=job.pk)
    FreezeJob.objects.filter(pk=job.pk).update(
        status=FreezeJob.Status.DONE,
        freeze=freeze,
        done=job.total,
        finished_at=timezone.now(),
    )
    return FreezeJob.objects.get(pk=job.pk)


def _progress(progress: JobProgress, done: int) -> None:
    progress.write(done=done)


def freeze_job_key(job_id: int) -> str:
    """The idempotency key of the freeze a job makes (one freeze per job, however often run)."""
    return f"freeze-job-{job_id}"


def freeze_job_recover(*, job: FreezeJob, give_up: bool) -> None:
    """The sweeper's call for a RUNNING job whose worker died (``wms.jobs.jobs_sweep``; the job
    row is locked). When the freeze was made before the worker died the job ends DONE on it;
    otherwise nothing was frozen (its transaction rolled back) and the job goes back to the queue,
    or, with ``give_up``, ends FAILED with a message saying so."""
    freeze = Freeze.objects.filter(idempotency_key=freeze_job_key(job.pk)).first()
    if freeze is not None:
        FreezeJob.objects.filter(pk=job.pk).update(
            status=FreezeJob.Status.DONE, freeze=freeze, done=job.total, finished_at=timezone.now()
        )
        return
    if give_up:
        freeze_job_fail(
            job_id=job.pk,
            message=_(
                "The background worker stopped %(count)s times while making this freeze, so it "
                "was given up. Nothing was frozen: try a smaller scope, or tell your "
                "administrator."
            )
            % {"count": job.attempts},
        )
        return
    FreezeJob.objects.filter(pk=job.pk).update(
        status=FreezeJob.Status.QUEUED, done=0, heartbeat_at=None
    )
    enqueue_on_commit(RUN_TASK, job.pk)


def job_kind() -> JobKind:
    """What the job sweeper needs to know of freeze jobs (registered in ``FreezesConfig.ready``)."""
    return JobKind(
        name=JOB_KIND,
        model=FreezeJob,
        running=(FreezeJob.Status.RUNNING,),
        recover=freeze_job_recover,
    )
