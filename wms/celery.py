"""The Celery app. Configuration comes from Django settings (CELERY_*); tasks live in each app's
tasks.py and are thin wrappers around services."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wms.settings")

app = Celery("wms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
