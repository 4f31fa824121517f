"""Bad input and security: every refusal is a 4xx with the one error body and writes nothing."""

from __future__ import annotations

import pytest

from api import tokens
from api.tests.test_foundations import assert_error_body
from inventory.models import Goods, OutboundSheet, StockMovement


def _nothing_written(before: tuple[int, int, int]) -> None:
    assert (
        Goods.objects.count(),
        OutboundSheet.objects.count(),
        StockMovement.objects.count(),
    ) == before


def _counts() -> tuple[int, int, int]:
    return Goods.objects.count(), OutboundSheet.objects.count(), StockMovement.objects.count()


def test_revoked_token_cannot_post(client_for, world):
    client = client_for("manager")
    tokens.token_revoke(token=client.token, user=client.user)
    before = _counts()
    body = {"warehouse": world.warehouse.pk, "lines": [{"goods": world.goods.pk, "quantity": 1}]}
    assert_error_body(
        client.post("/api/v1/shipments/", body, format="json"), 401, "authentication_failed"
    )
    _nothing_written(before)


@pytest.mark.parametrize(
    ("payload", "content_type", "status"),
    [
        ("[1, 2, 3]", "application/json", 400),
        ('"just a string"', "application/json", 400),
        ('{"warehouse": 1, "lines": {}}', "application/json", 400),
        ("warehouse=1", "application/x-www-form-urlencoded", 415),
        ("\x00\x01binary", "application/octet-stream", 415),
        (
            '{"warehouse": 1, "lines": [' + ",".join(['{"goods": 1, "quantity": 1}'] * 501) + "]}",
            "application/json",
            400,
        ),
    ],
)
def test_malformed_bodies_are_refused(client_for, world, payload, content_type, status):
    client = client_for("manager")
    before = _counts()
    response = client.post("/api/v1/shipments/", data=payload, content_type=content_type)
    assert_error_body(response, status)
    _nothing_written(before)


def test_unknown_ids_are_field_errors(client_for, world):
    client = client_for("manager")
    before = _counts()
    body = {"warehouse": 987654, "lines": [{"goods": 987654, "quantity": 1}]}
    result = assert_error_body(
        client.post("/api/v1/shipments/", body, format="json"), 400, "invalid"
    )
    assert {"warehouse", "lines.0.goods"} <= set(result["fields"])
    _nothing_written(before)


def test_a_line_of_another_warehouse_refuses_the_whole_shipment(client_for, world):
    from warehouses.tests.factories import BinFactory

    other_bin = BinFactory()
    client = client_for("manager")
    before = _counts()
    body = {
        "warehouse": world.warehouse.pk,
        "lines": [
            {"goods": world.goods.pk, "quantity": 1},
            {"goods": world.goods.pk, "quantity": 1, "bin": other_bin.pk},
        ],
    }
    response = client.post("/api/v1/shipments/", body, format="json")
    assert 400 <= response.status_code < 500
    assert_error_body(response, response.status_code)
    _nothing_written(before)


def test_reading_an_id_out_of_range_is_404_not_500(client_for):
    client = client_for("staff")
    for url in (
        "/api/v1/goods/0/",
        "/api/v1/inbound-sheets/99999999999999999999/",
        "/api/v1/freezes/-1/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url


def test_a_permission_is_needed_for_each_action_not_just_the_resource(client_for, world):
    """Staff may draft sheets but not post counts; QC may read freezes but not approve."""
    qc = client_for("qc")
    assert qc.get("/api/v1/freezes/").status_code == 200
    assert_error_body(
        qc.post("/api/v1/release-requests/1/approve/", {}, format="json"), 403, "permission_denied"
    )
    assert_error_body(qc.post("/api/v1/shipments/", {}, format="json"), 403, "permission_denied")
    channel = client_for("channel")
    assert channel.get("/api/v1/balances/").status_code == 200
    assert_error_body(channel.get("/api/v1/movements/"), 403, "permission_denied")


@pytest.mark.parametrize(
    "url", ["/api/v1/goods/?q=a%00b", "/api/v1/warehouses/?q=%00", "/api/v1/bins/?code=A%00"]
)
def test_a_nul_character_in_a_search_is_a_400_not_a_500(client_for, world, url):
    # given a search text PostgreSQL cannot compare (a NUL character)
    client = client_for("manager")
    client.raise_request_exception = False
    # when / then: the error body, like every other list's filters
    refused = assert_error_body(client.get(url), 400, "invalid")
    assert refused["fields"]


def test_a_production_date_whose_default_expiry_is_past_the_calendar_is_a_400(client_for, world):
    # given goods with a shelf life, and a production date so late that production date +
    # shelf life (the default expiry) is past the last date there is
    from inventory.models import Batch, InboundSheet

    client = client_for("manager")
    client.raise_request_exception = False
    batches, sheets, before = Batch.objects.count(), InboundSheet.objects.count(), _counts()
    late = "9999-12-01"
    # when a batch is added with it, then it is refused with the error body
    url = f"/api/v1/goods/{world.goods.pk}/batches/"
    refused = assert_error_body(
        client.post(url, {"batch_no": "LATE-1", "production_date": late}, format="json"), 400
    )
    assert "production_date" in refused["fields"]
    # when a receipt names a new batch with it, then it is refused and nothing is written
    line = {"goods": world.goods.pk, "bin": world.bin.pk, "quantity": 5, "batch_no": "LATE-2"}
    body = {"warehouse": world.warehouse.pk, "lines": [{**line, "production_date": late}]}
    assert_error_body(client.post("/api/v1/receipts/", body, format="json"), 400)
    assert (Batch.objects.count(), InboundSheet.objects.count()) == (batches, sheets)
    _nothing_written(before)


def test_a_weight_too_large_for_its_column_is_a_400_not_a_500(client_for, db):
    # given a weight with more whole digits than its column (and the goods screen) holds
    client = client_for("manager")
    client.raise_request_exception = False
    body = {"sku": "HEAVY-1", "name": "Heavy", "weight": "930033911"}
    # when / then: 400 on the weight, nothing written
    refused = assert_error_body(client.post("/api/v1/goods/", body, format="json"), 400)
    assert "weight" in refused["fields"]
    assert not Goods.objects.filter(sku="HEAVY-1").exists()
    # the largest weight the screen takes is taken
    body["weight"] = "9999999.999"
    assert client.post("/api/v1/goods/", body, format="json").status_code == 201


def test_a_shelf_life_beyond_the_screens_hundred_years_is_a_400(client_for, db):
    # given the goods screen takes a shelf life of at most 36,500 days
    client = client_for("manager")
    body = {"sku": "LONG-1", "name": "Long life", "shelf_life_days": 36501}
    # when / then: one day more is refused on the field, nothing written
    refused = assert_error_body(client.post("/api/v1/goods/", body, format="json"), 400)
    assert "shelf_life_days" in refused["fields"]
    assert not Goods.objects.filter(sku="LONG-1").exists()
    body["shelf_life_days"] = 36500
    assert client.post("/api/v1/goods/", body, format="json").status_code == 201
