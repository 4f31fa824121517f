import pytest

from channels_sync.adapters.http import PlatformError
from channels_sync.adapters.shopify import ShopifyAdapter
from channels_sync.fakes.shopify import LOCATION_ID
from channels_sync.models import OutboxItem, Shop, SyncRecord
from channels_sync.services.push import shop_push
from channels_sync.tests.conftest import no_sleep
from channels_sync.tests.factories import BindingFactory, ShopFactory, listed_on
from inventory import ledger
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _setup(fake, count=3, quantity=5):
    shop = ShopFactory(api_base_url=fake.url)
    bin_a = BinFactory()
    BindingFactory(shop=shop, warehouse=bin_a.warehouse)
    listings = []
    for n in range(count):
        goods = GoodsFactory(sku=f"P-{n}")
        listings.append(listed_on(fake, shop, goods))
        receive_stock(goods, bin_a, quantity + n)
    return shop, bin_a, listings


def _adapter(shop):
    return ShopifyAdapter(shop, sleep=no_sleep)


def test_push_sends_sellable_quantities_and_records_each_listing(fake_shopify):
    shop, _bin, listings = _setup(fake_shopify)
    summary = shop_push(shop.pk, adapter=_adapter(shop))
    assert summary.succeeded == 3 and summary.failed == 0
    assert [fake_shopify.quantity_of(f"P-{n}") for n in range(3)] == [5, 6, 7]
    assert fake_shopify.set_calls == 1
    record = SyncRecord.objects.get(listing=listings[2])
    assert (record.quantity, record.previous_quantity, record.status) == (7, 0, "success")
    assert record.inputs["warehouses"][0]["on_hand"] == 7
    assert not OutboxItem.objects.filter(shop=shop).exists()


def test_the_looked_up_location_is_kept_so_later_pushes_do_not_ask_again(fake_shopify):
    # given a shop that left its location empty ("the shop's first location")
    shop, bin_a, listings = _setup(fake_shopify, count=1)
    assert shop.location_ref == ""
    first = shop_push(shop.pk, adapter=_adapter(shop))
    # then the first push asked for the location once, and the shop keeps it
    assert (first.calls, fake_shopify.graphql_calls) == (2, 2)
    shop.refresh_from_db()
    assert shop.location_ref == LOCATION_ID
    # when the goods move again, the next push is the one set call
    receive_stock(listings[0].goods, bin_a, 4)
    second = shop_push(shop.pk, adapter=_adapter(shop))
    assert (second.succeeded, second.calls, fake_shopify.graphql_calls) == (1, 1, 3)
    assert fake_shopify.quantity_of("P-0") == 9


def test_a_location_set_meanwhile_is_not_overwritten_by_the_looked_up_one(fake_shopify):
    shop, _bin, _listings = _setup(fake_shopify, count=1)
    adapter = _adapter(shop)  # built while the location was empty
    Shop.objects.filter(pk=shop.pk).update(location_ref="gid://shopify/Location/99")
    shop_push(shop.pk, adapter=adapter)
    shop.refresh_from_db()
    assert shop.location_ref == "gid://shopify/Location/99"


def test_push_batches_at_most_250_quantities_per_call(fake_shopify):
    shop, _bin, _listings = _setup(fake_shopify, count=260, quantity=1)
    summary = shop_push(shop.pk, adapter=_adapter(shop))
    assert summary.succeeded == 260
    assert fake_shopify.set_calls == 2


def test_stale_compare_quantity_is_reread_and_recomputed_never_blind(fake_shopify):
    shop, _bin, listings = _setup(fake_shopify, count=1)
    # the platform sold 2 meanwhile: our expected value (0) is stale
    fake_shopify.levels[listings[0].item_ref] = 3
    summary = shop_push(shop.pk, adapter=_adapter(shop))
    assert summary.succeeded == 1
    record = SyncRecord.objects.get(listing=listings[0])
    assert (record.quantity, record.previous_quantity) == (5, 3)
    assert fake_shopify.quantity_of("P-0") == 5


def test_platform_down_records_failure_keeps_goods_dirty_then_drains(fake_shopify):
    shop, _bin, listings = _setup(fake_shopify, count=2)
    fake_shopify.fail_next("status", status=500, times=4)
    summary = shop_push(shop.pk, adapter=_adapter(shop))
    assert summary.failed == 2
    assert SyncRecord.objects.filter(status="failure").count() == 2
    pending = OutboxItem.objects.filter(shop=shop, status="pending")
    assert pending.count() == 2 and all(r.attempts == 1 for r in pending)
    # when the platform is back and the backoff has passed
    pending.update(claimed_at=None)
    summary = shop_push(shop.pk, adapter=_adapter(shop))
    assert summary.succeeded == 2
    assert fake_shopify.quantity_of("P-1") == 6
    assert not OutboxItem.objects.filter(shop=shop).exists()


def test_429_with_retry_after_is_retried_and_honoured(fake_shopify):
    shop, _bin, _listings = _setup(fake_shopify, count=1)
    waits = []
    adapter = ShopifyAdapter(shop, sleep=waits.append)
    fake_shopify.fail_next("throttle", retry_after=2)
    summary = shop_push(shop.pk, adapter=adapter)
    assert summary.succeeded == 1
    assert waits and waits[0] >= 2


def test_leaky_bucket_paces_the_client(fake_shopify):
    fake_shopify.bucket_max = 15
    fake_shopify.available = 15
    fake_shopify.restore_rate = 1000
    shop, _bin, _listings = _setup(fake_shopify, count=1)
    waits = []
    adapter = ShopifyAdapter(shop, sleep=waits.append)
    adapter.location_id()  # learns the bucket from extensions.cost
    adapter._bucket = (0.0, 15.0, 10.0, adapter.clock())
    adapter.graphql("query { locations(first: 1) { nodes { id } } }", {}, cost=5)
    assert waits and waits[0] == pytest.approx(0.5, abs=0.05)


def test_worker_crash_mid_push_resends_the_same_request_with_the_same_key(fake_shopify):
    from datetime import timedelta

    from django.utils import timezone

    shop, _bin, listings = _setup(fake_shopify, count=1)
    key = "crash-key-1"
    # given a row left SENDING by a dead worker, whose request reached the platform
    row = OutboxItem.objects.get(shop=shop)
    sent = [[key, listings[0].pk, listings[0].item_ref, 5, 0]]
    OutboxItem.objects.filter(pk=row.pk).update(
        status="sending",
        idempotency_key=key,
        payload={"sent": sent},
        claimed_at=timezone.now() - timedelta(hours=1),
    )
    adapter = _adapter(shop)
    adapter.set_levels(
        [ledger_update(listings[0].item_ref, 5, 0)], idempotency_key=key
    )  # the first attempt did arrive
    # when the next push runs
    summary = shop_push(shop.pk, adapter=_adapter(shop))
    # then the replay succeeded (same key, same parameters) and nothing was applied twice
    assert summary.failed == 0
    assert fake_shopify.quantity_of("P-0") == 5
    assert SyncRecord.objects.filter(idempotency_key=key, status="success").exists()
    assert not OutboxItem.objects.filter(shop=shop, status="sending").exists()


def ledger_update(item, quantity, expected):
    from channels_sync.adapters.base import LevelUpdate

    return LevelUpdate(item, quantity, expected)


def test_freezing_stock_lowers_the_next_push(fake_shopify):
    shop, bin_a, listings = _setup(fake_shopify, count=1)
    shop_push(shop.pk, adapter=_adapter(shop))
    balance = listings[0].goods.balances.get() if hasattr(listings[0].goods, "balances") else None
    from inventory.models import StockBalance

    balance = StockBalance.objects.get(goods=listings[0].goods)
    ledger.freeze(
        holds=[ledger.Hold(balance_id=balance.pk, quantity=2)],
        document=ledger.Document(type="other", ref="t"),
    )
    shop_push(shop.pk, adapter=_adapter(shop))
    assert fake_shopify.quantity_of("P-0") == 3


def test_batches_span_claims_so_calls_are_the_minimum_and_keys_are_stored_per_row(
    fake_shopify, monkeypatch
):
    # given: claims of 4 goods, batches of 3 (a batch per claim would take 4 calls for 8)
    from channels_sync.services import push

    monkeypatch.setattr(push, "CLAIM_BATCHES", 1)
    monkeypatch.setattr(push, "CLAIM_MIN", 4)
    monkeypatch.setattr(ShopifyAdapter, "batch_size", 3)
    shop, _bin, _listings = _setup(fake_shopify, count=8, quantity=2)
    sent_keys = []
    real = push._mark_sending

    def spy(payload, nothing):
        real(payload, nothing)
        sent_keys.extend(
            OutboxItem.objects.filter(pk__in=list(payload)).values_list(
                "idempotency_key", flat=True
            )
        )

    monkeypatch.setattr(push, "_mark_sending", spy)

    # when
    summary = shop_push(shop.pk, adapter=_adapter(shop))

    # then: ceil(8 / 3) calls, each key stored on its rows before its call, all recorded
    assert summary.succeeded == 8 and summary.failed == 0
    assert fake_shopify.set_calls == 3
    assert len(set(sent_keys)) == 3 and all(sent_keys)
    assert set(SyncRecord.objects.values_list("idempotency_key", flat=True)) == set(sent_keys)
    assert [fake_shopify.quantity_of(f"P-{n}") for n in range(8)] == list(range(2, 10))
    assert not OutboxItem.objects.filter(shop=shop).exists()


def test_a_listing_queued_by_two_claims_never_goes_twice_in_one_call(fake_shopify, monkeypatch):
    # given: a combo listing whose two components are claimed one claim at a time
    from channels_sync.services import push
    from inventory.tests.factories import ComboComponentFactory

    monkeypatch.setattr(push, "CLAIM_BATCHES", 0)  # claims of one goods
    monkeypatch.setattr(push, "CLAIM_MIN", 1)
    monkeypatch.setattr(ShopifyAdapter, "batch_size", 5)
    shop, bin_a, listings = _setup(fake_shopify, count=2, quantity=6)  # components P-0, P-1
    combo = GoodsFactory(sku="COMBO", is_combo=True)
    for listing in listings:
        ComboComponentFactory(combo=combo, component=listing.goods, quantity=2)
    combo_listing = listed_on(fake_shopify, shop, combo)
    sent = []
    real = ShopifyAdapter.set_levels

    def spy(self, updates, *, idempotency_key):
        sent.append([u.item_ref for u in updates])
        return real(self, updates, idempotency_key=idempotency_key)

    monkeypatch.setattr(ShopifyAdapter, "set_levels", spy)

    # when
    summary = shop_push(shop.pk, adapter=_adapter(shop))

    # then: the combo listing went out in two calls (the second by compare-and-set after the
    # first), never twice in one call; the end state is right
    assert summary.failed == 0, summary.errors
    assert all(len(items) == len(set(items)) for items in sent), sent
    assert sum(1 for items in sent if combo_listing.item_ref in items) >= 2
    assert fake_shopify.quantity_of("COMBO") == 3  # min(6 // 2, 7 // 2)
    assert not OutboxItem.objects.filter(shop=shop).exists()


class _DownWhileStockMoves(ShopifyAdapter):
    """The platform is down; during the call the goods receive more stock (a posting leaves a
    newer PENDING row beside the SENDING one)."""

    def __init__(self, shop, goods, bin_):
        super().__init__(shop, sleep=no_sleep)
        self.goods, self.bin = goods, bin_

    def set_levels(self, updates, *, idempotency_key):
        from django.db import connection

        try:
            receive_stock(self.goods, self.bin, 1)
        finally:
            connection.close()  # the call thread's own connection
        raise PlatformError("HTTP 503: down", status=503)


def test_a_posting_during_a_failed_push_waits_the_backoff_too(fake_shopify):
    # given: goods pending for a shop whose platform is down
    shop, bin_a, listings = _setup(fake_shopify, count=1)
    # when: the push fails while the goods move again
    summary = shop_push(shop.pk, adapter=_DownWhileStockMoves(shop, listings[0].goods, bin_a))
    assert summary.failed == 1
    # then: one PENDING row carries the change, with the failure's backoff (not retried at once)
    row = OutboxItem.objects.get(shop=shop)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.claimed_at is not None and "down" in row.last_error
    again = shop_push(shop.pk, adapter=_adapter(shop))
    assert (again.listings, fake_shopify.set_calls) == (0, 0)
    # and once the backoff has passed, the current quantity goes out
    OutboxItem.objects.filter(pk=row.pk).update(claimed_at=None)
    shop_push(shop.pk, adapter=_adapter(shop))
    assert fake_shopify.quantity_of("P-0") == 6
