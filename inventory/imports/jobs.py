"""Import jobs: the upload -> check (dry run) -> commit flow, persisted in ``ImportJob``.

Services (each one transaction, or a dry run that writes nothing but the job row):

* ``import_job_create(user, resource_key, upload, language)`` saves the file under
  MEDIA_ROOT/imports, estimates its rows and either checks it at once (small files) or queues
  ``CHECK_TASK`` after commit (over ``WMS_IMPORT_BACKGROUND_ROWS``, default 2,000).
* ``import_job_check(job_id)``: the dry run; the job ends READY (no errors), INVALID (row errors,
  listed in ``job.preview``) or REFUSED (the file as a whole, ``job.message``).
* ``import_job_create_missing(job, user)``: the user agrees to create the brands and categories
  the sheet names but which do not exist; the job is checked again, creating them first.
* ``import_job_commit(job, user)``: from READY only (compare-and-set, so a double click commits
  once): commits at once or queues ``COMMIT_TASK``.
* ``import_job_run_commit(job_id)``: the commit itself. The rows are re-checked while they are
  written (the data may have changed since the preview); the job's status DONE is written in the
  same transaction as the rows, so a job is DONE exactly when its rows are in.
* ``import_job_recover(job, give_up)``: the job sweeper's call for a job whose worker died.

A worker runs a check or a commit only under the job's claim (``wms.jobs.job_claim``, an
advisory lock on its own connection), so a re-delivered task (``acks_late``) skips a run in
progress; a worker killed mid-commit leaves nothing behind (the rows and DONE commit together),
and the sweeper (``wms.jobs.jobs_sweep``) requeues the job within a minute of a worker being
there, or fails it with a clear message after ``wms.jobs.MAX_ATTEMPTS`` takes.

Progress (rows done / estimated) is written on a second database connection while the import
transaction is open (``wms.jobs.JobProgress``), so the page polling the job sees it move.

Tasks are queued by name after commit through the outbox (``wms.outbox``): this module never
imports ``inventory.tasks``, and a broker outage delays a job instead of failing it.
"""

from __future__ import annotations

import logging
import uuid
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from inventory.imports import registry
from inventory.imports.engine import ImportReport, run_import
from inventory.imports.errors import ImportRefused
from inventory.imports.files import XLSX, format_for, inspect_xlsx, limits, open_sheet
from inventory.models import ImportJob
from wms.jobs import JobKind, JobProgress, claim_values, job_claim
from wms.outbox import enqueue_on_commit

logger = logging.getLogger(__name__)

#: The job kind watched by the sweeper (``wms.jobs``), and the tasks that run a job's steps.
JOB_KIND = "inventory.import_job"
CHECK_TASK = "inventory.check_import"
COMMIT_TASK = "inventory.commit_import"


def background_threshold() -> int:
    return int(getattr(settings, "WMS_IMPORT_BACKGROUND_ROWS", 2000))


def estimate_rows(path: str, kind: str) -> int:
    """A cheap row estimate to choose between checking now and in the background: line breaks
    of a CSV, ``<row`` elements of the first worksheet (phantom rows included, on purpose)."""
    count = 0
    if kind == XLSX:
        try:
            entry = inspect_xlsx(path)
            with zipfile.ZipFile(path) as archive, archive.open(entry) as sheet:
                while chunk := sheet.read(1024 * 1024):
                    count += chunk.count(b"<row")  # one split at a chunk edge: still an estimate
        except (ImportRefused, KeyError, zipfile.BadZipFile):
            return 0  # the check refuses it properly, at once
        return max(0, count - 1)
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            count += chunk.count(b"\n")
    return max(0, count - 1)


def import_job_create(
    *, user, resource_key: str, upload: UploadedFile, language: str = ""
) -> ImportJob:
    """Save ``upload`` as a new job of ``resource_key`` for ``user`` and check it (now, or in the
    background for big files). Raises ImportRefused for an unknown resource, a wrong extension or
    an oversized file (nothing is saved then). The caller checks the import permission."""
    if registry.get(resource_key) is None:
        raise ImportRefused(_("Unknown import type."))
    kind = format_for(upload.name)
    lim = limits()
    if upload.size > lim.max_bytes:
        raise ImportRefused(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": round(upload.size / 2**20, 1), "limit": round(lim.max_bytes / 2**20, 1)}
        )
    now = timezone.now()
    relative = f"imports/{now:%Y/%m}/{uuid.uuid4().hex}.{kind}"
    stored = default_storage.save(relative, upload)
    path = default_storage.path(stored)
    estimated = estimate_rows(path, kind)
    background = estimated > background_threshold()
    job = ImportJob.objects.create(
        resource=resource_key,
        user=user,
        original_name=Path(upload.name).name[:255],
        size=upload.size,
        language=language or translation.get_language() or settings.LANGUAGE_CODE,
        in_background=background,
        total_rows=estimated,
    )
    job.file.name = stored
    job.save(update_fields=["file"])
    if background:
        enqueue_on_commit(CHECK_TASK, job.pk)
        return job
    return import_job_check(job_id=job.pk)


class _ProgressWriter:
    """``progress(done, total)`` of the import engine, written on the job row (``JobProgress``)."""

    def __init__(self, job_id: int) -> None:
        self.progress = JobProgress(ImportJob, job_id)

    def __call__(self, done: int, total: int) -> None:
        self.progress.write(
            progress_rows=done, total_rows=max(total, done), updated_at=timezone.now()
        )

    def close(self) -> None:
        self.progress.close()


def _run(job: ImportJob, *, dry_run: bool) -> ImportReport:
    resource_class = registry.get(job.resource)
    progress = _ProgressWriter(job.pk)
    try:
        with translation.override(job.language or settings.LANGUAGE_CODE):
            try:
                if not job.file.name:
                    raise FileNotFoundError(job.pk)  # removed after WMS_FILE_RETENTION_DAYS
                sheet = open_sheet(default_storage.path(job.file.name), job.original_name)
            except ImportRefused as refusal:
                report = ImportReport(resource=job.resource, dry_run=dry_run)
                report.refused = str(refusal)
                return report
            except FileNotFoundError:
                report = ImportReport(resource=job.resource, dry_run=dry_run)
                report.refused = _("The uploaded file is no longer on the server; upload it again.")
                return report
            resource = resource_class()
            if job.create_missing:
                resource.create_missing = job.create_missing
            return run_import(resource, sheet, dry_run=dry_run, user=job.user, progress=progress)
    finally:
        progress.close()


def _status_after_check(report: ImportReport) -> str:
    if report.refused:
        return ImportJob.Status.REFUSED
    if report.error_count:
        return ImportJob.Status.INVALID
    return ImportJob.Status.READY


def import_job_check(*, job_id: int) -> ImportJob | None:
    """Run the dry run of a job and store its preview. Safe to run twice (a re-delivered task):
    runs under the job's claim, and does nothing for a job that is already past checking, gone,
    or being checked by another worker."""
    with job_claim(JOB_KIND, job_id) as claimed:
        if not claimed:
            logger.info("import job %s is being checked by another worker", job_id)
            return ImportJob.objects.filter(pk=job_id).first()
        updated = ImportJob.objects.filter(
            pk=job_id, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.CHECKING]
        ).update(status=ImportJob.Status.CHECKING, updated_at=timezone.now(), **claim_values())
        job = ImportJob.objects.filter(pk=job_id).first()
        if job is None or not updated:
            return job
        report = _run(job, dry_run=True)
        job.preview = report.as_dict()
        job.status = _status_after_check(report)
        job.message = report.refused
        job.progress_rows = report.total_rows
        job.total_rows = max(report.total_rows, 1)
        job.finished_at = timezone.now()
        job.save(
            update_fields=[
                "preview",
                "status",
                "message",
                "progress_rows",
                "total_rows",
                "finished_at",
                "updated_at",
            ]
        )
    return job


def import_job_create_missing(*, job: ImportJob, user) -> ImportJob:
    """The user agrees to create the brands and categories the checked sheet names but which do
    not exist (``job.preview["missing"]``): they are stored on the job and the sheet is checked
    again, now creating them first inside the import's transaction (so the commit writes them
    together with the goods, all or nothing). Raises ImportRefused when nothing is missing, the
    job is not waiting for corrections, or the user may not add brands or categories."""
    missing = (job.preview or {}).get("missing") or {}
    brands, categories = list(missing.get("brands", [])), list(missing.get("categories", []))
    if not brands and not categories:
        raise ImportRefused(_("This sheet names no missing brand or category."))
    needed = (["inventory.add_brand"] if brands else []) + (
        ["inventory.add_category"] if categories else []
    )
    if not user.has_perms(needed):
        raise ImportRefused(_("You may not add brands or categories: ask a warehouse manager."))
    moved = ImportJob.objects.filter(
        pk=job.pk, status__in=[ImportJob.Status.INVALID, ImportJob.Status.READY]
    ).update(
        status=ImportJob.Status.QUEUED,
        create_missing={"brands": brands, "categories": categories},
        attempts=0,
        heartbeat_at=None,
        progress_rows=0,
        updated_at=timezone.now(),
        finished_at=None,
    )
    if not moved:
        raise ImportRefused(_("This import is not waiting for corrections any more."))
    job.refresh_from_db()
    if job.in_background:
        enqueue_on_commit(CHECK_TASK, job.pk)
        return job
    return import_job_check(job_id=job.pk) or job


def import_job_commit(*, job: ImportJob, user) -> ImportJob:
    """Ask for the commit of a checked job. Only a READY job moves (compare-and-set, so a double
    submit commits once); big files are committed by ``import_job_commit_task`` after this
    transaction commits (``COMMIT_TASK``, through the outbox). Raises ImportRefused when the job
    is not ready."""
    moved = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.READY).update(
        status=ImportJob.Status.COMMITTING,
        attempts=0,  # counted per step: the commit gets its own MAX_ATTEMPTS takes
        heartbeat_at=None,
        progress_rows=0,
        updated_at=timezone.now(),
        finished_at=None,
    )
    if not moved:
        raise ImportRefused(_("This import is not waiting to be committed any more."))
    job.refresh_from_db()
    if job.in_background:
        enqueue_on_commit(COMMIT_TASK, job.pk)
        return job
    return import_job_run_commit(job_id=job.pk) or job


def import_job_run_commit(*, job_id: int) -> ImportJob | None:
    """Commit a job that is COMMITTING: write its rows all-or-nothing and mark it DONE in the
    same transaction; on errors mark it INVALID/REFUSED with the new report. Runs under the
    job's claim (``wms.jobs.job_claim``); returns quietly for a job that is gone, not
    COMMITTING (already done by another delivery) or being committed by another worker."""
    with job_claim(JOB_KIND, job_id) as claimed:
        if not claimed:
            logger.info("import job %s is being committed by another worker", job_id)
            return ImportJob.objects.filter(pk=job_id).first()
        ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.COMMITTING).update(
            **claim_values()
        )
        with transaction.atomic():
            job = ImportJob.objects.filter(pk=job_id).first()
            if job is None or job.status != ImportJob.Status.COMMITTING:
                return job
            report = _run(job, dry_run=False)
            job.result = report.as_dict()
            job.progress_rows = report.total_rows
            job.finished_at = timezone.now()
            if report.written:
                job.status = ImportJob.Status.DONE
                job.message = ""
            else:
                job.status = _status_after_check(report)
                if job.status == ImportJob.Status.READY:
                    job.status = ImportJob.Status.FAILED
                job.preview = report.as_dict()
                job.message = report.refused
            job.save(
                update_fields=[
                    "result",
                    "preview",
                    "status",
                    "message",
                    "progress_rows",
                    "finished_at",
                    "updated_at",
                ]
            )
    return job


def import_job_fail(*, job_id: int, message: str) -> None:
    """Mark a job FAILED after an unexpected error in its task (nothing was written)."""
    ImportJob.objects.filter(pk=job_id, status__in=ImportJob.RUNNING).update(
        status=ImportJob.Status.FAILED,
        message=message[:2000],
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def import_job_recover(*, job: ImportJob, give_up: bool) -> None:
    """The sweeper's call for a job whose worker died while checking or committing it (the job
    row is locked; ``wms.jobs.jobs_sweep``). Nothing of it was written (rows and DONE commit
    together), so the step is queued again; with ``give_up`` the job ends FAILED saying so."""
    if give_up:
        import_job_fail(
            job_id=job.pk,
            message=_(
                "The background worker stopped %(count)s times while working on this file, so "
                "it was given up. Nothing was written: split the file into smaller ones and "
                "upload them again, or tell your administrator."
            )
            % {"count": job.attempts},
        )
        return
    if job.status == ImportJob.Status.CHECKING:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.QUEUED,
            heartbeat_at=None,
            progress_rows=0,
            updated_at=timezone.now(),
        )
        enqueue_on_commit(CHECK_TASK, job.pk)
        return
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=None, progress_rows=0, updated_at=timezone.now()
    )
    enqueue_on_commit(COMMIT_TASK, job.pk)


def job_kind() -> JobKind:
    """What the job sweeper needs to know of import jobs (registered in ``InventoryConfig``)."""
    return JobKind(
        name=JOB_KIND,
        model=ImportJob,
        running=(ImportJob.Status.CHECKING, ImportJob.Status.COMMITTING),
        recover=import_job_recover,
    )
