"""The store sales feed over the API: a POS sends a batch of daily sales for its stores; the
rules are the sales import's (``SalesRules``), the batch is all or nothing with every bad row
named, a day sent again replaces its figures, Idempotency-Key replays, the write is set-based
(the queries do not grow with the rows) and two POSTs of the same day at once leave one row."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from allocation.models import StoreSales
from allocation.services import sales
from allocation.tests.conftest import World
from api import tokens
from api.tests.conftest import token_client
from api.tests.test_foundations import assert_error_body
from inventory.tests.factories import GoodsFactory

URL = "/api/v1/store-sales/"


@pytest.fixture
def alloc(db, make_user):
    world = World(make_user)
    world.api = {name: token_client(getattr(world, name)) for name in ("manager", "alice", "bob")}
    return world


def _day(days_ago: int) -> str:
    return (timezone.localdate() - datetime.timedelta(days=days_ago)).isoformat()


def _row(store="A01", sku="TEA", days_ago=1, units_sold=5, **extra) -> dict:
    return {"store": store, "sku": sku, "day": _day(days_ago), "units_sold": units_sold, **extra}


def _send(client, rows, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(URL, {"rows": rows}, format="json", **headers)


def _stored() -> list[tuple]:
    return sorted(
        StoreSales.objects.values_list("store__code", "goods__sku", "day", "units_sold", "on_hand")
    )


def test_a_pos_sends_a_days_sales_and_a_resend_replaces_the_figures(alloc):
    # given alice's POS with yesterday's sales of two goods, codes in any case
    alice = alloc.api["alice"]
    rows = [
        _row(store="a01", sku="tea", units_sold=7, on_hand=30),
        _row(sku="COFFEE", units_sold=0),
    ]
    # when it sends them
    response = _send(alice, rows)
    # then both are written, on-hand left out reads as unknown
    assert response.status_code == 200, response.json()
    assert response.json() == {"written": 2}
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    assert _stored() == [
        ("A01", "COFFEE", yesterday, 0, None),
        ("A01", "TEA", yesterday, 7, 30),
    ]
    # when the day is sent again with other figures
    again = _send(alice, [_row(units_sold=9, on_hand=None)])
    # then they replace the first ones: no second row
    assert again.status_code == 200 and again.json() == {"written": 1}
    assert _stored() == [
        ("A01", "COFFEE", yesterday, 0, None),
        ("A01", "TEA", yesterday, 9, None),
    ]


def test_one_bad_row_refuses_the_batch_and_every_bad_row_is_named(alloc):
    # given a row already stored
    alice = alloc.api["alice"]
    assert _send(alice, [_row(units_sold=3)]).status_code == 200
    rows = [
        _row(units_sold=8),  # 0: fine on its own
        _row(store="B01"),  # 1: bob's store
        _row(store="NOPE"),  # 2: no such store
        _row(sku="NOPE"),  # 3: no such goods
        _row(days_ago=-1),  # 4: tomorrow
        _row(days_ago=2, units_sold=-1),  # 5: a negative quantity
        _row(days_ago=3, units_sold=1.5),  # 6: not a whole number
        _row(units_sold=4),  # 7: the same store, goods and day as row 0
        {**_row(days_ago=4), "qty": 1},  # 8: an unknown field
        _row(days_ago=5, on_hand=10_000_001),  # 9: above the most
        "A01,TEA",  # 10: not an object
    ]
    # when the batch is sent
    response = _send(alice, rows)
    # then it is refused in the one error body, naming each bad row and only those
    body = assert_error_body(response, 400, "invalid")
    assert set(body["fields"]) == {
        "rows.1.store",
        "rows.2.store",
        "rows.3.sku",
        "rows.4.day",
        "rows.5.units_sold",
        "rows.6.units_sold",
        "rows.7.day",
        "rows.8.qty",
        "rows.9.on_hand",
        "rows.10.non_field_errors",
    }
    assert "'B01' is not one of your stores" in body["fields"]["rows.1.store"]
    assert body["message"] == "10 rows are not valid; nothing was written."
    # and nothing was written: the stored row keeps its figures
    assert [row[3] for row in _stored()] == [3]


def test_the_rules_alone_refuse_a_well_formed_batch(alloc):
    # given a batch whose rows are all well formed, one of them for another store
    alice = alloc.api["alice"]
    rows = [_row(), _row(sku="COFFEE"), _row(store="C01", days_ago=2)]
    # when it is sent
    body = assert_error_body(_send(alice, rows), 400, "invalid")
    # then the rules name that row and nothing is written
    assert body["fields"] == {"rows.2.store": ["'C01' is not one of your stores"]}
    assert body["message"] == "1 row is not valid; nothing was written."
    assert not StoreSales.objects.exists()
    # and in the caller's language
    chinese = alice.post(URL, {"rows": rows}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = assert_error_body(chinese, 400, "invalid")
    assert body["message"] == "1 行无效，未写入任何数据。"
    assert body["fields"] == {"rows.2.store": ["“C01”不是您的门店"]}


def test_a_batch_is_one_to_the_most_rows(alloc):
    manager = alloc.api["manager"]
    assert_error_body(_send(manager, []), 400, "invalid")
    assert_error_body(manager.post(URL, {"rows": "A01"}, format="json"), 400, "invalid")
    assert_error_body(manager.post(URL, {}, format="json"), 400, "invalid")
    # one row over the most: refused before any row is looked at
    too_many = [_row(days_ago=1 + i % 300) for i in range(sales.MAX_BATCH + 1)]
    body = assert_error_body(_send(manager, too_many), 400, "invalid")
    assert list(body["fields"]) == ["rows"]
    assert not StoreSales.objects.exists()


def test_sales_are_sent_and_read_with_the_screens_permissions_and_scope(alloc, make_user):
    # given sales of alice's and bob's stores, sent by each and by the warehouse manager
    assert _send(alloc.api["alice"], [_row(), _row(days_ago=3)]).status_code == 200
    assert _send(alloc.api["bob"], [_row(store="B01")]).status_code == 200
    assert _send(alloc.api["manager"], [_row(store="C01", sku="COFFEE")]).status_code == 200
    # then a store manager reads his own stores' rows only, the warehouse manager every one
    mine = alloc.api["alice"].get(URL).json()["results"]
    assert {(r["store_code"], r["sku"]) for r in mine} == {("A01", "TEA")} and len(mine) == 2
    every = alloc.api["manager"].get(URL).json()["results"]
    assert {r["store_code"] for r in every} == {"A01", "B01", "C01"}
    # a warehouse clerk neither sends nor reads store sales (no such screen for him)
    clerk = token_client(make_user("staff", "clerk"))
    assert_error_body(_send(clerk, [_row()]), 403, "permission_denied")
    assert_error_body(clerk.get(URL), 403, "permission_denied")
    assert StoreSales.objects.count() == 4


def test_the_list_filters_by_store_goods_and_days_and_pages(alloc):
    manager = alloc.api["manager"]
    rows = [_row(days_ago=d) for d in (1, 2, 3, 4)] + [
        _row(sku="COFFEE", days_ago=2),
        _row(store="B01", days_ago=2),
    ]
    assert _send(manager, rows).status_code == 200

    def listed(**query) -> list[tuple]:
        results = manager.get(URL, query).json()["results"]
        return sorted((r["store_code"], r["sku"], r["day"]) for r in results)

    assert listed(store=alloc.store_b.pk) == [("B01", "TEA", _day(2))]
    assert listed(goods=alloc.other_goods.pk) == [("A01", "COFFEE", _day(2))]
    assert listed(
        store=alloc.store_a.pk, goods=alloc.goods.pk, day_from=_day(3), day_to=_day(2)
    ) == [
        ("A01", "TEA", _day(3)),
        ("A01", "TEA", _day(2)),
    ]
    page = manager.get(URL, {"limit": 4}).json()
    assert len(page["results"]) == 4 and page["next"]
    rest = manager.get(page["next"]).json()
    assert len(rest["results"]) == 2 and not rest["next"]
    assert_error_body(manager.get(URL, {"day_from": "yesterday"}), 400, "invalid")
    assert_error_body(manager.get(URL, {"limit": 501}), 400, "invalid")


def test_the_same_key_replays_the_batch_and_another_body_is_refused(alloc):
    alice = alloc.api["alice"]
    first = _send(alice, [_row(units_sold=5)], key="pos-2026-11-29")
    assert first.status_code == 200 and first.json() == {"written": 1}
    StoreSales.objects.update(units_sold=6)  # corrected on the screen meanwhile
    again = _send(alice, [_row(units_sold=5)], key="pos-2026-11-29")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == {"written": 1}
    assert StoreSales.objects.get().units_sold == 6  # the replay wrote nothing
    other = _send(alice, [_row(units_sold=7)], key="pos-2026-11-29")
    assert_error_body(other, 409, "idempotency_conflict")
    # a refused batch keeps no answer: fixed, it goes through with the same key
    assert_error_body(_send(alice, [_row(sku="NEW-1")], key="pos-new"), 400, "invalid")
    GoodsFactory(sku="NEW-1")
    assert _send(alice, [_row(sku="NEW-1")], key="pos-new").status_code == 200


@pytest.mark.postgres
def test_a_batch_costs_the_same_queries_for_10_rows_as_for_200(alloc):
    # given ten goods, so 200 rows are 10 goods x 20 days of one store
    for n in range(8):
        GoodsFactory(sku=f"G{n}")
    skus = ["TEA", "COFFEE", *[f"G{n}" for n in range(8)]]
    manager = alloc.api["manager"]
    manager.get("/api/v1/stores/")  # the token's last use recorded: later requests do not write

    def cost(rows: list[dict]) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = _send(manager, rows)
        assert response.status_code == 200, response.json()
        assert response.json() == {"written": len(rows)}
        return len(queries.captured_queries)

    few = [_row(sku=sku, days_ago=1) for sku in skus]
    many = [_row(sku=sku, days_ago=d) for sku in skus for d in range(2, 22)]
    # when 10 rows and then 200 are sent
    # then both cost the same queries (200 rows new, then replaced): the token, the user's
    # permissions (2), his stores, the SKUs, the one INSERT in its savepoint (3)
    counts = [cost(few), cost(many), cost(many[::-1])]
    assert counts[0] == counts[1] == counts[2] <= 8
    assert StoreSales.objects.count() == 210


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_posts_of_the_same_store_and_day_at_once_leave_one_row_each(make_user):
    """Two POS sends (own connections) of the same store, goods and days at once, in opposite
    orders: both are answered 200, no deadlock, no duplicate, both rows hold one sender's figures."""
    world = World(make_user)
    raw = tokens.token_create(user=world.alice, name="race")[1]
    barrier = threading.Barrier(2)
    results: list[int] = []
    batches = {
        7: [_row(units_sold=7), _row(sku="COFFEE", units_sold=7)],
        8: [_row(sku="COFFEE", units_sold=8), _row(units_sold=8)],
    }

    def send(rows) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        barrier.wait()
        try:
            results.append(client.post(URL, {"rows": rows}, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(rows,)) for rows in batches.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200, 200]
    stored = list(StoreSales.objects.values_list("goods__sku", "units_sold"))
    assert len(stored) == 2
    assert {sku for sku, _units in stored} == {"TEA", "COFFEE"}
    # the rows are written in (store, goods, day) order: the batch that locks the first row
    # first writes both before the other, so both rows hold the same sender's figures
    assert {units for _sku, units in stored} in ({7}, {8})
