"""What a push sends stays consistent with changes made while it runs: bindings and shop
settings changed mid-push, a worker that died mid-call, a listing unlinked mid-retry."""

from datetime import timedelta

import psycopg2
import pytest
from django.db import connection, transaction
from django.utils import timezone, translation

from channels_sync.adapters.ebay import EbayAdapter
from channels_sync.adapters.shopify import ShopifyAdapter
from channels_sync.fakes import FakeServer
from channels_sync.fakes.ebay import FakeEbay
from channels_sync.hooks import mark_goods_dirty
from channels_sync.models import BindingException, OutboxItem, Shop, SyncRecord
from channels_sync.selectors import binding_state, listing_sellable
from channels_sync.services import push
from channels_sync.services.bindings import binding_change_request, state_with
from channels_sync.services.products import listing_unlink
from channels_sync.tests.conftest import no_sleep
from channels_sync.tests.factories import BindingFactory, ListingFactory, ShopFactory, listed_on
from inventory import ledger
from inventory.models import StockMovement
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
        goods = GoodsFactory(sku=f"P-{n}")
        listings.append(listed_on(fake, shop, goods))
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


class RecordingEbay(EbayAdapter):
    """The eBay adapter, keeping every quantity it sent, in order."""

    def __init__(self, shop):
        super().__init__(shop, sleep=no_sleep)
        self.sent: list[int] = []

    def set_levels(self, updates, *, idempotency_key):
        self.sent.extend(u.quantity for u in updates)
        return super().set_levels(updates, idempotency_key=idempotency_key)


def _left_sending_by_a_dead_worker(listing, quantity, expected, *, key="dead-claim"):
    """The outbox row of the listing's goods as a worker leaves it when it dies mid-call."""
    row = OutboxItem.objects.get(shop=listing.shop, goods=listing.goods, status="pending")
    sent = [[key, listing.pk, listing.item_ref, quantity, expected]]
    OutboxItem.objects.filter(pk=row.pk).update(
        status="sending", idempotency_key=key, payload={"sent": sent}, claimed_at=timezone.now()
    )
    return row


def _ship(listing, warehouse_id, quantity):
    ledger.issue(
        kind=StockMovement.Kind.OUTBOUND_OTHER,
        warehouse_id=warehouse_id,
        lines=[ledger.Pick(goods_id=listing.goods_id, quantity=quantity)],
        document=ledger.Document(type="other", ref="test"),
    )


def _age_the_sending_rows(shop):
    OutboxItem.objects.filter(shop=shop, status="sending").update(
        claimed_at=timezone.now() - push.STALE_AFTER - timedelta(minutes=1)
    )


def test_a_dead_workers_request_is_not_replayed_over_a_newer_quantity_on_ebay():
    fake = FakeEbay()
    offer = fake.add_item("E-1", quantity=0)
    with FakeServer(fake) as server:
        # given an eBay listing whose 10 units a worker was sending when it died
        shop = ShopFactory(
            platform="ebay", api_base_url=server.url, credentials={"oauth_token": "ebay_test"}
        )
        bin_a = BinFactory()
        BindingFactory(shop=shop, warehouse=bin_a.warehouse)
        goods = GoodsFactory(sku="E-1")
        listing = ListingFactory(shop=shop, goods=goods, sku="E-1", item_ref=f"E-1#{offer}")
        receive_stock(goods, bin_a, 10)
        _left_sending_by_a_dead_worker(listing, 10, None)
        # and 6 shipped since, the 4 left pushed by the next push
        _ship(listing, bin_a.warehouse_id, 6)
        push.shop_push(shop.pk, adapter=RecordingEbay(shop))
        assert fake.items["E-1"]["quantity"] == 4
        # when the dead worker's row is found stale
        _age_the_sending_rows(shop)
        adapter = RecordingEbay(shop)
        summary = push.shop_push(shop.pk, adapter=adapter)
    # then its 10 never goes out again (eBay has no compare-and-set to refuse it): the goods
    # is recomputed and 4 sent, and no row is left
    assert adapter.sent == [4]
    assert summary.failed == 0
    assert fake.items["E-1"]["quantity"] == 4
    assert not OutboxItem.objects.filter(shop=shop).exists()
    assert not SyncRecord.objects.filter(idempotency_key="dead-claim").exists()


def test_a_dead_workers_request_is_not_sent_while_the_shops_push_is_off(fake_shopify):
    # given a Shopify listing whose request a worker was sending when it died
    shop, _a, _b, listings = _shop_two_warehouses(fake_shopify, count=1)
    _left_sending_by_a_dead_worker(listings[0], 13, 0)
    _age_the_sending_rows(shop)
    # when its push is switched off before the next push runs
    Shop.objects.filter(pk=shop.pk).update(is_stock_push_enabled=False)
    summary = push.shop_push(shop.pk, adapter=ShopifyAdapter(shop, sleep=no_sleep))
    # then nothing is sent; the goods waits PENDING for the push to be on again
    assert fake_shopify.set_calls == 0
    assert summary.listings == 0
    assert list(OutboxItem.objects.filter(shop=shop).values_list("goods_id", "status")) == [
        (listings[0].goods_id, "pending")
    ]
    # and once it is on, the current quantity goes out
    Shop.objects.filter(pk=shop.pk).update(is_stock_push_enabled=True)
    push.shop_push(shop.pk, adapter=ShopifyAdapter(shop, sleep=no_sleep))
    assert fake_shopify.quantity_of("P-0") == 13
    assert not OutboxItem.objects.filter(shop=shop).exists()


def test_a_dead_workers_blind_request_is_recomputed_not_replayed_on_shopify(fake_shopify):
    # given a Shopify listing never pushed before (no quantity to compare with) whose request
    # for 13 a worker was sending when it died, and 6 shipped since
    shop, bin_a, _b, listings = _shop_two_warehouses(fake_shopify, count=1)
    _left_sending_by_a_dead_worker(listings[0], 13, None)
    _ship(listings[0], bin_a.warehouse_id, 6)
    # when the push finds it stale
    _age_the_sending_rows(shop)
    push.shop_push(shop.pk, adapter=ShopifyAdapter(shop, sleep=no_sleep))
    # then the blind 13 is not replayed: only what is there now goes out
    assert "dead-claim" not in fake_shopify.idempotency
    assert fake_shopify.quantity_of("P-0") == 7
    assert not OutboxItem.objects.filter(shop=shop).exists()


def test_a_listing_unlinked_before_its_compare_and_set_retry_is_recorded_and_its_round_settles(
    fake_shopify, django_user_model
):
    # given two listings whose platform quantity moved since we pushed (the first call is
    # refused as stale and retried)
    shop, _a, _b, listings = _shop_two_warehouses(fake_shopify, count=2)
    for row in listings:
        fake_shopify.levels[row.item_ref] = 3
    clerk = django_user_model.objects.create_user("clerk")

    def unlink_the_first():
        listing_unlink(listing=listings[0], user=clerk)

    # when the first is unlinked while the first call is out
    summary = push.shop_push(shop.pk, adapter=SmallBatches(shop, unlink_the_first))
    # then the second is pushed, the first is not (and says why), and no row is left sending
    assert not OutboxItem.objects.filter(shop=shop).exists()
    assert _shown(fake_shopify, listings) == [3, 13]
    assert (summary.succeeded, summary.failed, summary.skipped) == (1, 0, 1)
    record = SyncRecord.objects.get(listing=listings[0])
    assert record.status == "failure"
    assert record.message.startswith("Not pushed: this listing was unlinked")
    assert SyncRecord.objects.get(listing=listings[1]).status == "success"
    with translation.override("zh-hans"):
        assert push._not_pushed_message().startswith("未推送")


def test_a_claim_holds_the_shop_row_for_share_until_it_commits(fake_shopify, monkeypatch):
    # given a shop with goods to push, and a look at the shop row from another connection
    # while the claim is in its transaction
    shop, _a, _b, _listings = _shop_two_warehouses(fake_shopify, count=1)
    seen: list[str] = []

    def try_locks(sql_lock: str) -> str:
        raw = psycopg2.connect(**connection.get_connection_params())
        try:
            cur = raw.cursor()
            cur.execute(f"SELECT 1 FROM channels_sync_shop WHERE id = %s {sql_lock}", [shop.pk])
            return "free"
        except psycopg2.errors.LockNotAvailable:
            return "locked"
        finally:
            raw.rollback()
            raw.close()

    real_wait = push._wait_for_postings

    def look_then_wait(goods_ids):
        seen.append(try_locks("FOR UPDATE NOWAIT"))  # what a binding change or settings edit takes
        seen.append(try_locks("FOR SHARE NOWAIT"))  # readers are not held up
        real_wait(goods_ids)

    monkeypatch.setattr(push, "_wait_for_postings", look_then_wait)
    # when the push claims
    push.shop_push(shop.pk, adapter=ShopifyAdapter(shop, sleep=no_sleep))
    # then a change of the shop's bindings or settings would have waited for the claim
    assert seen == ["locked", "free"]
    assert try_locks("FOR UPDATE NOWAIT") == "free"  # and nothing is held once it is done
