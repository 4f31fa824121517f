"""factory_boy factories of the allocation app. Stock is received through the ledger."""

import factory

from allocation.models import Policy, Store


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    code = factory.Sequence(lambda n: f"S{n:03d}")
    name = factory.Sequence(lambda n: f"Store {n}")


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Policy

    name = factory.Sequence(lambda n: f"Policy {n}")
    cycle = Policy.Cycle.ON_DEMAND
