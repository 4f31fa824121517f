"""``wms.pagination.keyset_page``: every row once, in order, both ways, whatever the cursor."""

import pytest

from warehouses.models import Bin
from warehouses.tests.factories import BinFactory, WarehouseFactory, ZoneFactory
from wms.pagination import BACKWARD, decode_cursor, encode_cursor, keyset_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def bins():
    zones = [ZoneFactory(warehouse=WarehouseFactory(code=code)) for code in ("W-B", "W-A")]
    # codes repeat across warehouses, so the key needs every column of the order
    for zone in zones:
        for index in range(7):
            BinFactory(zone=zone, warehouse=zone.warehouse, code=f"C-{index % 4}-{index}")
    return Bin.objects.select_related("warehouse")


ORDER = ("warehouse__code", "-code", "pk")


def _walk_forward(queryset, per_page):
    pages, cursor = [], None
    while True:
        page = keyset_page(queryset, order=ORDER, cursor=cursor, per_page=per_page)
        pages.append(page)
        cursor = page.next_cursor
        if not cursor:
            return pages


def test_forward_pages_hold_every_row_once_in_order(bins):
    # given
    expected = list(bins.order_by(*ORDER))

    # when
    pages = _walk_forward(bins, 3)

    # then
    assert [row for page in pages for row in page.rows] == expected
    assert [page.is_first for page in pages] == [True] + [False] * (len(pages) - 1)
    assert pages[0].previous_cursor is None and pages[-1].next_cursor is None


def test_previous_cursor_gives_back_the_page_before(bins):
    # given
    pages = _walk_forward(bins, 3)

    # when
    back = [
        keyset_page(bins, order=ORDER, cursor=page.previous_cursor, per_page=3)
        for page in pages[1:]
    ]

    # then
    assert [b.rows for b in back] == [p.rows for p in pages[:-1]]
    assert back[0].is_first and back[0].previous_cursor is None
    assert all(b.previous_cursor.startswith(BACKWARD) for b in back[1:])


def test_the_queryset_order_is_used_without_order_and_count_on_request(bins):
    # given
    ordered = bins.order_by(*ORDER)

    # when
    page = keyset_page(ordered, per_page=5, with_count=True)

    # then
    assert page.rows == list(ordered[:5])
    assert page.count == 14


@pytest.mark.parametrize(
    "cursor",
    ["not base64 !", encode_cursor(["W-A"]), encode_cursor(["W-A", 1, "x"]), "~", "99", "~~x"],
)
def test_a_cursor_that_does_not_parse_shows_the_first_page(bins, cursor):
    # when
    page = keyset_page(bins, order=ORDER, cursor=cursor, per_page=3)

    # then
    assert page.is_first
    assert page.rows == list(bins.order_by(*ORDER)[:3])


def test_cursor_round_trip_keeps_types_and_refuses_impossible_values():
    # given / when / then
    import datetime as dt

    moment = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert decode_cursor(encode_cursor((moment, 7)), (dt.datetime, int)) == (moment, 7)
    assert decode_cursor(encode_cursor(("a", 1)), (str, int)) == ("a", 1)
    assert decode_cursor(encode_cursor(("2024-13-45", 1)), (dt.date, int)) is None
    assert decode_cursor(encode_cursor(("a", 10**30)), (str, int)) is None
    assert decode_cursor(encode_cursor((1, 1)), (str, int)) is None


def test_a_page_costs_one_query_and_two_with_the_count(bins, django_assert_num_queries):
    # when / then
    with django_assert_num_queries(1):
        keyset_page(bins, order=ORDER, per_page=3)
    with django_assert_num_queries(2):
        keyset_page(bins, order=ORDER, per_page=3, with_count=True)
