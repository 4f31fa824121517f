"""Uploaded sheets and export files are removed after WMS_FILE_RETENTION_DAYS; the history stays
and says "expired" instead of offering a dead link."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone, translation

from inventory.imports import exports, jobs
from inventory.imports.retention import expired_files_remove
from inventory.models import ExportRecord, ImportJob
from inventory.tests.test_import_support import media_root

pytestmark = pytest.mark.django_db
__all__ = ["media_root"]

DAY = datetime.timedelta(days=1)


@pytest.fixture
def manager(make_user, media_root):
    return make_user("manager")


def _export(user, *, age_days: int) -> ExportRecord:
    record = exports.export_create(user=user, resource_key="goods", file_format="csv")
    ExportRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - age_days * DAY)
    record.refresh_from_db()
    return record


def _upload(user, *, age_days: int, status=ImportJob.Status.READY) -> ImportJob:
    name = default_storage.save("imports/2026/01/sheet.csv", ContentFile(b"sku,name\nA-1,a\n"))
    job = ImportJob.objects.create(
        resource="goods", user=user, original_name="sheet.csv", status=status
    )
    ImportJob.objects.filter(pk=job.pk).update(
        file=name, created_at=timezone.now() - age_days * DAY
    )
    job.refresh_from_db()
    return job


def _exists(name: str) -> bool:
    return bool(name) and Path(default_storage.path(name)).exists()


def test_files_past_retention_are_removed_and_recent_ones_kept(manager):
    # given
    old_export, new_export = _export(manager, age_days=31), _export(manager, age_days=29)
    old_upload, new_upload = _upload(manager, age_days=31), _upload(manager, age_days=29)
    old_paths = [old_export.file.name, old_upload.file.name]

    # when
    removed = expired_files_remove()

    # then: the old files are gone, their rows kept as history and marked
    assert (removed.exports, removed.uploads) == (1, 1)
    assert not any(_exists(name) for name in old_paths)
    old_export.refresh_from_db()
    old_upload.refresh_from_db()
    assert old_export.is_expired and old_export.file_name and old_export.row_count == 0
    assert old_upload.file.name == "" and old_upload.original_name == "sheet.csv"
    # and the recent ones are untouched
    new_export.refresh_from_db()
    assert not new_export.is_expired and _exists(new_export.file.name)
    assert _exists(ImportJob.objects.get(pk=new_upload.pk).file.name)
    # and a second run has nothing left to do
    again = expired_files_remove()
    assert (again.exports, again.uploads, again.orphans) == (0, 0, 0)


def test_the_retention_follows_the_setting(manager, settings):
    settings.WMS_FILE_RETENTION_DAYS = 7
    record = _export(manager, age_days=8)

    expired_files_remove()

    record.refresh_from_db()
    assert record.is_expired


def test_a_sheet_a_worker_may_still_need_is_kept(manager):
    # given: an old job still being committed
    job = _upload(manager, age_days=40, status=ImportJob.Status.COMMITTING)

    # when
    expired_files_remove()

    # then
    job.refresh_from_db()
    assert _exists(job.file.name)


def test_old_files_no_row_names_are_removed(media_root):
    # given: a stray file older than the retention and a fresh one
    stray = default_storage.save("exports/2025/01/stray.csv", ContentFile(b"x"))
    fresh = default_storage.save("imports/2026/01/fresh.csv", ContentFile(b"x"))
    long_ago = (timezone.now() - 40 * DAY).timestamp()
    os.utime(default_storage.path(stray), (long_ago, long_ago))

    # when
    removed = expired_files_remove()

    # then
    assert removed.orphans == 1
    assert not _exists(stray) and _exists(fresh)


def test_the_history_shows_expired_instead_of_a_dead_link(client, manager):
    # given
    expired, live = _export(manager, age_days=31), _export(manager, age_days=1)
    expired_files_remove()
    client.force_login(manager)

    # when
    page = client.get(reverse("inventory:export-history")).content.decode()
    with translation.override("zh-hans"):
        chinese = client.get(
            reverse("inventory:export-history"), HTTP_ACCEPT_LANGUAGE="zh-hans"
        ).content.decode()

    # then
    assert reverse("inventory:export-download", args=[expired.pk]) not in page
    assert reverse("inventory:export-download", args=[live.pk]) in page
    assert "expired" in page
    assert "已过期" in chinese
    # and the old address says why instead of failing
    gone = client.get(reverse("inventory:export-download", args=[expired.pk]))
    assert gone.status_code == 404


def test_committing_a_job_whose_sheet_expired_says_to_upload_it_again(manager):
    # given
    job = _upload(manager, age_days=31)
    expired_files_remove()
    job.refresh_from_db()

    # when
    jobs.import_job_commit(job=job, user=manager)

    # then
    job.refresh_from_db()
    assert job.status == ImportJob.Status.REFUSED
    assert "no longer on the server" in job.message


@pytest.mark.postgres
def test_the_daily_task_skips_while_another_run_holds_its_lock(manager):
    # given
    from django.db import connections

    from inventory.tasks import expired_files_remove_task
    from wms.locks import advisory_key

    record = _export(manager, age_days=31)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            key = advisory_key("inventory.remove_expired_files")
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])

        # when
        skipped = expired_files_remove_task()
    finally:
        # Unlock before closing: a closed session's locks go only when its backend exits,
        # which a loaded server may do after the next line has already asked for the lock.
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        other.close()
    ran = expired_files_remove_task()

    # then
    assert skipped == {} and ran["exports"] == 1
    record.refresh_from_db()
    assert record.is_expired
