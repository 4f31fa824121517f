"""Store allocation's item on the home page of work (wms/work.py): grab windows open now —
for a store manager those open to his stores (grab before they close), for an allocation
manager all of them."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from allocation.models import GrabWindow, Store
from wms.work import WorkItem


def open_windows_for(user, *, now=None) -> int:
    """Windows open now that one of ``user``'s active stores may grab in (two queries: his
    stores, then a COUNT on the windows' status/closes_at index)."""
    stores = list(Store.objects.for_user(user).filter(is_active=True).values_list("pk", "group"))
    if not stores:
        return 0
    ids = sorted(pk for pk, _group in stores)
    groups = sorted({group for _pk, group in stores if group})
    return (
        GrabWindow.objects.filter(
            status=GrabWindow.Status.OPEN, closes_at__gt=now or timezone.now()
        )
        .filter(
            Q(scope=GrabWindow.Scope.ALL)
            | Q(scope=GrabWindow.Scope.LIST, stores__in=ids)
            | Q(scope=GrabWindow.Scope.GROUP, store_group__in=groups)
        )
        .distinct()
        .count()
    )


def allocation_work(user) -> list[WorkItem]:
    if user.has_perm("allocation.manage_windows") and user.has_perm("allocation.view_all_stores"):
        count = GrabWindow.objects.filter(
            status=GrabWindow.Status.OPEN, closes_at__gt=timezone.now()
        ).count()
        return [
            WorkItem(
                key="open_grab_windows",
                label=_("Grab windows open now"),
                count=count,
                url=reverse("allocation:window-list"),
                order=70,
            )
        ]
    if user.has_perm("allocation.grab"):
        return [
            WorkItem(
                key="open_grab_windows",
                label=_("Grab windows open now for my stores"),
                count=open_windows_for(user),
                url=reverse("allocation:grab-home"),
                order=70,
            )
        ]
    return []
