"""Large manual freezes run by a Celery task with progress, so the confirming request returns
at once (the freeze of a large scope, past ``FREEZES_BACKGROUND_BALANCES`` balances).

The job runs ``freezing.freeze_create`` unchanged: one transaction, all or nothing. Its
progress is written through a second database connection (autocommit), so the screen can show
it while the freeze's own transaction is still open.
"""

from __future__ import annotations

import datetime
import logging
from functools import partial

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from kombu.exceptions import KombuError

from freezes.models import Freeze, FreezeJob
from freezes.scope import Scope
from freezes.services import freezing
from inventory.exceptions import AlreadyPosted, StockError

logger = logging.getLogger(__name__)

#: A freeze matching more balances than this runs as a job (settings FREEZES_BACKGROUND_BALANCES).
BACKGROUND_BALANCES = 2000
#: A running job not heard of for this long was lost with its worker (its transaction rolled
#: back); a redelivered task may run it again.
STALE_AFTER = datetime.timedelta(minutes=10)

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
    """Record a large freeze to be made in the background and queue its task after commit.
    Raises what ``freezing.check_request`` raises, and ``AlreadyPosted`` when ``token`` was
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
            transaction.on_commit(partial(_enqueue, job.pk))
    except IntegrityError as error:
        raise AlreadyPosted(_("This freeze was submitted already; nothing was changed.")) from error
    return job


def _enqueue(job_id: int) -> None:
    """Queue the job's task. When the broker cannot be reached the job is marked failed with a
    message saying so (nothing was frozen), instead of a 500 and a job waiting forever."""
    from freezes import tasks

    try:
        tasks.freeze_job_run_task.delay(job_id)
    except (KombuError, OSError):
        logger.exception("freeze job %s: could not queue its task", job_id)
        freeze_job_fail(
            job_id=job_id,
            message=_(
                "The background worker could not be reached, so the freeze was not started. "
                "Nothing was frozen: try again in a moment."
            ),
        )


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


class _Progress:
    """Writes a job's progress through a connection of its own (PostgreSQL; autocommit), so it
    is visible while the freeze's transaction is open. SQLite has one writer: nothing there."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.connection = None
        if connection.vendor == "postgresql":
            self.connection = connections.create_connection(DEFAULT_DB_ALIAS)

    def __call__(self, done: int) -> None:
        if self.connection is None:
            return
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {FreezeJob._meta.db_table} SET done = %s WHERE id = %s",
                [done, self.job_id],
            )

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def freeze_job_run(*, job_id: int, now: datetime.datetime | None = None) -> FreezeJob | None:
    """Make a queued job's freeze (``freezing.freeze_create``, idempotency key of the job) and
    record the outcome on the job: done with its freeze, or refused with the message. Takes
    the job by compare-and-set, so running the task twice makes one freeze. Returns the job, or
    None when there was nothing to run.

    A database ``OperationalError`` (connection lost, deadlock...) puts the job back in the
    queue and is raised again, for the task to retry; any other unexpected error is logged and
    the job marked FAILED with a plain message (nothing was frozen)."""
    now = now or timezone.now()
    taken = FreezeJob.objects.filter(pk=job_id, status=FreezeJob.Status.QUEUED).update(
        status=FreezeJob.Status.RUNNING, started_at=now
    ) or FreezeJob.objects.filter(
        pk=job_id, status=FreezeJob.Status.RUNNING, started_at__lt=now - STALE_AFTER
    ).update(started_at=now)
    if not taken:
        return None
    job = FreezeJob.objects.select_related("created_by").get(pk=job_id)
    key = f"freeze-job-{job.pk}"
    progress = _Progress(job.pk)
    try:
        freeze = freezing.freeze_create(
            **_arguments(job.params),
            operator=job.created_by,
            idempotency_key=key,
            progress=progress,
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
        FreezeJob.objects.filter(pk=job.pk).update(status=FreezeJob.Status.QUEUED, done=0)
        raise
    except Exception:
        # Nothing was written either, and running it again would fail the same way.
        logger.exception("freeze job %s: the freeze failed", job.pk)
        freeze_job_fail(job_id=job.pk, message=unexpected_error_message())
        return FreezeJob.objects.get(pk=job.pk)
    finally:
        progress.close()
    FreezeJob.objects.filter(pk=job.pk).update(
        status=FreezeJob.Status.DONE,
        freeze=freeze,
        done=job.total,
        finished_at=timezone.now(),
    )
    return FreezeJob.objects.get(pk=job.pk)
