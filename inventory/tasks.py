"""Celery tasks of the inventory app: thin wrappers that load by id and call one service.
Retries follow ``wms.celery.TASK_RETRY``; the services queue these by name (``wms.outbox``)."""

import logging

from celery import shared_task
from django.db import OperationalError

from inventory.imports import jobs, retention
from inventory.services import scanning
from wms.celery import TASK_RETRY
from wms.locks import advisory_lock

logger = logging.getLogger(__name__)


@shared_task(name=jobs.CHECK_TASK, **TASK_RETRY)
def import_job_check_task(job_id: int) -> None:
    """Dry-run an uploaded sheet and store its preview (idempotent)."""
    try:
        jobs.import_job_check(job_id=job_id)
    except OperationalError:
        raise
    except Exception as error:
        logger.exception("import job %s: the check failed", job_id)
        jobs.import_job_fail(job_id=job_id, message=str(error))


@shared_task(name=jobs.COMMIT_TASK, **TASK_RETRY)
def import_job_commit_task(job_id: int) -> None:
    """Commit a checked sheet all-or-nothing (idempotent: a finished job is left alone)."""
    try:
        jobs.import_job_run_commit(job_id=job_id)
    except OperationalError:
        raise
    except Exception as error:
        logger.exception("import job %s: the commit failed", job_id)
        jobs.import_job_fail(job_id=job_id, message=str(error))


@shared_task(name="inventory.remove_expired_files", **TASK_RETRY)
def expired_files_remove_task() -> dict:
    """Remove uploaded sheets and export files past WMS_FILE_RETENTION_DAYS, and forget scan
    sessions abandoned for a week (daily)."""
    with advisory_lock("inventory.remove_expired_files") as acquired:
        if not acquired:
            logger.info("inventory.remove_expired_files: another run holds the lock; skipped")
            return {}
        removed = retention.expired_files_remove()
        sessions = scanning.scan_sessions_forget_stale()
    return {
        "uploads": removed.uploads,
        "exports": removed.exports,
        "orphans": removed.orphans,
        "scan_sessions": sessions,
    }
