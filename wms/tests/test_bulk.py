"""wms.bulk.bulk_update_rows: many rows' fields written as they are on the instances, in one
statement on PostgreSQL, whatever the field types (text, numbers, NULLs, foreign keys)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Goods
from inventory.tests.factories import BrandFactory, GoodsFactory
from wms.bulk import bulk_update_rows

pytestmark = pytest.mark.django_db


def test_rows_are_written_field_by_field_and_other_rows_and_fields_stay():
    # given
    brand = BrandFactory()
    rows = [
        GoodsFactory(sku=f"B-{n}", weight=Decimal("1.000"), shelf_life_days=365) for n in range(3)
    ]
    untouched = GoodsFactory(sku="B-X", name="Keep me")
    rows[0].name, rows[0].weight, rows[0].brand = "Tea 罐装", Decimal("2.125"), brand
    rows[1].name, rows[1].weight, rows[1].brand = "Mug", None, None
    rows[1].shelf_life_days = None
    rows[2].shelf_life_days = 30
    rows[2].sku = "CHANGED-BUT-NOT-WRITTEN"

    # when
    bulk_update_rows(Goods, rows, ["name", "weight", "brand", "shelf_life_days"])

    # then
    got = {
        g.pk: (g.sku, g.name, g.weight, g.brand_id, g.shelf_life_days)
        for g in Goods.objects.filter(pk__in=[r.pk for r in rows])
    }
    assert got[rows[0].pk] == ("B-0", "Tea 罐装", Decimal("2.125"), brand.pk, 365)
    assert got[rows[1].pk] == ("B-1", "Mug", None, None, None)
    assert got[rows[2].pk][0] == "B-2" and got[rows[2].pk][4] == 30
    untouched.refresh_from_db()
    assert untouched.name == "Keep me"


@pytest.mark.postgres
def test_one_statement_on_postgresql_whatever_the_number_of_rows():
    rows = [GoodsFactory(sku=f"S-{n}") for n in range(40)]
    for row in rows:
        row.name = f"renamed {row.sku}"
    with CaptureQueriesContext(connection) as queries:
        bulk_update_rows(Goods, rows, ["name"])
    assert len(queries.captured_queries) == 1
    assert set(Goods.objects.filter(sku__startswith="S-").values_list("name", flat=True)) == {
        f"renamed S-{n}" for n in range(40)
    }


def test_nothing_to_write_runs_no_query():
    with CaptureQueriesContext(connection) as queries:
        bulk_update_rows(Goods, [], ["name"])
    assert not queries.captured_queries
