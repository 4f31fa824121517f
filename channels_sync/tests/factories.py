import factory

from channels_sync.models import Binding, Listing, Shop
from inventory.tests.factories import GoodsFactory


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    platform = "shopify"
    name = factory.Sequence(lambda n: f"Shop {n}")
    domain = factory.Sequence(lambda n: f"shop-{n}.myshopify.com")
    api_base_url = "http://127.0.0.1:9"  # never the real platform: tests pass their fake's URL
    credentials = factory.LazyFunction(lambda: {"access_token": "shpat_test"})
    is_stock_push_enabled = True


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    shop = factory.SubFactory(ShopFactory)
    product_ref = factory.Sequence(lambda n: f"gid://shopify/Product/{n}")
    variant_ref = factory.Sequence(lambda n: f"gid://shopify/ProductVariant/{n}")
    item_ref = factory.Sequence(lambda n: f"gid://shopify/InventoryItem/{n}")
    sku = factory.Sequence(lambda n: f"L-{n:05d}")
    title = "A listing"
    goods = factory.SubFactory(GoodsFactory)
    matched_by = "sku"


class BindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Binding

    shop = factory.SubFactory(ShopFactory)
    warehouse = factory.SubFactory("warehouses.tests.factories.WarehouseFactory")
    priority = 1


def listed_on(fake, shop: Shop, goods, *, quantity: int = 0) -> Listing:
    """``goods`` listed in ``shop`` on a platform fake: a variant on the fake (its SKU, showing
    ``quantity``) and the matched listing pointing at it, last pushed ``quantity``."""
    variant = fake.add_variant(goods.sku, quantity=quantity)
    return ListingFactory(
        shop=shop,
        goods=goods,
        sku=goods.sku,
        variant_ref=variant.id,
        item_ref=variant.item_id,
        last_pushed_quantity=quantity,
    )
