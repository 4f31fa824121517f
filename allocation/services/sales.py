"""Store sales entered on a screen (the import is ``allocation.imports``)."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from allocation.exceptions import AllocationError, NotAllowed
from allocation.models import Store, StoreSales


def store_sales_set(
    *, user, store: Store, goods, day: datetime.date, units_sold: int, on_hand: int | None
) -> StoreSales:
    """Record (or replace) one store's sales of one goods on one day. Refuses another
    manager's store and a day in the future."""
    if not Store.objects.for_user(user).filter(pk=store.pk).exists():
        raise NotAllowed(_("You do not run this store."))
    if day > timezone.localdate():
        raise AllocationError(_("The day is in the future."), field="day")
    row, _created = StoreSales.objects.update_or_create(
        store=store,
        goods=goods,
        day=day,
        defaults={"units_sold": units_sold, "on_hand": on_hand},
    )
    return row
