import pytest

from channels_sync.exceptions import NotAllowed, StaleBindings
from channels_sync.models import BindingChange, OutboxItem
from channels_sync.selectors import binding_state, listing_sellable
from channels_sync.services.bindings import (
    binding_change_confirm,
    binding_change_request,
    binding_preview,
    binding_rollback,
    state_with,
)
from channels_sync.tests.factories import BindingFactory, ListingFactory, ShopFactory
from inventory.tests.factories import receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _shop_two_warehouses(**kwargs):
    shop = ShopFactory(**kwargs)
    bin_a, bin_b = BinFactory(), BinFactory()
    BindingFactory(shop=shop, warehouse=bin_a.warehouse, priority=1)
    BindingFactory(shop=shop, warehouse=bin_b.warehouse, priority=2)
    listing = ListingFactory(shop=shop)
    receive_stock(listing.goods, bin_a, 10)
    receive_stock(listing.goods, bin_b, 4)
    return shop, bin_a, bin_b, listing


def test_unbind_with_review_waits_for_another_person_then_applies_and_rolls_back(people):
    operator, supervisor = people
    shop, bin_a, _bin_b, listing = _shop_two_warehouses(requires_review=True)
    after = state_with(binding_state(shop), unbind=bin_a.warehouse_id)
    # the preview shows the effect before saving
    preview = binding_preview(shop, after)
    assert [(p["before"], p["after"]) for p in preview] == [(14, 4)]
    change = binding_change_request(
        shop=shop, after=after, action="unbind", summary="unbind A", user=operator
    )
    assert change.status == "pending"
    assert listing_sellable(shop, [listing])[listing.pk].quantity == 14
    with pytest.raises(NotAllowed):
        binding_change_confirm(change=change, user=operator)
    OutboxItem.objects.all().delete()
    binding_change_confirm(change=change, user=supervisor)
    assert listing_sellable(shop, [listing])[listing.pk].quantity == 4
    assert OutboxItem.objects.filter(shop=shop, goods=listing.goods).exists()
    # rollback restores the bindings as they were before the change
    rollback = binding_rollback(change=change, user=operator)
    binding_change_confirm(change=rollback, user=supervisor)
    assert listing_sellable(shop, [listing])[listing.pk].quantity == 14
    assert BindingChange.objects.filter(shop=shop).count() == 2


def test_confirm_refuses_when_bindings_moved_since_the_request(people):
    operator, supervisor = people
    shop, bin_a, bin_b, _listing = _shop_two_warehouses(requires_review=True)
    first = binding_change_request(
        shop=shop,
        after=state_with(binding_state(shop), unbind=bin_a.warehouse_id),
        action="unbind",
        summary="a",
        user=operator,
    )
    second = binding_change_request(
        shop=shop,
        after=state_with(binding_state(shop), unbind=bin_b.warehouse_id),
        action="unbind",
        summary="b",
        user=operator,
    )
    binding_change_confirm(change=second, user=supervisor)
    with pytest.raises(StaleBindings):
        binding_change_confirm(change=first, user=supervisor)
    first.refresh_from_db()
    assert first.status == "pending"


def test_binding_changes_are_append_only(people):
    from django.db import DatabaseError, transaction

    operator, _supervisor = people
    shop, bin_a, _bin_b, _listing = _shop_two_warehouses()
    change = binding_change_request(
        shop=shop,
        after=state_with(binding_state(shop), unbind=bin_a.warehouse_id),
        action="unbind",
        summary="a",
        user=operator,
    )
    assert change.status == "applied"
    with pytest.raises(DatabaseError), transaction.atomic():
        BindingChange.objects.filter(pk=change.pk).update(summary="x", status="pending")
    with pytest.raises(DatabaseError), transaction.atomic():
        BindingChange.objects.filter(pk=change.pk).delete()
