from unittest import mock

import pytest
from django.db import OperationalError, connection

from wms.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_when_database_and_broker_answer(client):
    # when
    response = client.get("/healthz")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True


def test_healthz_is_degraded_but_serving_when_the_broker_is_down(client, monkeypatch):
    # given: a broker address where nothing listens (Celery reads the variable first)
    # (broker_write_url first: monkeypatch restores the value it read before the change)
    monkeypatch.setattr(celery_app.conf, "broker_write_url", None)
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")

    # when
    response = client.get("/healthz")

    # then
    assert response.status_code == 200  # pages and postings still work (task outbox)
    body = response.json()
    assert body["status"] == "degraded"
    assert body["broker"] == {"ok": False, "detail": "unreachable"}
    assert body["database"]["ok"] is True


def test_healthz_is_unavailable_when_the_database_is_down(client):
    # given
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("down")):
        # when
        response = client.get("/healthz")

    # then
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "detail": "unreachable"}


def test_healthz_needs_no_login_and_is_not_cached(client):
    response = client.get("/healthz")

    assert "no-cache" in response["Cache-Control"]
