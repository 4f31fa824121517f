"""Health probes for /healthz: the database and the Celery broker, each with a short timeout."""

import logging

from django.conf import settings
from django.db import connection

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
