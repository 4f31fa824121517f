"""factory_boy factories for the inventory app (goods catalogue and stock ledger)."""

import factory

from inventory.models import Batch, Brand, Category, ComboComponent, Goods


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")


class GoodsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Goods

    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    name = factory.Sequence(lambda n: f"Goods {n}")
    category = factory.SubFactory(CategoryFactory)
    brand = factory.SubFactory(BrandFactory)
    unit = "pcs"
    shelf_life_days = 365


class ComboComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ComboComponent

    combo = factory.SubFactory(GoodsFactory, is_combo=True)
    component = factory.SubFactory(GoodsFactory)
    quantity = 1


class BatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Batch

    goods = factory.SubFactory(GoodsFactory)
    batch_no = factory.Sequence(lambda n: f"B{n:05d}")


# inventory: stock — stock is never created with a factory: it is received through the ledger.
def receive_stock(goods, bin, quantity: int, *, batch=None, operator=None):
    """Receive ``quantity`` of ``goods`` into ``bin`` (inbound purchase) and return the balance."""
    from inventory import ledger
    from inventory.models import StockBalance, StockMovement

    ledger.receive(
        kind=StockMovement.Kind.INBOUND_PURCHASE,
        lines=[
            ledger.Receipt(
                goods_id=goods.pk,
                bin_id=bin.pk,
                quantity=quantity,
                batch_id=batch.pk if batch else None,
            )
        ],
        document=ledger.Document(type="other", ref="test"),
        operator=operator,
    )
    return StockBalance.objects.get(goods=goods, bin=bin, batch=batch)
