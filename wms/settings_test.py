"""Settings for the test suite: the real settings with fast hashing and plain static storage."""

import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API beside the ORM

from wms.settings import *  # noqa: E402,F403
from wms.settings import STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
LOGGING = {"version": 1, "disable_existing_loggers": False}
# The test runner forces DEBUG off; serve static files from the finders as in development.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
