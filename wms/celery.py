"""The Celery app, and the delivery and retry policy every task shares (set here once).

Configuration comes from Django settings (``CELERY_*``), and settings read the policy below from
this module, so there is one place to change it. Tasks live in each app's ``tasks.py``, thin
wrappers around services.

Delivery (why a task survives a killed worker):

* ``acks_late`` + ``task_reject_on_worker_lost``: a task is acknowledged when it ends, so a pool
  child that dies mid-task has its message requeued at once; a task therefore may run twice, and
  every task must be safe to (services take their rows by compare-and-set or an advisory lock).
* When the WHOLE worker dies (SIGKILL, OOM, a lost node) nobody is left to requeue: Redis gives
  an unacknowledged message back only after ``VISIBILITY_TIMEOUT``. Background jobs do not wait
  for that: a running job holds an advisory lock on its own database connection, which dies with
  the worker, and the sweeper (``wms.sweep_jobs``, every minute and at every worker start)
  requeues or fails jobs whose lock is free (``wms.jobs``).
* ``VISIBILITY_TIMEOUT`` must stay above the longest retry delay (``RETRY_BACKOFF_MAX``): a retry
  is the same message held by the worker until its ETA, and Redis would hand it to a second
  worker if the ETA were further than the timeout. Checked below at import.

Public names: ``app``, ``TASK_RETRY`` (spread into ``@shared_task(**TASK_RETRY)``),
``RETRY_BACKOFF_MAX``, ``MAX_RETRIES``, ``VISIBILITY_TIMEOUT``, ``ACKS_LATE``,
``REJECT_ON_WORKER_LOST``, ``PREFETCH_MULTIPLIER`` (read by ``wms.settings``).
"""

import logging
import os

from celery import Celery
from celery.signals import worker_ready
from django.db import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wms.settings")

#: Seconds Redis waits for the acknowledgement of a delivered message before giving it to
#: another worker (kombu's ``visibility_timeout``). Long: a 100,000-row import must never be
#: delivered twice while it runs. A dead worker's jobs come back through the sweeper instead.
VISIBILITY_TIMEOUT = 3600
#: Longest wait between two retries of a task, in seconds (exponential backoff with full jitter:
#: about 1, 2, 4 ... seconds, never more than this).
RETRY_BACKOFF_MAX = 300
#: Retries after the first run; then the task's own failure path runs (jobs are marked failed).
MAX_RETRIES = 5

if RETRY_BACKOFF_MAX * 2 >= VISIBILITY_TIMEOUT:
    raise RuntimeError("the retry backoff must stay well below the broker visibility timeout")

#: The retry policy of every task: database hiccups (connection lost, deadlock, serialization
#: failure: Django's ``OperationalError``) are retried with backoff and jitter; anything else is
#: a real failure the task reports. Use as ``@shared_task(name=..., **TASK_RETRY)``.
TASK_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": RETRY_BACKOFF_MAX,
    "retry_jitter": True,
    "max_retries": MAX_RETRIES,
}

#: Delivery settings (``wms.settings`` sets ``CELERY_TASK_ACKS_LATE`` and the others from these).
ACKS_LATE = True
REJECT_ON_WORKER_LOST = True
#: One message at a time per process: a long job never holds a second one hostage.
PREFETCH_MULTIPLIER = 1

app = Celery("wms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _recover_on_worker_start(sender, **kwargs) -> None:
    """A worker coming back sweeps dead workers' jobs and sends stranded tasks at once, instead of
    waiting for the next beat tick."""
    for name in ("wms.sweep_jobs", "wms.drain_outbox"):
        try:
            sender.app.send_task(name)
        except Exception:  # the broker went away again: the beat tick will do it
            logging.getLogger(__name__).warning("could not queue %s at worker start", name)
