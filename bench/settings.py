"""Settings of every benchmark process (``python -m bench`` and the children it starts): the
app's own settings with DEBUG off, as in production. Two differences, neither of which touches
what is measured: static files come from the plain storage (no collectstatic before a run), and
the test client's plain-HTTP requests are not redirected to HTTPS."""

import os

os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-never-used-to-serve-anything-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
# Shops and carriers store credentials encrypted; a bench-only key (never a real one).
os.environ.setdefault("WMS_FIELD_KEY", "YmVuY2gtb25seS1maWVsZC1rZXktMDAwMDAwMDAwMCE=")

from wms.settings import *  # noqa: E402,F403
from wms.settings import DEBUG, STORAGES  # noqa: E402

if DEBUG:
    raise RuntimeError("benchmarks run with DEBUG off")
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECURE_SSL_REDIRECT = False
