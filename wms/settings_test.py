"""Settings for the test suite: the real settings with fast hashing and plain static storage."""

import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API beside the ORM


def _broker_per_test_process(url: str, worker: str) -> str:
    """One Redis database per pytest-xdist process (gw0 keeps N, gw1 takes N-1, ...), so the
    real Celery workers that two test processes start at the same time never take each other's
    messages. pytest-xdist's ``loadgroup`` does not group tests under pytest 9, so
    ``xdist_group`` alone cannot keep them apart."""
    if not url.startswith("redis://") or not worker.startswith("gw"):
        return url
    base, _, number = url.rpartition("/")
    if not number.isdigit() or not base.count("/") >= 2:
        return url
    return f"{base}/{(int(number) - int(worker[2:])) % 16}"


_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if os.environ.get("CELERY_BROKER_URL") and os.environ.get("WMS_TEST_BROKER_FOR") != _XDIST_WORKER:
    # Chosen once per test process from the URL the run started with (the xdist processes
    # inherit the controller's environment). Set in the environment too: tests read it from
    # there, and the worker subprocesses they start inherit it and keep it.
    _BASE = os.environ.setdefault("WMS_TEST_BROKER_BASE", os.environ["CELERY_BROKER_URL"])
    os.environ["CELERY_BROKER_URL"] = _broker_per_test_process(_BASE, _XDIST_WORKER)
    os.environ["WMS_TEST_BROKER_FOR"] = _XDIST_WORKER

from wms.settings import *  # noqa: E402,F403
from wms.settings import STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The webhook subscription snapshot (api.webhooks.outbox) is forgotten before each test and
# never expires during one, so query counts do not depend on when a refresh falls.
WMS_WEBHOOK_SNAPSHOT_SECONDS = 3600.0
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
LOGGING = {"version": 1, "disable_existing_loggers": False}
# The test runner forces DEBUG off; serve static files from the finders as in development.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
