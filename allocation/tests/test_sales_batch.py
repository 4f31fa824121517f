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


def test_store_codes_differing_only_in_case_are_matched_exactly_never_guessed(world):
    from allocation.tests.factories import StoreFactory

    # given two stores of the warehouse manager whose codes differ only in case
    lower = StoreFactory(code="a01x")
    upper = StoreFactory(code="A01X")
    # when rows name each exactly, and one names neither exactly
    store_sales_bulk_set(
        user=world.manager,
        rows=[_row(store="a01x", units_sold=1), _row(store="A01X", units_sold=2)],
    )
    # then each store got its own row
    assert dict(StoreSales.objects.values_list("store_id", "units_sold")) == {
        lower.pk: 1,
        upper.pk: 2,
    }
    with pytest.raises(SalesRowsInvalid) as refused:
        store_sales_bulk_set(user=world.manager, rows=[_row(store="A01x", units_sold=3)])
    assert "differ only in case" in refused.value.rows[0]["store"][0]
    assert StoreSales.objects.count() == 2
