"""Celery tasks of the freezes app: thin wrappers around services, safe to run twice.

Periodic jobs take a PostgreSQL advisory lock (``wms.locks.advisory_lock``): an overlapping
tick or a second beat finds it taken and returns at once. Retries follow ``wms.celery.TASK_RETRY``. Schedules are in
``settings.CELERY_BEAT_SCHEDULE``.
"""

import logging

from celery import shared_task
from django.db import OperationalError

from freezes.models import FreezeRule
from freezes.services import jobs, release, rules
from wms.celery import TASK_RETRY
from wms.locks import advisory_lock

logger = logging.getLogger(__name__)


@shared_task(name="freezes.release_due", **TASK_RETRY)
def freezes_release_due_task() -> int:
    """Release freezes whose time has come and close emptied ones (every minute)."""
    with advisory_lock("freezes.release_due") as acquired:
        if not acquired:
            logger.info("freezes.release_due: another run holds the lock; skipped")
            return 0
        released = release.freezes_release_due()
    if released:
        logger.info("freezes.release_due: released %s freezes", released)
    return released


@shared_task(name="freezes.scan_near_expiry", **TASK_RETRY)
def near_expiry_scan_task() -> int:
    """Run every switched-on near-expiry rule (daily). Returns the freezes made."""
    with advisory_lock("freezes.scan_near_expiry") as acquired:
        if not acquired:
            logger.info("freezes.scan_near_expiry: another run holds the lock; skipped")
            return 0
        made = rules.near_expiry_scan_all()
    logger.info("freezes.scan_near_expiry: %s freezes made", len(made))
    return len(made)


@shared_task(name="freezes.run_rule", **TASK_RETRY)
def near_expiry_rule_run_task(rule_id: int) -> int | None:
    """Run one near-expiry rule now (the rules screen's "Run now"). Returns the freeze id."""
    rule = FreezeRule.objects.filter(pk=rule_id, is_active=True).first()
    if rule is None or rule.kind != FreezeRule.Kind.NEAR_EXPIRY:
        return None
    with advisory_lock("freezes.scan_near_expiry") as acquired:
        if not acquired:
            logger.info("freezes.run_rule %s: a scan is running; skipped", rule_id)
            return None
        freeze = rules.near_expiry_scan(rule=rule)
    return freeze.pk if freeze is not None else None


@shared_task(name=jobs.RUN_TASK, bind=True, **TASK_RETRY)
def freeze_job_run_task(self, job_id: int) -> int | None:
    """Make a large freeze in the background (idempotent: the job is taken by
    compare-and-set). Returns the freeze id. A database ``OperationalError`` is retried; once
    the retries are used up the job is marked failed, so its page stops waiting."""
    try:
        job = jobs.freeze_job_run(job_id=job_id)
    except OperationalError:
        if self.request.retries >= self.max_retries:
            logger.exception("freezes.run_freeze_job %s: out of retries", job_id)
            jobs.freeze_job_fail(job_id=job_id, message=jobs.unexpected_error_message())
        raise
    if job is None:
        return None
    logger.info("freezes.run_freeze_job %s: %s", job_id, job.status)
    return job.freeze_id
