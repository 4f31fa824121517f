"""Celery tasks of the allocation app: thin, safe to run twice. Schedules live in
``settings.CELERY_BEAT_SCHEDULE``."""

import logging

from celery import shared_task
from django.utils import timezone

from allocation.models import GrabWindow
from allocation.services import close, windows
from wms.celery import TASK_RETRY
from wms.locks import advisory_lock

logger = logging.getLogger(__name__)


@shared_task(name="allocation.windows_due", **TASK_RETRY)
def windows_due_task() -> dict:
    """Open scheduled windows whose time has come and close open windows past their closing
    time (every minute), under an advisory lock so a second beat does nothing."""
    opened = closed = 0
    with advisory_lock("allocation.windows_due") as acquired:
        if not acquired:
            logger.info("allocation.windows_due: another run holds the lock; skipped")
            return {"opened": 0, "closed": 0}
        now = timezone.now()
        for pk in GrabWindow.objects.filter(
            status=GrabWindow.Status.SCHEDULED, opens_at__lte=now
        ).values_list("pk", flat=True):
            windows.window_open(window_id=pk, strict=False, due_by=now)
            opened += 1
        for pk in GrabWindow.objects.filter(
            status=GrabWindow.Status.OPEN, closes_at__lte=now
        ).values_list("pk", flat=True):
            close.window_close(window_id=pk, due_by=now)
            closed += 1
    if opened or closed:
        logger.info("allocation.windows_due: opened %s, closed %s", opened, closed)
    return {"opened": opened, "closed": closed}
