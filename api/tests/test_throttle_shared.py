"""Throttle counts live in the shared cache: with ``WMS_CACHE_URL`` on Redis, the requests of
one token count together whichever client (process, host) sends them, and the 429 comes with
Retry-After in the one error body."""

from __future__ import annotations

import os
import uuid

import pytest
from rest_framework.test import APIClient

from api.tests.test_foundations import GOODS_URL, assert_error_body


def _redis_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        pytest.skip("needs Redis (CELERY_BROKER_URL=redis://...)")
    return url


@pytest.fixture
def redis_cache(settings):
    """The default cache on this test process's Redis database, under a prefix of its own
    (removed afterwards: never a FLUSHALL)."""
    import redis

    url = _redis_url()
    prefix = f"wms-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    }
    raw = redis.Redis.from_url(url)
    yield raw, prefix
    for key in raw.scan_iter(match=f"{prefix}:*"):
        raw.delete(key)
    raw.close()


def test_two_clients_of_one_token_share_the_count_in_redis(client_for, settings, redis_cache):
    # given a token used by two separate clients (two ERP workers) and a rate of 4 a minute
    raw, prefix = redis_cache
    settings.WMS_API_RATE = "4/min"
    first = client_for("staff")
    second = APIClient()
    second.credentials(HTTP_AUTHORIZATION=f"Bearer {first.raw}")
    # when they share the allowance
    assert first.get(GOODS_URL).status_code == 200
    assert second.get(GOODS_URL).status_code == 200
    assert first.get(GOODS_URL).status_code == 200
    assert second.get(GOODS_URL).status_code == 200
    # then the fifth request, from either, is refused
    refused = second.get(GOODS_URL)
    assert_error_body(refused, 429, "throttled")
    assert 0 < int(refused["Retry-After"]) <= 60
    assert_error_body(first.get(GOODS_URL), 429, "throttled")
    # and the count is in Redis, where every other process reads it
    keys = list(raw.scan_iter(match=f"{prefix}:*throttle_token_t{first.token.pk}"))
    assert len(keys) == 1
    # another token keeps its own allowance
    assert client_for("qc").get(GOODS_URL).status_code == 200


def test_settings_choose_redis_only_when_a_cache_url_is_given(monkeypatch):
    import importlib

    import wms.settings as wms_settings

    monkeypatch.setenv("WMS_CACHE_URL", "redis://127.0.0.1:6379/5")
    with_redis = importlib.reload(wms_settings).CACHES["default"]
    monkeypatch.delenv("WMS_CACHE_URL")
    laptop = importlib.reload(wms_settings).CACHES["default"]
    assert with_redis["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert with_redis["LOCATION"] == "redis://127.0.0.1:6379/5"
    assert laptop["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
