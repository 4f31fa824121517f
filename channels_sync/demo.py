"""Demo data: a Shopify shop pointed at the local fake the Procfile starts (``fakeshop``), with
stock push on and two-person review of binding changes. No warehouse feeds it yet: binding one
is the first thing a new user does. Idempotent."""

import os

from channels_sync.fakes.demo import DEMO_TOKEN
from channels_sync.models import Shop


def load() -> list[str]:
    port = os.environ.get("WMS_DEMO_SHOP_PORT", "8765")
    shop, created = Shop.objects.get_or_create(
        name="Demo Shopify shop",
        defaults={
            "platform": "shopify",
            "domain": "demo-shop.myshopify.com",
            "api_base_url": f"http://127.0.0.1:{port}",
            "credentials": {"access_token": DEMO_TOKEN},
            "is_stock_push_enabled": True,
            "requires_review": True,
        },
    )
    lines = [f"demo shop {'created' if created else 'kept'}: {shop.name} -> {shop.api_base_url}"]
    from channels_sync.demo_orders import load_orders

    return lines + load_orders(shop, port)
