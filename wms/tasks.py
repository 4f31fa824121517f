"""Celery tasks of the shared base: the job sweeper and the outbox drain (thin, periodic, each
under an advisory lock so an overlapping tick or a second beat does nothing; both also run when a
worker starts, ``wms.celery``, so a worker coming back recovers at once), and the heartbeat of
background work (``wms.health``)."""

import logging

from celery import shared_task

from wms import health, jobs, outbox
from wms.celery import TASK_RETRY
from wms.locks import advisory_lock

logger = logging.getLogger(__name__)


@shared_task(name="wms.sweep_jobs", **TASK_RETRY)
def jobs_sweep_task() -> int:
    """Requeue or fail the background jobs of a dead worker (every minute)."""
    with advisory_lock("wms.sweep_jobs") as acquired:
        if not acquired:
            logger.info("wms.sweep_jobs: another run holds the lock; skipped")
            return 0
        return jobs.jobs_sweep()


@shared_task(name="wms.drain_outbox", **TASK_RETRY)
def outbox_drain_task() -> int:
    """Send the tasks queued while the broker was down (every minute)."""
    with advisory_lock("wms.drain_outbox") as acquired:
        if not acquired:
            logger.info("wms.drain_outbox: another run holds the lock; skipped")
            return 0
        return outbox.outbox_drain()


@shared_task(name="wms.heartbeat", ignore_result=True)
def heartbeat_task() -> None:
    """Stamp the heartbeat of background work (``wms.health``); sent by beat every 30 seconds,
    run by any worker. Safe to run twice (it only moves a timestamp)."""
    health.heartbeat_record()
