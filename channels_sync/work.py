"""Platform sync's items on the home page of work (wms/work.py): listings whose last push
failed, and platform orders left short of stock."""

from __future__ import annotations

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from channels_sync.models import Order
from channels_sync.selectors import sync_failures_recent
from wms.work import WorkItem


def channels_work(user) -> list[WorkItem]:
    """One COUNT each: failed pushes of the last 24 hours not pushed successfully since (the
    sync records' shop/status/time index), short orders (the orders' status index)."""
    items = []
    if user.has_perm("channels_sync.view_syncrecord"):
        items.append(
            WorkItem(
                key="failed_pushes",
                label=_("Listings whose stock push failed in the last 24 hours"),
                count=sync_failures_recent(user),
                url=f"{reverse('channels_sync:sync-log')}?{urlencode({'status': 'failure'})}",
                order=60,
            )
        )
    if user.has_perm("channels_sync.view_order"):
        items.append(
            WorkItem(
                key="short_orders",
                label=_("Platform orders short of stock"),
                count=Order.objects.filter(status=Order.Status.SHORT).count(),
                url=f"{reverse('channels_sync:order-list')}?{urlencode({'status': 'short'})}",
                order=61,
            )
        )
    return items
