"""Store sales import: dry run, row errors, all-or-nothing, only one's own stores, the
template, a day imported again replaces its figures."""

import datetime

import pytest
from django.urls import reverse

from allocation.imports import StoreSalesResource
from allocation.models import StoreSales
from inventory.imports.engine import run_import
from inventory.imports.files import open_sheet

pytestmark = pytest.mark.django_db


def _run(tmp_path, text, user, dry_run=False):
    path = tmp_path / "sales.csv"
    path.write_text(text, encoding="utf-8")
    return run_import(
        StoreSalesResource(), open_sheet(str(path), "sales.csv"), dry_run=dry_run, user=user
    )


def test_a_sales_sheet_is_checked_then_imported(tmp_path, world):
    text = "store,sku,day,units_sold,on_hand\nA01,TEA,2026-01-05,7,30\nA01,COFFEE,2026-01-05,0,\n"
    report = _run(tmp_path, text, world.alice, dry_run=True)
    assert report.ok and report.new == 2 and not StoreSales.objects.exists()
    report = _run(tmp_path, text, world.alice)
    assert report.ok and report.written
    row = StoreSales.objects.get(goods=world.goods)
    assert (row.units_sold, row.on_hand, row.day) == (7, 30, datetime.date(2026, 1, 5))
    again = "store,sku,day,units_sold\nA01,TEA,2026-01-05,9\n"
    assert _run(tmp_path, again, world.alice).ok
    assert StoreSales.objects.get(goods=world.goods).units_sold == 9


def test_rows_after_the_first_read_the_same_whatever_the_spelling(tmp_path, world):
    # the codes and day of the first row are remembered; later rows spell numbers, days and
    # codes differently or badly and still go through the widgets and their messages
    text = (
        "store,sku,day,units_sold,on_hand\n"
        "A01,TEA,2026-01-05,7,30\n"
        "a01,TEA,2026/01/06, 8 ,\n"
        "A01,COFFEE,2026-01-05,9.0,4\n"
        "A01,TEA,2026-01-07,x,\n"
        "A01,TEA,2026-01-08,-2,\n"
    )
    report = _run(tmp_path, text, world.alice, dry_run=True)
    assert sorted(error.row for error in report.errors) == [5, 6]
    text = "\n".join(text.splitlines()[:4]) + "\n"
    assert _run(tmp_path, text, world.alice).written
    rows = sorted(StoreSales.objects.values_list("day", "units_sold", "on_hand"))
    assert rows == [
        (datetime.date(2026, 1, 5), 7, 30),
        (datetime.date(2026, 1, 5), 9, 4),
        (datetime.date(2026, 1, 6), 8, None),
    ]


def test_every_bad_row_is_reported_and_nothing_is_written(tmp_path, world):
    text = (
        "门店编码,货品编码,日期,销量\n"
        "A01,TEA,2026-01-05,7\n"
        "B01,TEA,2026-01-05,7\n"  # another manager's store
        "A01,NOPE,2026-01-05,7\n"
        "A01,TEA,2999-01-01,7\n"
        "A01,TEA,2026-01-06,-1\n"
        "A01,TEA,2026-01-07,1.5\n"
        "A01,TEA,2026-01-05,3\n"  # the same store, goods and day again
    )
    report = _run(tmp_path, text, world.alice)
    assert not report.ok and not report.written
    assert sorted(error.row for error in report.errors) == [3, 4, 5, 6, 7, 8]
    assert not StoreSales.objects.exists()


def test_the_template_downloads_for_a_store_manager(client, world):
    client.force_login(world.alice)
    response = client.get(reverse("inventory:import-template", args=["store_sales"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_sales_are_entered_on_a_screen_for_ones_own_store_only(client, world):
    client.force_login(world.alice)
    assert client.get(reverse("allocation:sales-entry")).status_code == 200
    data = {
        "store": world.store_a.pk,
        "goods": world.goods.sku,
        "day": "2026-01-05",
        "units_sold": 4,
    }
    assert client.post(reverse("allocation:sales-entry"), data).status_code == 302
    assert StoreSales.objects.get().units_sold == 4
    other = {**data, "store": world.store_b.pk}
    assert client.post(reverse("allocation:sales-entry"), other).status_code == 422
    future = {**data, "day": "2999-01-01"}
    assert client.post(reverse("allocation:sales-entry"), future).status_code == 422
    ancient = {**data, "day": "1999-12-31"}  # the import's and the API's oldest day too
    answer = client.post(reverse("allocation:sales-entry"), ancient)
    assert answer.status_code == 422 and b"before 2000" in answer.content
    assert StoreSales.objects.count() == 1


def test_the_sales_service_refuses_figures_out_of_range_whatever_the_caller(world):
    from allocation.exceptions import InvalidQuantity
    from allocation.services.sales import MAX_UNITS, store_sales_set

    day = datetime.date(2026, 1, 5)
    for units_sold, on_hand in ((-1, None), (MAX_UNITS + 1, None), (3, -2)):
        with pytest.raises(InvalidQuantity):
            store_sales_set(
                user=world.alice,
                store=world.store_a,
                goods=world.goods,
                day=day,
                units_sold=units_sold,
                on_hand=on_hand,
            )
    assert not StoreSales.objects.exists()
