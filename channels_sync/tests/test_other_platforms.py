"""The REST (own shop), eBay and Kogan adapters against their fakes: product sync with
pagination and matching, then a push in the platform's batch size."""

import math

import pytest

from channels_sync import adapters
from channels_sync.fakes import FakeServer
from channels_sync.fakes.ebay import FakeEbay
from channels_sync.fakes.kogan import FakeKogan
from channels_sync.fakes.rest import FakeRestShop
from channels_sync.models import Listing, ProductSyncRun
from channels_sync.services.products import product_sync_run
from channels_sync.services.push import shop_push
from channels_sync.tests.conftest import no_sleep
from channels_sync.tests.factories import BindingFactory, ShopFactory
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

COUNT = 130


def _rest():
    fake = FakeRestShop()
    for n in range(COUNT):
        fake.add_product(f"G-{n:03d}", quantity=0)
    return fake, {"api_token": "rest_test"}, "rest", lambda f, sku: f.levels[sku], 100


def _ebay():
    fake = FakeEbay()
    for n in range(COUNT):
        fake.add_item(f"G-{n:03d}", quantity=0)
    return fake, {"oauth_token": "ebay_test"}, "ebay", lambda f, sku: f.items[sku]["quantity"], 25


def _kogan():
    fake = FakeKogan()
    for n in range(COUNT):
        fake.add_product(f"G-{n:03d}", stock=0)
    creds = {"seller_id": "seller-1", "seller_token": "kogan_test"}
    return fake, creds, "kogan", lambda f, sku: f.products[sku]["stock"], 500


@pytest.mark.parametrize("make", [_rest, _ebay, _kogan], ids=["rest", "ebay", "kogan"])
def test_sync_match_and_push_in_the_platform_batch_size(make):
    fake, credentials, platform, quantity_of, batch = make()
    with FakeServer(fake) as server:
        shop = ShopFactory(platform=platform, api_base_url=server.url, credentials=credentials)
        bin_a = BinFactory()
        BindingFactory(shop=shop, warehouse=bin_a.warehouse)
        goods = [GoodsFactory(sku=f"G-{n:03d}") for n in range(COUNT)]
        for g in goods[:3]:
            receive_stock(g, bin_a, 7)
        run = ProductSyncRun.objects.create(shop=shop, mode="full")
        adapter = adapters.for_shop(shop, sleep=no_sleep)
        run = product_sync_run(run.pk, adapter=adapter)
        assert run.status == "done", run.message
        assert Listing.objects.filter(shop=shop, goods__isnull=False).count() == COUNT
        # every listing was queued by its match; push them all
        adapter = adapters.for_shop(shop, sleep=no_sleep)
        fake.fail_next("throttle", retry_after=0)
        summary = shop_push(shop.pk, adapter=adapter)
        assert summary.succeeded == COUNT and summary.failed == 0, summary.errors
        assert quantity_of(fake, "G-000") == 7 and quantity_of(fake, "G-100") == 0
        calls = getattr(fake, "update_calls", None) or getattr(fake, "post_calls", None)
        assert calls == math.ceil(COUNT / batch)
