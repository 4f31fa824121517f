"""Platform adapters behind one interface (``base.PlatformAdapter``); ``for_shop`` picks one."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from channels_sync.adapters.base import PlatformAdapter
    from channels_sync.models import Shop


def for_shop(shop: Shop, **client_options) -> PlatformAdapter:
    from channels_sync.adapters import ebay, kogan, rest, shopify

    adapters = {
        "shopify": shopify.ShopifyAdapter,
        "rest": rest.RestAdapter,
        "ebay": ebay.EbayAdapter,
        "kogan": kogan.KoganAdapter,
    }
    return adapters[shop.platform](shop, **client_options)
