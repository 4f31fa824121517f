"""Absurd or tampered query parameters read as "no such thing", never as a 500."""

import pytest
from django.urls import reverse

from inventory.tests.factories import GoodsFactory
from wms.http import parse_id

pytestmark = pytest.mark.django_db


def test_parse_id_takes_only_plain_digits_that_fit_a_bigint():
    assert parse_id("42") == 42
    assert parse_id(" 7 ") == 7
    for bad in ["", None, "²", "٣", "-1", "1.5", "9" * 19, "12a"]:
        assert parse_id(bad) is None, bad


@pytest.mark.parametrize(
    ("url_name", "params"),
    [
        ("inventory:ledger", {"date_to": "9999-12-31"}),
        ("inventory:ledger", {"date_from": "0001-01-01"}),
        ("freezes:frozen-stock", {"frozen_to": "9999-12-31"}),
        ("freezes:frozen-stock", {"min_age": "1000000000"}),
        ("freezes:freeze-list", {"q": "FRZ-" + "9" * 5000}),
        ("freezes:freeze-list", {"q": "²"}),
    ],
)
def test_list_filters_survive_absurd_values(client, make_user, url_name, params):
    client.force_login(make_user("manager"))

    response = client.get(reverse(url_name), params)

    assert response.status_code in {200, 422}


@pytest.mark.parametrize("warehouse", ["²", "9" * 40, "-3"])
def test_stock_card_ignores_a_warehouse_id_that_is_not_one(client, make_user, warehouse):
    client.force_login(make_user("manager"))
    goods = GoodsFactory()

    response = client.get(
        reverse("inventory:stock-card", args=[goods.pk]), {"warehouse": warehouse}
    )

    assert response.status_code == 200


def test_balance_holds_refuses_ids_beyond_the_database(client, make_user):
    client.force_login(make_user("manager"))

    response = client.get(reverse("freezes:balance-holds"), {"balance": "9" * 30})

    assert response.status_code == 422
