"""What an operation answers is what the OpenAPI schema says it answers: the status code is
documented, the body conforms to the documented schema, and every top-level field of the body
is a documented property (a client generated from the schema sees the whole answer)."""

from __future__ import annotations

import jsonschema
import pytest
from rest_framework.test import APIClient


@pytest.fixture
def schema(db) -> dict:
    return APIClient().get("/api/schema/?format=json").json()


def assert_documented(schema: dict, response, method: str, path: str) -> None:
    operation = schema["paths"][path][method]
    code = str(response.status_code)
    label = f"{method.upper()} {path}"
    assert code in operation["responses"], (
        f"{label} answered {code}; documented: {sorted(operation['responses'])}"
    )
    content = operation["responses"][code].get("content", {}).get("application/json")
    if content is None:
        assert not response.content, f"{label} {code} is documented without a body"
        return
    components = schema["components"]["schemas"]
    body = response.json()
    jsonschema.Draft202012Validator(
        {**content["schema"], "components": {"schemas": components}}
    ).validate(body)
    part = content["schema"]
    if "$ref" in part:
        part = components[part["$ref"].rsplit("/", 1)[-1]]
    if isinstance(body, dict):
        undocumented = set(body) - set(part.get("properties", {}))
        assert not undocumented, f"{label} {code} answers undocumented fields {undocumented}"


def test_removing_a_line_answers_the_document_as_documented(client_for, world, schema):
    # given a draft inbound sheet, a draft count and a draft transfer, each with one line
    from warehouses.tests.factories import BinFactory

    client = client_for("manager")
    warehouse, goods, bin_ = world.warehouse.pk, world.goods.pk, world.bin.pk
    sheet = client.post(
        "/api/v1/inbound-sheets/", {"warehouse": warehouse, "type": "purchase"}, format="json"
    ).json()
    sheet = client.post(
        f"/api/v1/inbound-sheets/{sheet['id']}/lines/",
        {"goods": goods, "bin": bin_, "quantity": 3},
        format="json",
    ).json()
    count = client.post("/api/v1/counts/", {"warehouse": warehouse, "reason": "r"}, "json").json()
    count = client.post(
        f"/api/v1/counts/{count['id']}/lines/",
        {"goods": goods, "bin": bin_, "counted": 3},
        format="json",
    ).json()
    other = BinFactory().warehouse.pk
    transfer = client.post(
        "/api/v1/transfers/", {"from_warehouse": warehouse, "to_warehouse": other}, "json"
    ).json()
    transfer = client.post(
        f"/api/v1/transfers/{transfer['id']}/lines/",
        {"goods": goods, "from_bin": bin_, "quantity": 3},
        format="json",
    ).json()
    # when each line is removed, then the answer is the one the schema documents
    for url, path in (
        (
            f"/api/v1/inbound-sheets/{sheet['id']}/lines/{sheet['lines'][0]['id']}/",
            "/api/v1/inbound-sheets/{id}/lines/{line_id}/",
        ),
        (
            f"/api/v1/counts/{count['id']}/lines/{count['lines'][0]['id']}/",
            "/api/v1/counts/{id}/lines/{line_id}/",
        ),
        (
            f"/api/v1/transfers/{transfer['id']}/lines/{transfer['lines'][0]['id']}/",
            "/api/v1/transfers/{id}/lines/{line_id}/",
        ),
    ):
        response = client.delete(url)
        assert response.status_code < 300, response.content
        assert_documented(schema, response, "delete", path)


def test_binding_preview_answers_the_list_the_schema_documents(client_for, schema):
    # given a shop bound to one warehouse, with a listing
    from channels_sync.tests.factories import BindingFactory, ListingFactory, ShopFactory
    from warehouses.tests.factories import WarehouseFactory

    shop = ShopFactory()
    BindingFactory(shop=shop, warehouse=WarehouseFactory(code="SYD"), priority=1)
    ListingFactory(shop=shop)
    body = {"op": "bind", "warehouse": WarehouseFactory(code="MEL").pk, "priority": 2}
    # when a change is previewed
    response = client_for("channel").post(
        f"/api/v1/shops/{shop.pk}/binding-changes/preview/", body, format="json"
    )
    # then the answer is the one the schema documents
    assert response.status_code == 200, response.content
    assert_documented(schema, response, "post", "/api/v1/shops/{id}/binding-changes/preview/")


def test_one_freeze_and_one_goods_answer_the_fields_the_schema_documents(client_for, world, schema):
    # given a freeze and a goods with a batch
    client = client_for("manager")
    body = {"scope": {"goods": world.goods.pk}, "reason": "qc_hold", "quantity": 5}
    freeze = client.post("/api/v1/freezes/", body, format="json").json()
    # when each is read, then every field it answers is documented (a freeze's lines, a
    # goods' components and batches)
    response = client.get(f"/api/v1/freezes/{freeze['id']}/")
    assert response.json()["lines"]
    assert_documented(schema, response, "get", "/api/v1/freezes/{id}/")
    response = client.get(f"/api/v1/goods/{world.goods.pk}/")
    assert response.json()["batches"]
    assert_documented(schema, response, "get", "/api/v1/goods/{id}/")


def test_a_body_that_is_not_json_answers_a_documented_415(client_for, world, schema):
    # given an operation that takes a JSON body
    client = client_for("manager")
    # when it is sent a form instead
    response = client.post(
        "/api/v1/shipments/", "warehouse=1", content_type="application/x-www-form-urlencoded"
    )
    # then 415 in the one error body, as the schema documents it
    assert response.status_code == 415
    assert_documented(schema, response, "post", "/api/v1/shipments/")
