"""Freezes' items on the home page of work (wms/work.py): release requests waiting for me,
freezes held past the ageing limit, and batches near expiry whose stock is not frozen yet."""

from __future__ import annotations

import datetime

from django.db.models import Exists, F, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from freezes.models import Freeze, FreezeLine, FreezeRule, ReleaseRequest
from freezes.selectors import ageing_days_default
from inventory.models import Batch, StockBalance
from wms.work import WorkItem

DEFAULT_NEAR_EXPIRY_DAYS = 30


def near_expiry_days() -> int:
    """The days of the strictest active near-expiry rule, else 30."""
    days = (
        FreezeRule.objects.filter(
            kind=FreezeRule.Kind.NEAR_EXPIRY, is_active=True, days_to_expiry__isnull=False
        )
        .order_by("-days_to_expiry")
        .values_list("days_to_expiry", flat=True)
        .first()
    )
    return days or DEFAULT_NEAR_EXPIRY_DAYS


def release_requests_for(user) -> int:
    """Pending requests on active freezes that ``user`` may decide: not his own request and not
    stock he froze (the two-person rule). One COUNT on the status index."""
    return (
        ReleaseRequest.objects.filter(
            status=ReleaseRequest.Status.PENDING, freeze__status=Freeze.Status.ACTIVE
        )
        .exclude(requested_by=user)
        .exclude(freeze__created_by=user)
        .count()
    )


def ageing_freeze_count(*, days: int, now: datetime.datetime | None = None) -> int:
    """Active freezes older than ``days`` that still hold units: one COUNT (the status and
    created_at index, then one EXISTS per freeze on its lines)."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    holding = FreezeLine.objects.filter(
        freeze=OuterRef("pk"), quantity__gt=F("released") + F("shipped")
    )
    return (
        Freeze.objects.filter(status=Freeze.Status.ACTIVE, created_at__lt=cutoff)
        .filter(Exists(holding))
        .count()
    )


def near_expiry_unfrozen_count(*, days: int, today: datetime.date | None = None) -> int:
    """Batches expiring within ``days`` (or expired) with on-hand stock not frozen: one COUNT
    (the batch expiry index, then one EXISTS per batch on the balances' batch index)."""
    today = today or timezone.localdate()
    unfrozen = StockBalance.objects.filter(batch=OuterRef("pk"), on_hand__gt=F("frozen"))
    return (
        Batch.objects.filter(expiry_date__lte=today + datetime.timedelta(days=days))
        .filter(Exists(unfrozen))
        .count()
    )


def freezes_work(user) -> list[WorkItem]:
    items = []
    if user.has_perm("freezes.approve_release"):
        items.append(
            WorkItem(
                key="release_requests",
                label=_("Release requests waiting for my decision"),
                count=release_requests_for(user),
                url=reverse("freezes:release-queue"),
                order=10,
            )
        )
    if user.has_perm("freezes.view_freeze"):
        days = ageing_days_default()
        items.append(
            WorkItem(
                key="ageing_freezes",
                label=_("Freezes held longer than %(days)s days") % {"days": days},
                count=ageing_freeze_count(days=days),
                url=f"{reverse('freezes:dashboard')}?{urlencode({'ageing_days': days})}",
                order=20,
            )
        )
    if user.has_perm("inventory.view_stockbalance") and user.has_perm("freezes.add_freeze"):
        days = near_expiry_days()
        before = timezone.localdate() + datetime.timedelta(days=days + 1)
        items.append(
            WorkItem(
                key="near_expiry_unfrozen",
                label=_("Batches expiring within %(days)s days, not frozen") % {"days": days},
                count=near_expiry_unfrozen_count(days=days),
                url=f"{reverse('inventory:stock-query')}?{urlencode({'expiry_before': before})}",
                order=30,
            )
        )
    return items
