"""Saving a shop's settings (the shop form; the admin is read only).

``shop_save(shop, fields=..., credentials=...)``: an edit takes the shop row FOR UPDATE first,
as binding changes do (``services.bindings``): a running push holds it FOR SHARE while it claims
a round and re-reads the settings, so it sees either the old settings and bindings or the new
ones, never half, and the outbox rows written here are claimed by a later round. ``before`` is
read from that locked row (the form has already copied the posted values onto ``shop``). When a
setting of ``PUSH_SETTINGS`` changes and the shop pushes, every goods it sells is queued in the
same transaction: share and safety stock change every quantity, a new location needs them all,
and a shop switched back on (or whose push is switched back on) missed the moves made meanwhile
(the outbox skips it then).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.db import transaction

from channels_sync.hooks import queue_push_soon
from channels_sync.models import Shop
from channels_sync.services.bindings import shop_settings_changed

#: Shop settings the pushed quantity depends on: a change marks every goods of the shop dirty.
PUSH_SETTINGS = (
    "share_percent",
    "safety_stock",
    "is_stock_push_enabled",
    "is_active",
    "location_ref",
)


def shop_save(shop: Shop, *, fields: list[str], credentials: Callable[[dict], dict]) -> Shop:
    """Save ``shop`` (new, or an existing one carrying the edited ``fields``); its credentials
    are ``credentials(stored)``, from the credentials stored on the locked row (write-only
    secrets: an empty field keeps the stored value). An edit writes only ``fields`` and the
    credentials, and queues a push of every goods when a ``PUSH_SETTINGS`` value changed."""
    with transaction.atomic():
        before = stored = None
        if shop.pk is not None:
            row = (
                Shop.objects.select_for_update()
                .values_list(*PUSH_SETTINGS, "credentials")
                .get(pk=shop.pk)
            )
            before, stored = row[:-1], row[-1]
        shop.credentials = credentials(dict(stored or {}))
        if before is None:
            shop.save()
            return shop
        shop.save(update_fields=[*fields, "credentials"])
        after = tuple(getattr(shop, name) for name in PUSH_SETTINGS)
        if before != after and shop.is_active and shop.is_stock_push_enabled:
            shop_settings_changed(shop)
            transaction.on_commit(partial(queue_push_soon, [shop.pk]))
    return shop
