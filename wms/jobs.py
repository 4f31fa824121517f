"""Background jobs: progress a polling page can see, liveness, and the sweeper that brings back
the jobs of a dead worker. Shared by every app's job models (freeze jobs, import jobs...).

A job model has ``status``, ``attempts`` (how many times a worker took it) and ``heartbeat_at``
(set when a worker takes it and on every progress write; NULL while it waits for a worker).

Progress:

* ``JobProgress(model, pk)``: ``write(**columns)`` updates the job row where the polling page
  sees it at once, while the job's own transaction is still open: outside a transaction on the
  main connection, inside one through a second connection (PostgreSQL, autocommit; SQLite has one
  writer, so there the progress shows when the run ends). Also stamps ``heartbeat_at``. A
  context manager; ``close()`` drops the second connection.

Liveness (why a job never shows "Importing 24%" forever):

* ``job_claim(kind, job_id)``: context manager; a worker runs a job only inside it. It holds the
  job's session advisory lock (``wms.locks``) on the worker's own database connection and yields
  whether it got it (False: another delivery runs the job now; do nothing). The lock dies with
  that connection, so when the whole worker is SIGKILLed PostgreSQL frees it within moments (as
  soon as the server sees the connection closed), with no clock or threshold involved.
  Inside, the runner moves the job to its running status by compare-and-set, with
  ``attempts + 1`` and ``heartbeat_at`` (``claim_values()`` gives those two).
* ``JobKind(name, model, running, recover)`` + ``register_job_kind``: what the sweeper needs to
  know of a job model, registered by its app in ``AppConfig.ready``. ``running`` are the statuses
  a job has while a worker should hold its lock; ``recover(job, give_up)`` is the app's service
  that requeues an orphaned job (through ``wms.outbox.enqueue_on_commit``, setting
  ``heartbeat_at`` back to NULL) or, with ``give_up``, fails it with a clear message.
* ``jobs_sweep() -> int``: finds jobs that were taken by a worker (``heartbeat_at`` set) and are
  in a running status but whose lock is free: their worker died. Each is recovered in its own
  transaction, under the job's transaction lock (so a runner cannot take it meanwhile) and its
  row lock; after ``MAX_ATTEMPTS`` takes it is failed instead (a file that kills its worker every
  time must not loop forever). Run by ``wms.sweep_jobs`` every minute and when a worker starts.
  Returns the number of jobs recovered.

A slow job is never swept (its lock is held), whatever it takes. Nothing written twice: each
job's own write is all-or-nothing and idempotent (a freeze by its idempotency key; an import
commits its rows and its DONE status in one transaction), so re-running an orphaned job is safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import F
from django.utils import timezone

from wms.locks import advisory_lock, advisory_xact_lock

logger = logging.getLogger(__name__)

#: Takes of a job before the sweeper fails it instead of requeueing it.
MAX_ATTEMPTS = 3


class JobProgress:
    """Progress of one job row, visible to other connections before the job commits."""

    def __init__(self, model: type[models.Model], pk: int) -> None:
        self.model = model
        self.pk = pk
        self._side = None

    def __enter__(self) -> JobProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _statement(self, columns: dict) -> tuple[str, list]:
        meta = self.model._meta
        quote = connection.ops.quote_name
        names = [quote(meta.get_field(name).column) for name in columns]
        assignments = ", ".join(f"{name} = %s" for name in names)
        sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608 - names from the model
        return sql, [*columns.values(), self.pk]

    def write(self, **columns) -> None:
        """Set ``columns`` (field names) and ``heartbeat_at`` on the job row, visible at once."""
        sql, params = self._statement({**columns, "heartbeat_at": timezone.now()})
        if not connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
            return
        if connection.vendor != "postgresql":
            return
        if self._side is None:
            self._side = connections.create_connection(DEFAULT_DB_ALIAS)
        with self._side.cursor() as cursor:
            cursor.execute(sql, params)

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None


def job_lock_name(kind: str, job_id: int) -> str:
    """The advisory lock name of one job (held by the worker running it)."""
    return f"wms.job:{kind}:{job_id}"


@contextmanager
def job_claim(kind: str, job_id: int) -> Iterator[bool]:
    """Hold job ``job_id`` of ``kind`` for this worker while the block runs; yields whether it
    was free. Enter it outside any transaction (the lock is a session lock)."""
    with advisory_lock(job_lock_name(kind, job_id)) as claimed:
        yield claimed


def claim_values() -> dict:
    """The columns a runner sets when it takes a job: ``attempts + 1`` and ``heartbeat_at``."""
    return {"attempts": F("attempts") + 1, "heartbeat_at": timezone.now()}


@dataclass(frozen=True)
class JobKind:
    """A job model the sweeper watches (see the module docstring)."""

    name: str
    model: type[models.Model]
    running: tuple[str, ...]
    recover: Callable[..., None]


_KINDS: dict[str, JobKind] = {}


def register_job_kind(kind: JobKind) -> None:
    """Let the sweeper watch ``kind`` (call from the app's ``AppConfig.ready``; idempotent)."""
    _KINDS[kind.name] = kind


def job_kinds() -> list[JobKind]:
    return list(_KINDS.values())


def jobs_sweep(*, limit: int = 200) -> int:
    """Requeue (or, after ``MAX_ATTEMPTS``, fail) the jobs whose worker died. Returns how many."""
    recovered = 0
    for kind in job_kinds():
        candidates = list(
            kind.model.objects.filter(status__in=kind.running, heartbeat_at__isnull=False)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        for job_id in candidates:
            with transaction.atomic():
                if not advisory_xact_lock(job_lock_name(kind.name, job_id), wait=False):
                    continue  # a live worker holds it
                job = (
                    kind.model.objects.select_for_update()
                    .filter(pk=job_id, status__in=kind.running, heartbeat_at__isnull=False)
                    .first()
                )
                if job is None:
                    continue  # it ended meanwhile
                give_up = job.attempts >= MAX_ATTEMPTS
                logger.warning(
                    "job sweeper: %s %s was left by a dead worker (status %s, attempt %s); %s",
                    kind.name,
                    job_id,
                    job.status,
                    job.attempts,
                    "failing it" if give_up else "requeueing it",
                )
                kind.recover(job=job, give_up=give_up)
                recovered += 1
    return recovered
