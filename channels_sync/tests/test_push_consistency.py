"""What a push sends stays consistent with changes made while it runs: bindings and shop
settings changed mid-push, a worker that died mid-call, a listing unlinked mid-retry."""

import pytest
from django.db import connection, transaction

from channels_sync.adapters.shopify import ShopifyAdapter
from channels_sync.hooks import mark_goods_dirty
from channels_sync.models import BindingException, OutboxItem, Shop
from channels_sync.selectors import binding_state, listing_sellable
from channels_sync.services import push
from channels_sync.services.bindings import binding_change_request, state_with
from channels_sync.tests.conftest import no_sleep
from channels_sync.tests.factories import BindingFactory, ListingFactory, ShopFactory
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


class SmallBatches(ShopifyAdapter):
    """The Shopify adapter with batches of 2 and something done during its first call (what
    another user does while the push's first request is out)."""

    batch_size = 2

    def __init__(self, shop, during_first_call):
        super().__init__(shop, sleep=no_sleep)
        self.during_first_call = during_first_call
        self.set_calls = 0

    def set_levels(self, updates, *, idempotency_key):
        self.set_calls += 1
        if self.set_calls == 1:
            try:
                self.during_first_call()
            finally:
                connection.close()  # the call thread's own connection
        return super().set_levels(updates, idempotency_key=idempotency_key)


def _shop_two_warehouses(fake, *, count=6, in_a=10, in_b=3):
    shop = ShopFactory(api_base_url=fake.url, requires_review=False)
    bin_a, bin_b = BinFactory(), BinFactory()
    BindingFactory(shop=shop, warehouse=bin_a.warehouse, priority=1)
    BindingFactory(shop=shop, warehouse=bin_b.warehouse, priority=2)
    listings = []
    for n in range(count):
        variant = fake.add_variant(f"P-{n}", quantity=0)
        goods = GoodsFactory(sku=f"P-{n}")
        listings.append(
            ListingFactory(
                shop=shop,
                goods=goods,
                sku=goods.sku,
                variant_ref=variant.id,
                item_ref=variant.item_id,
                last_pushed_quantity=0,
            )
        )
        receive_stock(goods, bin_a, in_a)
        receive_stock(goods, bin_b, in_b)
    return shop, bin_a, bin_b, listings


def _shown(fake, listings):
    return [fake.quantity_of(row.sku) for row in listings]


def test_an_unbinding_committed_during_a_push_is_what_the_platform_ends_up_with(
    fake_shopify, monkeypatch, django_user_model
):
    # given 6 listings with 10 in warehouse A and 3 in B, pushed in batches of 2 over claims
    # of 4 goods (several claims, several calls)
    monkeypatch.setattr(push, "CLAIM_MIN", 1)
    shop, bin_a, _bin_b, listings = _shop_two_warehouses(fake_shopify)
    boss = django_user_model.objects.create_superuser("boss", "boss@example.test", "pw")

    def unbind_a():
        after = state_with(binding_state(shop), unbind=bin_a.warehouse_id)
        binding_change_request(shop=shop, after=after, action="unbind", summary="A", user=boss)

    # when another user unbinds warehouse A while the push's first call is out
    summary = push.shop_push(shop.pk, adapter=SmallBatches(shop, unbind_a))
    # then the platform ends with what B holds: nothing of A is promised, nothing is left over
    assert summary.failed == 0
    assert {listing_sellable(shop, [row])[row.pk].quantity for row in listings} == {3}
    assert _shown(fake_shopify, listings) == [3] * 6
    assert not OutboxItem.objects.filter(shop=shop).exists()


def test_a_share_lowered_during_a_push_is_what_the_platform_ends_up_with(fake_shopify, monkeypatch):
    # given 6 listings with 10 available each at a 100 % share
    monkeypatch.setattr(push, "CLAIM_MIN", 1)
    shop, _a, _b, listings = _shop_two_warehouses(fake_shopify, in_a=7, in_b=3)

    def halve_the_share():  # what a settings edit does: lock the shop, change, mark dirty
        with transaction.atomic():
            Shop.objects.select_for_update().filter(pk=shop.pk).update(share_percent=50)
            mark_goods_dirty(push.shop_goods_ids(shop), shop_ids=[shop.pk])

    # when the share goes to 50 % during the first call
    push.shop_push(shop.pk, adapter=SmallBatches(shop, halve_the_share))
    # then every listing ends at half of 10
    assert _shown(fake_shopify, listings) == [5] * 6
    assert not OutboxItem.objects.filter(shop=shop).exists()


def test_a_push_switched_off_during_a_push_claims_nothing_more(fake_shopify, monkeypatch):
    # given 6 listings pushed in claims of 4 goods
    monkeypatch.setattr(push, "CLAIM_MIN", 1)
    shop, _a, _b, listings = _shop_two_warehouses(fake_shopify)

    def switch_off():
        Shop.objects.filter(pk=shop.pk).update(is_stock_push_enabled=False)

    # when the shop's push is switched off during the first call
    summary = push.shop_push(shop.pk, adapter=SmallBatches(shop, switch_off))
    # then what was claimed went out, the rest stays pending for when it is back on
    assert summary.succeeded == 4
    assert _shown(fake_shopify, listings) == [13] * 4 + [0, 0]
    assert sorted(OutboxItem.objects.filter(shop=shop).values_list("goods_id", "status")) == [
        (row.goods_id, "pending") for row in listings[4:]
    ]


def test_the_claims_read_of_bindings_is_the_selectors(fake_shopify):
    # given bindings with a goods exception and a listing exception
    shop, bin_a, bin_b, listings = _shop_two_warehouses(fake_shopify, count=2)
    BindingException.objects.create(
        shop=shop, warehouse=bin_a.warehouse, goods=listings[0].goods, mode="unbound"
    )
    BindingException.objects.create(
        shop=shop, warehouse=bin_b.warehouse, listing=listings[1], mode="allotment", allotment=2
    )
    # then the one-statement read a claim makes equals selectors.binding_state
    assert push._binding_state_now(shop) == binding_state(shop)
