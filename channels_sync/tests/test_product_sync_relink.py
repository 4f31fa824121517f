"""Product sync on a matched listing: when the platform keeps its stock on another inventory item,
or the listing comes back after being deleted, the quantity on the platform is unknown and the
goods go out again; a plain update of title or SKU queues nothing."""

from __future__ import annotations

import pytest

from channels_sync.adapters.base import PlatformProduct
from channels_sync.models import OutboxItem
from channels_sync.services.products import _store_page
from channels_sync.tests.factories import ListingFactory, ShopFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _product(listing, **changes) -> PlatformProduct:
    values = {
        "product_ref": listing.product_ref,
        "variant_ref": listing.variant_ref,
        "item_ref": listing.item_ref,
        "sku": listing.sku,
        "barcode": listing.barcode,
        "title": listing.title,
        "status": listing.status,
        "updated_at": None,
    }
    values.update(changes)
    return PlatformProduct(**values)


def _matched(**kwargs):
    shop = ShopFactory()
    listing = ListingFactory(shop=shop, item_ref="gid://shopify/InventoryItem/1", **kwargs)
    listing.last_pushed_quantity = 5
    listing.save(update_fields=["last_pushed_quantity"])
    OutboxItem.objects.all().delete()
    return shop, listing


def _pending(shop, listing) -> bool:
    return OutboxItem.objects.filter(
        shop=shop, goods=listing.goods, status=OutboxItem.Status.PENDING
    ).exists()


def test_a_new_inventory_item_forgets_the_last_pushed_quantity_and_queues_the_goods():
    shop, listing = _matched()
    _store_page(shop, [_product(listing, item_ref="gid://shopify/InventoryItem/2")])
    listing.refresh_from_db()
    assert listing.item_ref == "gid://shopify/InventoryItem/2"
    assert listing.last_pushed_quantity is None
    assert _pending(shop, listing)


def test_a_listing_back_from_deleted_is_queued():
    shop, listing = _matched(status="deleted")
    _store_page(shop, [_product(listing, status="active")])
    listing.refresh_from_db()
    assert listing.status == "active" and listing.last_pushed_quantity is None
    assert _pending(shop, listing)


def test_a_title_change_queues_nothing_and_keeps_the_last_pushed_quantity():
    shop, listing = _matched()
    _store_page(shop, [_product(listing, title="New title", sku=listing.sku)])
    listing.refresh_from_db()
    assert listing.title == "New title" and listing.last_pushed_quantity == 5
    assert not _pending(shop, listing)
