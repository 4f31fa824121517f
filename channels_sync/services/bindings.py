"""Warehouse bindings of a shop (绑定 / 解绑), following the unbinding guide's controls.

Every change is a whole new ``BindingState`` proposed against the current one:
- ``binding_change_request(shop, after, action, summary, user)``: records a ``BindingChange``
  with the before/after snapshots. When the shop does not require review it is applied at once
  (status APPLIED, confirmed by the requester); otherwise it waits (PENDING).
- ``binding_change_confirm(change, user)``: a holder of ``confirm_binding`` other than the
  requester applies a pending change — only if the shop's bindings still equal its ``before``
  (compare-and-set under the shop row lock; otherwise ``StaleBindings``, nothing changes).
- ``binding_change_reject(change, user)``.
- ``binding_rollback(change, user)``: proposes the state as it was just before ``change``
  (its ``before``) as a new ROLLBACK change, reviewed like any other.
Applying writes the bindings and marks every goods the shop sells dirty in the same
transaction: the next push follows the new bindings. Orders already routed keep their
warehouse (routing reads bindings only when an order is routed, issue 12).

Locking: every path that writes bindings (request without review, confirm, and rollback, which
is a request) takes the shop row FOR UPDATE first, before reading the current state, writing
bindings or marking goods dirty; so do shop settings edits (``services.shops.shop_save``). A
running push holds the same row FOR SHARE while it claims a round and re-reads bindings and
settings, so a round sees the bindings either wholly before or wholly after a change, and the
outbox rows a change writes are claimed by a later round, never lost between two.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_sync.exceptions import ChannelError, NotAllowed, StaleBindings
from channels_sync.hooks import mark_goods_dirty
from channels_sync.models import Binding, BindingChange, BindingException, Shop
from channels_sync.selectors import BindingState, binding_state, listing_sellable
from inventory.ledger import MAX_QUANTITY


def state_with(
    state: BindingState,
    *,
    bind: tuple[int, int] | None = None,
    unbind: int | None = None,
    exception: tuple[int, int | None, int | None, str | None, int | None] | None = None,
) -> BindingState:
    """A copy of ``state`` with one warehouse bound (id, priority), unbound (id), or one goods/
    listing exception set (mode None removes it)."""
    warehouses = dict(state.warehouses)
    exceptions = {(e[0], e[1], e[2]): e for e in state.exceptions}
    if bind is not None:
        warehouses[bind[0]] = bind[1]
    if unbind is not None:
        warehouses.pop(unbind, None)
        exceptions = {k: e for k, e in exceptions.items() if k[0] != unbind}
    if exception is not None:
        wh, goods_id, listing_id, mode, allotment = exception
        if mode is None:
            exceptions.pop((wh, goods_id, listing_id), None)
        else:
            exceptions[(wh, goods_id, listing_id)] = (
                wh,
                goods_id,
                listing_id,
                mode,
                allotment if mode == "allotment" else None,
            )
    return BindingState(
        warehouses=tuple(sorted(warehouses.items())),
        exceptions=tuple(sorted(exceptions.values(), key=lambda e: (e[0], e[1] or 0, e[2] or 0))),
    )


def binding_preview(shop: Shop, after: BindingState) -> list[dict]:
    """Per matched listing: sellable before and after (the guide's "preview the effect")."""
    from channels_sync.models import Listing

    listings = list(
        Listing.objects.filter(shop=shop, goods__isnull=False)
        .exclude(status="deleted")
        .select_related("goods")
        .order_by("sku", "pk")
    )
    before = listing_sellable(shop, listings)
    later = listing_sellable(shop, listings, state=after)
    return [
        {
            "listing": row,
            "before": before[row.pk].quantity,
            "after": later[row.pk].quantity,
            "changed": before[row.pk].quantity != later[row.pk].quantity,
        }
        for row in listings
        if row.pk in before
    ]


def _check_valid(after: BindingState) -> None:
    """Raise ``ChannelError`` when ``after`` cannot be stored: an exception at a warehouse that
    is not bound, or an allotment that is not a whole number from 0 to the ledger's
    ``MAX_QUANTITY`` (a larger one would not fit the column)."""
    bound = {w for w, _p in after.warehouses}
    for wh, _g, _l, mode, allotment in after.exceptions:
        if wh not in bound:
            raise ChannelError(_("An exception names a warehouse that is not bound."))
        if mode == "allotment" and (
            allotment is None
            or isinstance(allotment, bool)
            or not isinstance(allotment, int)
            or allotment < 0
        ):
            raise ChannelError(_("An allotment must be a whole number of at least 0."))
        if mode == "allotment" and allotment > MAX_QUANTITY:
            raise ChannelError(
                _("An allotment may not exceed %(max)s units.") % {"max": f"{MAX_QUANTITY:,}"}
            )


def binding_change_request(
    *, shop: Shop, after: BindingState, action: str, summary: str, user, rollback_of=None
) -> BindingChange:
    """Record (and, without review, apply) a change of the shop's bindings. Raises
    ``NotAllowed``, ``ChannelError`` (invalid, or nothing would change). Locks the shop row FOR
    UPDATE first (the push reads bindings under FOR SHARE of it), then reads the current
    bindings and ``requires_review`` from the locked row, so neither can move under it."""
    if not user.has_perm("channels_sync.request_binding_change"):
        raise NotAllowed()
    _check_valid(after)
    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=shop.pk)
        before = binding_state(shop)
        if before == after:
            raise ChannelError(_("Nothing would change."))
        change = BindingChange.objects.create(
            shop=shop,
            action=action,
            summary=summary[:500],
            before=before.to_json(),
            after=after.to_json(),
            status=BindingChange.Status.PENDING,
            requested_by=user,
            rollback_of=rollback_of,
        )
        if not shop.requires_review:
            _apply(shop, after)
            BindingChange.objects.filter(pk=change.pk).update(
                status=BindingChange.Status.APPLIED, confirmed_by=user, decided_at=timezone.now()
            )
            change.refresh_from_db()
    return change


def binding_change_confirm(*, change: BindingChange, user) -> BindingChange:
    """Apply a pending change as the second person. Raises ``NotAllowed`` (no permission, or
    the requester), ``StaleBindings`` (the bindings moved since the request), ``ChannelError``
    (decided already, or its state cannot be stored). Locks the shop row FOR UPDATE, then the
    change, before comparing and writing (see the module docstring: a push holds it FOR SHARE)."""
    if not user.has_perm("channels_sync.confirm_binding"):
        raise NotAllowed()
    if change.requested_by_id == user.pk:
        raise NotAllowed(_("The person who requested a change cannot confirm it."))
    _check_valid(BindingState.from_json(change.after))
    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=change.shop_id)
        change = BindingChange.objects.select_for_update().get(pk=change.pk)
        if change.status != BindingChange.Status.PENDING:
            raise ChannelError(_("This change was already decided."))
        if binding_change_is_stale(change):
            raise StaleBindings()
        _apply(shop, BindingState.from_json(change.after))
        BindingChange.objects.filter(pk=change.pk, status="pending").update(
            status=BindingChange.Status.APPLIED, confirmed_by=user, decided_at=timezone.now()
        )
        change.refresh_from_db()
    return change


def binding_change_reject(*, change: BindingChange, user) -> BindingChange:
    if not user.has_perm("channels_sync.confirm_binding"):
        raise NotAllowed()
    updated = BindingChange.objects.filter(pk=change.pk, status="pending").update(
        status=BindingChange.Status.REJECTED, confirmed_by=user, decided_at=timezone.now()
    )
    if not updated:
        raise ChannelError(_("This change was already decided."))
    change.refresh_from_db()
    return change


def binding_change_is_stale(change: BindingChange) -> bool:
    """The shop's bindings moved since ``change`` was requested: confirming it is refused."""
    return binding_state(change.shop) != BindingState.from_json(change.before)


def binding_rollback_state(change: BindingChange) -> BindingState:
    """The bindings a rollback of ``change`` restores (as they were just before it); raises
    ``ChannelError`` unless ``change`` was applied."""
    if change.status != BindingChange.Status.APPLIED:
        raise ChannelError(_("Only an applied change can be rolled back."))
    return BindingState.from_json(change.before)


def binding_rollback(*, change: BindingChange, user) -> BindingChange:
    """Propose the bindings as they were just before ``change`` (reviewed like any change).
    Goes through ``binding_change_request``, which locks the shop row FOR UPDATE before it
    reads or writes the bindings."""
    change = BindingChange.objects.select_related("shop").get(pk=change.pk)
    return binding_change_request(
        shop=change.shop,
        after=binding_rollback_state(change),
        action=BindingChange.Action.ROLLBACK,
        summary=_("Roll back to before change #%(id)s") % {"id": change.pk},
        user=user,
        rollback_of=change,
    )


def _apply(shop: Shop, state: BindingState) -> None:
    """Write ``state`` as the shop's bindings and queue every goods it sells for a push. The
    caller holds the shop row FOR UPDATE (taken at the start of its transaction), so a running
    push, which reads bindings under FOR SHARE of that row, never sees half of them."""
    from channels_sync.services.push import shop_goods_ids

    Binding.objects.filter(shop=shop).exclude(
        warehouse_id__in=[w for w, _p in state.warehouses]
    ).delete()
    for warehouse_id, priority in state.warehouses:
        Binding.objects.update_or_create(
            shop=shop, warehouse_id=warehouse_id, defaults={"priority": priority}
        )
    BindingException.objects.filter(shop=shop).delete()
    BindingException.objects.bulk_create(
        [
            BindingException(
                shop=shop,
                warehouse_id=wh,
                goods_id=goods_id,
                listing_id=listing_id,
                mode=mode,
                allotment=allotment,
            )
            for wh, goods_id, listing_id, mode, allotment in state.exceptions
        ]
    )
    mark_goods_dirty(shop_goods_ids(shop), shop_ids=[shop.pk])


def shop_settings_changed(shop: Shop) -> None:
    """A setting the pushed quantity depends on changed (share, safety stock, location, push or
    the shop switched back on): every goods the shop sells goes out again, in one INSERT. The
    caller holds the shop row FOR UPDATE (see the module docstring)."""
    from channels_sync.services.push import shop_goods_ids

    mark_goods_dirty(shop_goods_ids(shop), shop_ids=[shop.pk])
