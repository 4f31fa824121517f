"""Store figures (sales in the lookback, store stock, days of cover), for all pairs or only the
(store, goods) pairs a window close has requests for: the same figures either way."""

import datetime

import pytest
from django.utils import timezone

from allocation.models import StoreSales
from allocation.services import stores as store_figures

pytestmark = pytest.mark.django_db


def test_asked_pairs_get_the_same_figures_as_the_whole_table(world):
    today = timezone.localdate()
    rows = []
    for store, units in ((world.store_a, 3), (world.store_b, 5), (world.store_c, 7)):
        for goods in (world.goods, world.other_goods):
            for days_ago in (1, 2, 40):
                rows.append(
                    StoreSales(
                        store=store,
                        goods=goods,
                        day=today - datetime.timedelta(days=days_ago),
                        units_sold=units,
                        on_hand=units * 10 if days_ago == 1 else None,
                    )
                )
    StoreSales.objects.bulk_create(rows)
    world.policy.lookback_days = 30
    stores = [world.store_a.pk, world.store_b.pk, world.store_c.pk]
    goods = [world.goods.pk, world.other_goods.pk]
    every = store_figures.store_figures(policy=world.policy, store_ids=stores, goods_ids=goods)
    asked = {(world.store_a.pk, world.goods.pk), (world.store_c.pk, world.other_goods.pk)}
    some = store_figures.store_figures(
        policy=world.policy, store_ids=stores, goods_ids=goods, pairs=asked
    )
    assert set(some) == asked
    assert all(some[key] == every[key] for key in asked)
    figures = every[(world.store_b.pk, world.goods.pk)]
    assert figures.sales == 10 and figures.on_hand == 50  # the day 40 days ago is outside
    assert figures.cover == pytest.approx(50 / (10 / 30))
