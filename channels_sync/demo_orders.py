"""Demo data of orders (issue 12): the demo shop pulls orders (its fake makes two new ones on
every pull); the same fake process answers the carriers' APIs: 4PX ships orders to China,
Aramex Australia ships to Victoria, Australia Post ships the other AU orders, each by a
logistics rule; local delivery takes what weighs 20 kg or more. Idempotent."""

from __future__ import annotations

from decimal import Decimal

from channels_sync.fakes.aramex import DEMO_ARAMEX
from channels_sync.fakes.auspost import DEMO_AUSPOST
from channels_sync.fakes.fourpx import DEMO_FOURPX
from channels_sync.models import Carrier, LogisticsRule, Shop, ShopOrderSettings


def load_orders(shop: Shop, port: str) -> list[str]:
    Shop.objects.filter(pk=shop.pk).update(is_order_pull_enabled=True)
    ShopOrderSettings.objects.get_or_create(shop=shop)
    carrier, _created = Carrier.objects.get_or_create(
        name="Australia Post (demo)",
        defaults={
            "kind": "auspost",
            "api_base_url": f"http://127.0.0.1:{port}",
            "credentials": dict(DEMO_AUSPOST),
            "default_service": "7E55",
        },
    )
    LogisticsRule.objects.get_or_create(
        name="Heavy orders: local delivery",
        defaults={"priority": 10, "weight_min": Decimal("20"), "method": "local_delivery"},
    )
    LogisticsRule.objects.get_or_create(
        name="Australia: Australia Post parcel post",
        defaults={"priority": 20, "country": "AU", "carrier": carrier, "service": "7E55"},
    )
    fourpx, _created = Carrier.objects.get_or_create(
        name="4PX (demo)",
        defaults={
            "kind": "fourpx",
            "api_base_url": f"http://127.0.0.1:{port}",
            "credentials": dict(DEMO_FOURPX),
            "default_service": "A1",
        },
    )
    aramex, _created = Carrier.objects.get_or_create(
        name="Aramex Australia (demo)",
        defaults={
            "kind": "aramex",
            "api_base_url": f"http://127.0.0.1:{port}",
            "credentials": dict(DEMO_ARAMEX),
            "default_service": "P",
        },
    )
    LogisticsRule.objects.get_or_create(
        name="China: 4PX",
        defaults={"priority": 15, "country": "CN", "carrier": fourpx, "service": "A1"},
    )
    LogisticsRule.objects.get_or_create(
        name="Victoria: Aramex Australia parcel",
        defaults={
            "priority": 16,
            "country": "AU",
            "state": "VIC",
            "carrier": aramex,
            "service": "P",
        },
    )
    return ["demo orders: pull on, Australia Post, 4PX and Aramex carriers, 4 logistics rules"]
