"""Uploaded sheets and export files are kept ``WMS_FILE_RETENTION_DAYS`` days (default 30), then
removed by the daily task ``inventory.remove_expired_files``.

``expired_files_remove(*, now=None, days=None) -> RemovedFiles``:

* import jobs older than that, unless a worker may still need the file (queued, checking or
  committing): the sheet is deleted and ``ImportJob.file`` cleared (committing such a job later
  says the file is no longer on the server);
* export records older than that: the file is deleted and ``ExportRecord.file`` cleared, so the
  export history shows "expired" instead of a dead link (``ExportRecord.is_expired``);
* files left under ``MEDIA_ROOT/imports`` and ``MEDIA_ROOT/exports`` older than that that no row
  names (a process that died between saving a file and its row).

Rows are kept: the history of who imported or exported what stays. Safe to run twice and at any
time; a file already gone is not an error. Each row is cleared by compare-and-set on its file
name, so a concurrent run removes each file once.
"""

from __future__ import annotations

import datetime
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from inventory.models import ExportRecord, ImportJob

logger = logging.getLogger(__name__)

#: The folders under MEDIA_ROOT that hold uploaded sheets and export files.
FOLDERS = ("imports", "exports")


def retention_days() -> int:
    return int(getattr(settings, "WMS_FILE_RETENTION_DAYS", 30))


@dataclass
class RemovedFiles:
    uploads: int = 0
    exports: int = 0
    orphans: int = 0


def _delete(name: str) -> None:
    default_storage.delete(name)  # a file already gone is fine: the storage ignores it


def expired_files_remove(
    *, now: datetime.datetime | None = None, days: int | None = None
) -> RemovedFiles:
    """Remove the sheets and export files past retention (see the module docstring)."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=retention_days() if days is None else days)
    removed = RemovedFiles()
    uploads = (
        ImportJob.objects.filter(created_at__lt=cutoff)
        .exclude(file="")
        .exclude(status__in=ImportJob.RUNNING)
        .values_list("pk", "file")
    )
    for pk, name in list(uploads):
        if ImportJob.objects.filter(pk=pk, file=name).update(file=""):
            _delete(name)
            removed.uploads += 1
    exports = ExportRecord.objects.filter(created_at__lt=cutoff).exclude(file="")
    for pk, name in list(exports.values_list("pk", "file")):
        if ExportRecord.objects.filter(pk=pk, file=name).update(file=""):
            _delete(name)
            removed.exports += 1
    removed.orphans = _orphans_remove(cutoff)
    logger.info(
        "file retention: removed %s uploads, %s exports, %s orphan files",
        removed.uploads,
        removed.exports,
        removed.orphans,
    )
    return removed


def _orphans_remove(cutoff: datetime.datetime) -> int:
    root = Path(settings.MEDIA_ROOT)
    limit = cutoff.timestamp()
    old: list[str] = []
    for folder in FOLDERS:
        for directory, _subdirs, files in os.walk(root / folder):
            for file_name in files:
                path = Path(directory, file_name)
                if path.stat().st_mtime < limit:
                    old.append(path.relative_to(root).as_posix())
    if not old:
        return 0
    named = set(ImportJob.objects.filter(file__in=old).values_list("file", flat=True))
    named |= set(ExportRecord.objects.filter(file__in=old).values_list("file", flat=True))
    count = 0
    for name in old:
        if name not in named:
            _delete(name)
            count += 1
    return count
