"""factory_boy factories for warehouses, zones and bins."""

import factory

from warehouses.models import Bin, Warehouse, Zone


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    code = factory.Sequence(lambda n: f"WH{n:03d}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")


class ZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Zone

    warehouse = factory.SubFactory(WarehouseFactory)
    code = factory.Sequence(lambda n: f"Z{n:02d}")
    name = factory.Sequence(lambda n: f"Zone {n}")
    type = Zone.Type.STORAGE


class BinFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bin

    zone = factory.SubFactory(ZoneFactory)
    warehouse = factory.SelfAttribute("zone.warehouse")
    code = factory.Sequence(lambda n: f"A-{n:03d}")
