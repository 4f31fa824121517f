import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from warehouses import selectors
from warehouses.models import Zone
from warehouses.tests.factories import BinFactory, WarehouseFactory, ZoneFactory
from wms.pagination import keyset_page

pytestmark = pytest.mark.django_db


def _render_page(page) -> list[str]:
    """Touch everything a list template shows, so lazy loading would show up as queries."""
    return [f"{b.code} {b.warehouse.code} {b.zone.code} {b.zone.get_type_display()}" for b in page]


@pytest.fixture
def two_warehouses():
    sydney = WarehouseFactory(code="SYD-01", name="Sydney West", address="Wetherill Park NSW")
    melbourne = WarehouseFactory(code="MEL-01", name="Melbourne", address="Truganina VIC")
    pick = ZoneFactory(warehouse=sydney, code="PICK", type=Zone.Type.PICKING)
    bulk = ZoneFactory(warehouse=sydney, code="BULK", type=Zone.Type.STORAGE)
    mel_pick = ZoneFactory(warehouse=melbourne, code="PICK", type=Zone.Type.PICKING)
    BinFactory(zone=pick, code="A-01-01")
    BinFactory(zone=pick, code="A-01-02", is_active=False)
    BinFactory(zone=bulk, code="R01-01")
    BinFactory(zone=mel_pick, code="A-01-01")
    return sydney, melbourne


def test_warehouse_list_counts_zones_and_bins_per_warehouse(two_warehouses):
    # when
    rows = {w.code: w for w in selectors.warehouse_list(user=None)}

    # then
    assert (rows["SYD-01"].zone_count, rows["SYD-01"].bin_count) == (2, 3)
    assert rows["SYD-01"].active_bin_count == 2
    assert (rows["MEL-01"].zone_count, rows["MEL-01"].bin_count) == (1, 1)


@pytest.mark.parametrize("text", ["syd", "WEST", "wetherill"])
def test_warehouse_list_searches_code_name_and_address(two_warehouses, text):
    assert [w.code for w in selectors.warehouse_list(user=None, search=text)] == ["SYD-01"]


def test_warehouse_list_filters_by_status(two_warehouses):
    # given
    sydney, _melbourne = two_warehouses
    sydney.is_active = False
    sydney.save()

    # then
    assert [w.code for w in selectors.warehouse_list(user=None, is_active=True)] == ["MEL-01"]
    assert [w.code for w in selectors.warehouse_list(user=None, is_active=False)] == ["SYD-01"]


@pytest.mark.parametrize("count", [3, 30])
def test_warehouse_list_page_costs_two_queries_whatever_the_rows(django_assert_num_queries, count):
    # given
    for _ in range(count):
        BinFactory()

    # when / then: the COUNT and the page
    with django_assert_num_queries(2):
        page = keyset_page(selectors.warehouse_list(user=None), per_page=25, with_count=True)
        rows = [(w.code, w.zone_count, w.bin_count, w.active_bin_count) for w in page]
    assert len(rows) == min(count, 25)


def test_bin_lookup_searches_by_code_prefix_in_any_case(two_warehouses):
    # when
    found = [(b.warehouse.code, b.code) for b in selectors.bin_lookup(user=None, code="a-01")]

    # then: ordered by warehouse code, then bin code
    assert found == [("MEL-01", "A-01-01"), ("SYD-01", "A-01-01"), ("SYD-01", "A-01-02")]


def test_bin_lookup_does_not_match_inside_codes(two_warehouses):
    assert list(selectors.bin_lookup(user=None, code="01-01")) == []


def test_bin_lookup_filters_by_warehouse_zone_type_and_status(two_warehouses):
    # given
    sydney, _melbourne = two_warehouses

    # when
    picking = selectors.bin_lookup(user=None, warehouse=sydney, zone_type=Zone.Type.PICKING)
    storage = selectors.bin_lookup(user=None, warehouse=sydney.pk, zone_type="storage")
    inactive = selectors.bin_lookup(user=None, is_active=False)
    active_sydney = selectors.bin_lookup(user=None, warehouse=sydney, is_active=True)

    # then
    assert [b.code for b in picking] == ["A-01-01", "A-01-02"]
    assert [b.code for b in storage] == ["R01-01"]
    assert [b.code for b in inactive] == ["A-01-02"]
    assert [b.code for b in active_sydney] == ["A-01-01", "R01-01"]


@pytest.mark.parametrize("count", [3, 40])
def test_bin_lookup_page_costs_two_queries_whatever_the_rows(django_assert_num_queries, count):
    # given
    zone = ZoneFactory(type=Zone.Type.PICKING)
    for index in range(count):
        BinFactory(zone=zone, code=f"A-{index:03d}")

    # when / then
    with django_assert_num_queries(2):
        page = keyset_page(
            selectors.bin_lookup(user=None, code="a-", zone_type="picking", is_active=True),
            per_page=50,
            with_count=True,
        )
        rows = _render_page(page)
    assert len(rows) == count


def test_zone_list_counts_bins_in_one_query(two_warehouses, django_assert_num_queries):
    # given
    sydney, _melbourne = two_warehouses

    # when / then
    with django_assert_num_queries(1):
        zones = [
            (z.code, z.bin_count, z.active_bin_count, z.warehouse.code)
            for z in selectors.zone_list(user=None, warehouse=sydney)
        ]
    assert zones == [("BULK", 1, 1, "SYD-01"), ("PICK", 2, 1, "SYD-01")]


def test_bin_lookup_pages_walk_every_bin_once_and_a_bad_cursor_shows_the_first(two_warehouses):
    # given
    everything = [b.pk for b in selectors.bin_lookup(user=None)]

    # when
    seen, cursor = [], None
    while True:
        page = keyset_page(selectors.bin_lookup(user=None), cursor=cursor, per_page=2)
        seen += [b.pk for b in page.rows]
        cursor = page.next_cursor
        if not cursor:
            break
    tampered = keyset_page(selectors.bin_lookup(user=None), cursor="99", per_page=2)

    # then
    assert seen == everything
    assert tampered.is_first and [b.pk for b in tampered.rows] == everything[:2]


def _queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_list_screens_cost_the_same_queries_for_few_and_many_rows(client, make_user):
    # given
    client.force_login(make_user("staff"))
    zone = ZoneFactory(type=Zone.Type.PICKING)
    for index in range(3):
        BinFactory(zone=zone, code=f"A-{index:03d}")
    few = {
        name: _queries_for(client, reverse(name))
        for name in ("warehouses:warehouse-list", "warehouses:bin-lookup")
    }
    detail_url = reverse("warehouses:warehouse-detail", args=[zone.warehouse_id])
    few_detail = _queries_for(client, detail_url)

    # when
    for index in range(3, 45):
        BinFactory(zone=ZoneFactory(warehouse=zone.warehouse), code=f"A-{index:03d}")
    for _ in range(20):
        WarehouseFactory()

    # then
    for name, count in few.items():
        assert _queries_for(client, reverse(name)) == count, name
    assert _queries_for(client, detail_url) == few_detail
