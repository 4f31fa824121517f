"""Health probes for /healthz: the database and the Celery broker, each with a short timeout, and
the heartbeat of background work (worker and beat)."""

import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)


def database_status() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the message says which
        logger.warning("healthz database down", extra={"error": str(exc)})
        return False, str(exc) or exc.__class__.__name__
    return True, connection.vendor


def broker_status() -> tuple[bool, str]:
    from wms.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.WMS_HEALTH_BROKER_TIMEOUT)
            transport = conn.transport_cls
    except Exception as exc:  # kombu raises the transport's own errors
        logger.warning("healthz broker down", extra={"error": str(exc)})
        return False, str(exc) or exc.__class__.__name__
    return True, str(transport)


# --- background work: the heartbeat -------------------------------------------------------------

HEARTBEAT = "background"
# Beat sends the heartbeat every HEARTBEAT_SECONDS; four missed beats mean it is stopped.
HEARTBEAT_SECONDS = int(os.environ.get("WMS_HEARTBEAT_SECONDS", "30"))
STALE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class BackgroundStatus:
    ok: bool
    seen_at: datetime | None

    @property
    def age_seconds(self) -> int | None:
        if self.seen_at is None:
            return None
        return max(0, int((timezone.now() - self.seen_at).total_seconds()))

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "last_seen": self.seen_at.isoformat() if self.seen_at else None,
            "age_seconds": self.age_seconds,
        }


def heartbeat_record(*, now: datetime | None = None) -> None:
    """Stamp the heartbeat (one upsert statement)."""
    from wms.models import Heartbeat

    Heartbeat.objects.bulk_create(
        [Heartbeat(name=HEARTBEAT, seen_at=now or timezone.now())],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["seen_at"],
    )
    forget_background_status()


def background_status(*, now: datetime | None = None) -> BackgroundStatus:
    """Whether the worker and beat ran the heartbeat within the last two minutes (one query).
    Never seen (a new install before its first beat) counts as stopped."""
    from wms.models import Heartbeat

    seen_at = Heartbeat.objects.filter(name=HEARTBEAT).values_list("seen_at", flat=True).first()
    now = now or timezone.now()
    return BackgroundStatus(
        ok=seen_at is not None and now - seen_at <= STALE_AFTER, seen_at=seen_at
    )


# Every page shows a banner when background work is stopped: each process keeps the status a
# few seconds, so a page costs at most one query per process and period, and usually none.
BACKGROUND_CACHE_SECONDS = float(os.environ.get("WMS_BACKGROUND_CACHE_SECONDS", "5"))
_cached: list[tuple[float, BackgroundStatus]] = []


def background_status_cached() -> BackgroundStatus:
    """``background_status()``, kept for ``BACKGROUND_CACHE_SECONDS`` in this process (the
    banner of every page: no query on most requests, one at most)."""
    now = time.monotonic()
    if _cached and _cached[0][0] > now:
        return _cached[0][1]
    status = background_status()
    _cached[:] = [(now + BACKGROUND_CACHE_SECONDS, status)]
    return status


def remember_background_status(status: BackgroundStatus, *, seconds: float) -> None:
    """Keep ``status`` as the cached one for ``seconds`` (tests pin it so that pages make no
    heartbeat query they would have to count)."""
    _cached[:] = [(time.monotonic() + seconds, status)]


def forget_background_status() -> None:
    """Drop the cached status: the next page reads the heartbeat again."""
    _cached.clear()
