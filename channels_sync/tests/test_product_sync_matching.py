"""Product sync stores and matches listings page by page: by SKU (case-insensitive), then by
barcode, only a single active goods; each match audited and queued for a push; a listing
unlinked by hand is never matched automatically again; a constant number of queries per page."""

from __future__ import annotations

import pytest
from django.db import connection

from channels_sync.models import Listing, ListingLinkEvent, OutboxItem
from channels_sync.services.products import (
    listing_unlink,
    listings_auto_match_all,
    product_sync_run,
    product_sync_start,
)
from channels_sync.tests.factories import ShopFactory
from inventory.tests.factories import ComboComponentFactory, GoodsFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("syncer")


def _sync(shop, user):
    run = product_sync_start(shop=shop, mode="full", user=user)
    return product_sync_run(run.pk)


def _links(shop) -> dict[str, tuple]:
    return {
        row.sku: (row.goods_id, row.matched_by)
        for row in Listing.objects.filter(shop=shop).order_by("pk")
    }


def test_a_sync_matches_by_sku_then_barcode_audits_each_match_and_queues_the_goods(
    fake_shopify, user
):
    # given: goods, and the platform's variants that may be them
    cap = GoodsFactory(sku="Cap-Red")
    mug = GoodsFactory(sku="MUG-1", barcode="9300000000017")
    old = GoodsFactory(sku="OLD-1", is_active=False)
    hat = GoodsFactory(sku="HAT")
    scarf = GoodsFactory(sku="SCARF", barcode="9300000000024")
    box = GoodsFactory(sku="BOX-2CAPS", is_combo=True)
    ComboComponentFactory(combo=box, component=cap, quantity=2)
    fake_shopify.add_variant("cap-red")  # SKU, whatever its case
    fake_shopify.add_variant("MUG-OLD", barcode="9300000000017")  # no SKU match: the barcode
    fake_shopify.add_variant(old.sku)  # inactive goods are never matched
    fake_shopify.add_variant("NOPE")  # nothing
    fake_shopify.add_variant("HAT", barcode=scarf.barcode)  # the SKU wins over the barcode
    fake_shopify.add_variant("box-2caps")  # a combo: its component is what moves its stock
    shop = ShopFactory(api_base_url=fake_shopify.url)

    # when
    run = _sync(shop, user)

    # then
    assert (run.status, run.created, run.matched) == ("done", 6, 4)
    assert _links(shop) == {
        "cap-red": (cap.pk, "sku"),
        "MUG-OLD": (mug.pk, "barcode"),
        "OLD-1": (None, ""),
        "NOPE": (None, ""),
        "HAT": (hat.pk, "sku"),
        "box-2caps": (box.pk, "sku"),
    }
    assert sorted(
        ListingLinkEvent.objects.filter(action="auto").values_list("listing__sku", "goods_after")
    ) == sorted([("cap-red", cap.pk), ("MUG-OLD", mug.pk), ("HAT", hat.pk), ("box-2caps", box.pk)])
    queued = OutboxItem.objects.filter(shop=shop, status="pending")
    assert sorted(queued.values_list("goods_id", flat=True)) == sorted([cap.pk, mug.pk, hat.pk])


def test_a_listing_unlinked_by_hand_stays_unlinked_through_later_syncs_and_auto_match_all(
    fake_shopify, user
):
    # given: a listing the sync matched by SKU, which a user then unlinked (a wrong match)
    goods = GoodsFactory(sku="TEA-1")
    fake_shopify.add_variant("TEA-1")
    shop = ShopFactory(api_base_url=fake_shopify.url)
    _sync(shop, user)
    listing = Listing.objects.get(shop=shop)
    assert listing.goods_id == goods.pk
    listing_unlink(listing=listing, user=user)

    # when: the next sync runs, and someone presses "auto-match all"
    run = _sync(shop, user)
    matched = listings_auto_match_all(shop=shop)

    # then: it stays unlinked (only a person links it again), with no automatic event
    assert (run.matched, matched) == (0, 0)
    assert _links(shop) == {"TEA-1": (None, "")}
    assert ListingLinkEvent.objects.filter(listing=listing, action="auto").count() == 1


def test_auto_match_all_matches_the_unmatched_listings_in_chunks(fake_shopify, user, monkeypatch):
    # given: listings stored before their goods existed
    monkeypatch.setattr("channels_sync.services.products.AUTO_MATCH_CHUNK", 2)
    for n in range(5):
        fake_shopify.add_variant(f"LATE-{n}")
    shop = ShopFactory(api_base_url=fake_shopify.url)
    assert _sync(shop, user).matched == 0
    goods = [GoodsFactory(sku=f"LATE-{n}") for n in range(4)]

    # when
    matched = listings_auto_match_all(shop=shop)

    # then: every listing with goods is matched, across the chunks
    assert matched == 4
    assert _links(shop) == {
        **{f"LATE-{n}": (goods[n].pk, "sku") for n in range(4)},
        "LATE-4": (None, ""),
    }


def _queries_of_a_sync(fake, user, count: int, prefix: str) -> int:
    for n in range(count):
        GoodsFactory(sku=f"{prefix}-{n}")
        fake.add_variant(f"{prefix}-{n}" if n % 2 else f"{prefix}-X{n}")
    shop = ShopFactory(api_base_url=fake.url)
    run = product_sync_start(shop=shop, mode="full", user=user)
    statements = []

    def counter(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        run = product_sync_run(run.pk)
    assert run.created == count and run.matched == count // 2
    return len(statements)


def test_a_page_is_stored_and_matched_in_a_constant_number_of_queries(user):
    from channels_sync.fakes import FakeServer
    from channels_sync.fakes.shopify import FakeShopify

    # given: two catalogues of one page each, 10 and 60 variants, half of them matching goods
    counts = []
    for count, prefix in ((10, "SMALL"), (60, "LARGE")):
        fake = FakeShopify()
        with FakeServer(fake) as server:
            fake.url = server.url
            counts.append(_queries_of_a_sync(fake, user, count, prefix))

    # then: the same number of statements (one or two rows at a time would make it grow)
    assert counts[0] == counts[1], counts
