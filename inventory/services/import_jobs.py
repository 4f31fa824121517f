"""Discarding an import job that was checked but will not be committed."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.utils.translation import gettext as _

from inventory.models import ImportJob
from wms.errors import DomainError

DISCARDABLE = (
    ImportJob.Status.READY,
    ImportJob.Status.INVALID,
    ImportJob.Status.REFUSED,
    ImportJob.Status.FAILED,
)


class ImportNotDiscardable(DomainError):
    pass


def _delete_file(storage, name: str) -> None:
    if name:
        storage.delete(name)


def import_job_discard(*, job_id: int, user) -> None:
    """Delete the user's own import job that is checked (or has errors, was refused or failed),
    and its uploaded file after commit. Compare-and-set on the status: a job whose commit has
    started (or ended) meanwhile is not deleted and ``ImportNotDiscardable`` says why."""
    with transaction.atomic():
        job = ImportJob.objects.filter(pk=job_id, user=user).first()
        if job is None:
            raise ImportNotDiscardable(_("This import does not exist."), code="missing")
        deleted, _rows = ImportJob.objects.filter(
            pk=job.pk, user=user, status__in=list(DISCARDABLE)
        ).delete()
        if not deleted:
            raise ImportNotDiscardable(
                _("This import is running or already imported: it cannot be discarded."),
                code="not_discardable",
            )
        transaction.on_commit(partial(_delete_file, job.file.storage, job.file.name))
