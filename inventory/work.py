"""Inventory's items on the home page of work (wms/work.py): drafts left open for more than a
day, and the user's imports checked but never committed (with a discard action) or failed."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from inventory.models import DocumentStatus, ImportJob, InboundSheet, OutboundSheet
from wms.work import WorkAction, WorkItem

FAILED_IMPORT_WINDOW = datetime.timedelta(days=7)
LISTED_IMPORTS = 5


def stale_draft_cutoff() -> datetime.date:
    """Drafts created before this date (local) have been open for more than a day."""
    return timezone.localdate() - datetime.timedelta(days=1)


def inventory_work(user) -> list[WorkItem]:
    """One COUNT per sheet kind the user may view (partial index on drafts' created_at), and
    two on the user's own import jobs (their user/created_at index), plus the listed jobs."""
    items = []
    cutoff = stale_draft_cutoff()
    for model, direction, label in (
        (InboundSheet, "inbound", _("Inbound sheets in draft for more than a day")),
        (OutboundSheet, "outbound", _("Outbound sheets in draft for more than a day")),
    ):
        if not user.has_perm(f"inventory.view_{model._meta.model_name}"):
            continue
        count = model.objects.filter(
            status=DocumentStatus.DRAFT, created_at__date__lt=cutoff
        ).count()
        query = urlencode({"status": DocumentStatus.DRAFT, "created_before": cutoff})
        items.append(
            WorkItem(
                key=f"stale_{direction}_drafts",
                label=label,
                count=count,
                url=f"{reverse(f'inventory:{direction}-list')}?{query}",
                order=40,
            )
        )
    from inventory.imports import registry

    if user.is_authenticated and registry.importable_by(user):
        ready = list(
            ImportJob.objects.filter(user=user, status=ImportJob.Status.READY).order_by(
                "-created_at", "-pk"
            )[: LISTED_IMPORTS + 1]
        )
        if ready:
            count = (
                len(ready)
                if len(ready) <= LISTED_IMPORTS
                else ImportJob.objects.filter(user=user, status=ImportJob.Status.READY).count()
            )
            actions = [
                WorkAction(
                    label=f"{job.original_name} · {timezone.localtime(job.created_at):%Y-%m-%d %H:%M}",
                    url=reverse("inventory:import-job-discard", args=[job.pk]),
                    button=_("Discard"),
                    confirm=_("Discard this checked import? Nothing of it will be imported."),
                )
                for job in ready[:LISTED_IMPORTS]
            ]
        else:
            count, actions = 0, []
        items.append(
            WorkItem(
                key="imports_not_committed",
                label=_("Imports checked but never committed"),
                count=count,
                url=reverse("inventory:import-list"),
                order=50,
                actions=actions,
            )
        )
        since = timezone.now() - FAILED_IMPORT_WINDOW
        failed = ImportJob.objects.filter(
            user=user,
            created_at__gte=since,
            status__in=[ImportJob.Status.FAILED, ImportJob.Status.REFUSED],
        ).count()
        items.append(
            WorkItem(
                key="imports_failed",
                label=_("Imports that failed this week"),
                count=failed,
                url=reverse("inventory:import-list"),
                order=51,
            )
        )
    return items
