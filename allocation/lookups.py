"""The store picker (``PickerWidget("store")``): stores the user may see
(``Store.objects.for_user``), active ones, whose code or name starts with what was typed, in
code order with a keyset cursor. Registered with the pickers' endpoint in ``AppConfig.ready``."""

from __future__ import annotations

from django.db.models import Q

from allocation.models import Store
from inventory.selectors.lookup import DEFAULT_LIMIT, MAX_LIMIT, LookupPage, Option, clean_query


def store_lookup(*, user, q: str = "", after: str | None = None, limit: int | None = None):
    q, after = clean_query(q), clean_query(after)
    limit = max(1, min(limit or DEFAULT_LIMIT, MAX_LIMIT))
    rows = Store.objects.for_user(user).filter(is_active=True)
    if q:
        rows = rows.filter(Q(code__istartswith=q) | Q(name__istartswith=q))
    if after:
        rows = rows.filter(code__gt=after)
    rows = list(rows.order_by("code").only("pk", "code", "name")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return LookupPage(
        options=[
            Option(
                id=store.pk,
                value=store.code,
                label=store.code,
                detail=store.name,
            )
            for store in rows
        ],
        after=rows[-1].code if more and rows else None,
    )
