"""Queue Celery tasks after commit, without losing them when the broker is down.

Services never import tasks (no services <-> tasks import cycle): they name the task.

* ``enqueue_on_commit(task_name, *args)``: writes a ``TaskOutbox`` row in the caller's
  transaction and, once it commits, sends the task and deletes the row. When the broker cannot
  be reached the row stays and the request carries on: nothing fails for the user, and the task
  is sent later. Arguments must be JSON (ids, short strings).
* ``outbox_drain(*, older_than=DRAIN_AFTER, limit=500) -> int``: sends rows left behind (the
  broker was down, or the process died between its commit and the send), oldest first; stops
  at the first send that fails (the broker is still down). Run by ``wms.drain_outbox`` every
  minute and when a worker starts. Returns the number sent.
* ``task_by_name(name)``: the registered Celery task of that name (``KeyError`` if none).

Why an outbox rather than a retrying send: a send retried inside the request would hold the
user's page for as long as the broker is away and is lost anyway when that process ends; the
row is durable, commits with the business data, and costs one insert and one delete.

A task may be sent twice (a crash between the send and the delete, or a drain racing a late
send: rows are claimed ``FOR UPDATE SKIP LOCKED`` to make that rare), never lost; tasks are safe
to run twice (STYLE.md, Celery tasks). In tests, with ``CELERY_TASK_ALWAYS_EAGER``, the row is
deleted and the task runs inline after commit, and its exceptions propagate as before.
"""

from __future__ import annotations

import datetime
import logging
from functools import partial

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from wms.models import TaskOutbox

logger = logging.getLogger(__name__)

#: A row older than this is taken to be stranded (its own after-commit send failed or never ran).
#: Short is safe: a send and a drain never both send a row (the row lock, SKIP LOCKED); the wait
#: only keeps the drain from doing the work of sends about to happen.
DRAIN_AFTER = datetime.timedelta(seconds=5)
#: How hard one send tries before the row is left for the drain (seconds overall, about).
_PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


def task_by_name(name: str):
    """The Celery task registered as ``name``; imports the apps' task modules first if needed."""
    from wms.celery import app

    try:
        return app.tasks[name]
    except KeyError:
        app.loader.import_default_modules()
        return app.tasks[name]


def enqueue_on_commit(task_name: str, *args) -> TaskOutbox:
    """Queue ``task_name(*args)`` to run once the current transaction commits (at once when there
    is none). Writes one ``TaskOutbox`` row now; the send happens after commit and never raises
    (a broker outage leaves the row for ``outbox_drain``). Raises ``KeyError`` for an unknown
    task name, so a typo fails loudly in the request and in tests."""
    task_by_name(task_name)
    row = TaskOutbox.objects.create(task=task_name, args=list(args))
    transaction.on_commit(partial(_send_one, row.pk), robust=not _eager())
    return row


def _eager() -> bool:
    from wms.celery import app

    return bool(app.conf.task_always_eager)


def _send_one(row_id: int) -> bool:
    """Send one outbox row and delete it; returns whether it was sent. Holds the row's lock
    (``SKIP LOCKED``: a drain running meanwhile passes it by) during the send."""
    if _eager():
        row = TaskOutbox.objects.filter(pk=row_id).first()
        if row is None:
            return False
        TaskOutbox.objects.filter(pk=row_id).delete()
        task_by_name(row.task).apply_async(args=row.args)
        return True
    with transaction.atomic():
        row = TaskOutbox.objects.select_for_update(skip_locked=True).filter(pk=row_id).first()
        if row is None:
            return False  # sent already, or being sent by a drain
        try:
            task_by_name(row.task).apply_async(
                args=row.args, retry=True, retry_policy=_PUBLISH_RETRY
            )
        except Exception as error:  # kombu and redis raise their own errors for "unreachable"
            logger.warning(
                "outbox: could not send %s %s; kept for later",
                row.task,
                row.args,
                extra={"error": str(error)},
            )
            TaskOutbox.objects.filter(pk=row_id).update(
                attempts=F("attempts") + 1, last_error=str(error)[:500]
            )
            return False
        TaskOutbox.objects.filter(pk=row_id).delete()
    return True


def outbox_drain(
    *, older_than: datetime.timedelta = DRAIN_AFTER, limit: int = 500, now=None
) -> int:
    """Send the stranded rows (created before ``now - older_than``), oldest first, at most
    ``limit``; stops at the first failed send. Returns how many were sent."""
    now = now or timezone.now()
    ids = list(
        TaskOutbox.objects.filter(created_at__lte=now - older_than)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for row_id in ids:
        if _send_one(row_id):
            sent += 1
        elif TaskOutbox.objects.filter(pk=row_id).exists():
            break  # the send failed: the broker is still down
    if sent:
        logger.info("outbox: sent %s stranded tasks", sent)
    return sent
