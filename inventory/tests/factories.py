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
