"""A batch of store sales (``store_sales_bulk_set``): the rules of the import, every bad row
named by its index, all or nothing, a day sent again replaces its figures."""

import datetime

import pytest
from django.utils import timezone

from allocation.exceptions import InvalidQuantity, SalesRowsInvalid
from allocation.models import StoreSales
from allocation.services.sales import MAX_BATCH, SalesRow, store_sales_bulk_set, store_sales_check

pytestmark = pytest.mark.django_db


def _row(store="A01", sku="TEA", days_ago=1, units_sold=5, on_hand=None) -> SalesRow:
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    return SalesRow(store, sku, day, units_sold, on_hand)


def test_a_batch_is_written_at_once_and_a_resend_replaces_its_figures(world):
    # given two rows of alice's store, codes in another case
    rows = [_row(store="a01", sku="tea", units_sold=7, on_hand=3), _row(sku="COFFEE")]
    # when they are sent twice, the second time with other figures
    assert store_sales_bulk_set(user=world.alice, rows=rows) == 2
    assert store_sales_bulk_set(user=world.alice, rows=[_row(units_sold=9)]) == 1
    # then one row per store, goods and day, with the last figures
    stored = dict(StoreSales.objects.values_list("goods__sku", "units_sold"))
    assert stored == {"TEA": 9, "COFFEE": 5}
    assert StoreSales.objects.get(goods=world.goods).on_hand is None


def test_every_bad_row_is_named_and_nothing_is_written(world):
    rows = [
        _row(),
        _row(store="B01"),
        _row(sku="NOPE"),
        _row(days_ago=-1),
        _row(days_ago=2, units_sold=10_000_001),
        _row(),
    ]
    with pytest.raises(SalesRowsInvalid) as refused:
        store_sales_bulk_set(user=world.alice, rows=rows)
    assert {i: set(fields) for i, fields in refused.value.rows.items()} == {
        1: {"store"},
        2: {"sku"},
        3: {"day"},
        4: {"units_sold"},
        5: {"day"},
    }
    assert "rows.1.store" in refused.value.message_dict
    assert not StoreSales.objects.exists()
    # the check alone says the same of the rows it is given, by their own keys
    assert set(store_sales_check(user=world.alice, rows={7: rows[1], 9: rows[0]})) == {7}


def test_a_batch_holds_at_most_the_most_rows(world):
    with pytest.raises(InvalidQuantity):
        store_sales_bulk_set(user=world.manager, rows=[_row()] * (MAX_BATCH + 1))
    assert not StoreSales.objects.exists()
