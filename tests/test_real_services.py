"""In CI (WMS_REQUIRE_SERVICES=1) these prove the suite ran on the real PostgreSQL and Redis."""

import pytest
import redis
from django.conf import settings
from django.db import connection


@pytest.mark.postgres
@pytest.mark.django_db
def test_suite_runs_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()

    assert connection.vendor == "postgresql"
    assert version.startswith("PostgreSQL")


@pytest.mark.redis
@pytest.mark.django_db
def test_health_reports_the_redis_broker(client):
    # given
    redis.Redis.from_url(settings.CELERY_BROKER_URL).ping()

    # when
    body = client.get("/healthz").json()

    # then
    assert body["broker"]["ok"] is True
    assert "redis" in body["broker"]["detail"].lower()
