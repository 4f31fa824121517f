"""Tokens, authentication, permissions, the error body, pagination limits, throttling."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from api import tokens
from api.models import ApiToken
from inventory.models import Goods

GOODS_URL = "/api/v1/goods/"


def assert_error_body(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["message"]
    if code:
        assert body["code"] == code, body
    return body


def test_token_is_stored_only_as_a_hash(make_user):
    # given
    user = make_user("staff")
    # when
    token, raw = tokens.token_create(user=user, name="ERP")
    # then
    row = ApiToken.objects.get(pk=token.pk)
    assert raw not in (row.key_hash, row.prefix, row.name)
    assert row.key_hash == tokens.hash_token(raw)
    assert raw.startswith(f"wms_{row.prefix}_")


def test_token_authenticates_and_records_last_use(client_for, world):
    client = client_for("staff")
    assert client.token.last_used_at is None
    response = client.get(GOODS_URL)
    assert response.status_code == 200
    assert response.json()["results"][0]["sku"] == "LIP-001"
    client.token.refresh_from_db()
    assert client.token.last_used_at is not None


def test_revoked_token_is_refused_with_the_error_body(client_for):
    client = client_for("staff")
    tokens.token_revoke(token=client.token, user=client.user)
    response = client.get(GOODS_URL)
    assert_error_body(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_and_no_token_are_401(db):
    client = APIClient()
    assert_error_body(client.get(GOODS_URL), 401, "not_authenticated")
    client.credentials(HTTP_AUTHORIZATION="Bearer wms_nothing_here")
    assert_error_body(client.get(GOODS_URL), 401, "authentication_failed")


def test_token_without_the_permission_is_403_and_writes_nothing(client_for):
    # a QC inspector may look goods up but not create them
    client = client_for("qc")
    response = client.post(GOODS_URL, {"sku": "NEW-1", "name": "New"}, format="json")
    assert_error_body(response, 403, "permission_denied")
    assert not Goods.objects.filter(sku="NEW-1").exists()


def test_store_manager_cannot_read_stock(client_for, world):
    client = client_for("store")
    assert_error_body(client.get("/api/v1/balances/"), 403, "permission_denied")


def test_session_auth_serves_the_browser(make_user, world):
    client = APIClient()
    client.force_login(make_user("staff"))
    assert client.get(GOODS_URL).status_code == 200
    # a session write without the CSRF token is refused
    csrf_client = APIClient(enforce_csrf_checks=True)
    csrf_client.force_login(client.handler._force_user if False else make_user("manager"))
    response = csrf_client.post(GOODS_URL, {"sku": "X", "name": "X"}, format="json")
    assert_error_body(response, 403)
    assert not Goods.objects.filter(sku="X").exists()


def test_domain_error_becomes_the_error_body_with_its_field(client_for, world):
    client = client_for("manager")
    response = client.post(GOODS_URL, {"sku": "lip-001", "name": "Twin"}, format="json")
    body = assert_error_body(response, 409, "duplicate_sku")
    assert "sku" in body["fields"]


def test_malformed_json_is_400(client_for):
    client = client_for("manager")
    response = client.post(GOODS_URL, data="{not json", content_type="application/json")
    assert_error_body(response, 400, "parse_error")


def test_unknown_fields_are_refused(client_for):
    client = client_for("manager")
    response = client.post(GOODS_URL, {"sku": "N", "name": "N", "colour": "red"}, format="json")
    body = assert_error_body(response, 400, "invalid")
    assert body["fields"] == {"colour": ["Unknown field."]}
    assert not Goods.objects.filter(sku="N").exists()


def test_wrong_types_are_refused(client_for):
    client = client_for("manager")
    response = client.post(
        GOODS_URL, {"sku": ["a"], "name": "N", "shelf_life_days": "many"}, format="json"
    )
    body = assert_error_body(response, 400, "invalid")
    assert {"sku", "shelf_life_days"} <= set(body["fields"])


@pytest.mark.parametrize("limit", ["0", "501", "100000000000000000000", "-1", "abc"])
def test_huge_or_absurd_pages_are_refused(client_for, limit):
    client = client_for("staff")
    body = assert_error_body(client.get(GOODS_URL, {"limit": limit}), 400, "invalid")
    assert "limit" in body["fields"]


def test_cursor_pages_walk_the_whole_list(client_for, world):
    from inventory.tests.factories import GoodsFactory

    GoodsFactory.create_batch(5)
    client = client_for("staff")
    seen, url = [], GOODS_URL + "?limit=2"
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert sorted(seen, reverse=True) == seen
    assert len(seen) == len(set(seen)) == Goods.objects.count()


@pytest.mark.parametrize("url", ["/api/v1/balances/", "/api/v1/movements/", GOODS_URL])
def test_a_broken_cursor_is_refused_on_every_list_not_read_as_the_first_page(
    client_for, world, url
):
    # given a list of more than one page, and its next link's cursor cut short (or garbage)
    from urllib.parse import parse_qs, urlsplit

    from inventory.tests.factories import GoodsFactory, receive_stock

    for _ in range(3):
        receive_stock(GoodsFactory(), world.bin, 2)
    client = client_for("staff")
    next_link = urlsplit(client.get(url, {"limit": 1}).json()["next"])
    cursor = parse_qs(next_link.query)["cursor"][0]
    # when the list is asked for the page after a broken cursor
    for broken in (cursor[:-3], "not-a-cursor"):
        response = client.get(url, {"limit": 1, "cursor": broken})
        # then it is refused as the goods list refuses it, not answered with the first page
        # again (a client walking `next` would loop for ever)
        assert_error_body(response, 404, "not_found")
    assert client.get(url, {"limit": 1, "cursor": cursor}).status_code == 200


@override_settings(WMS_API_RATE="3/min")
def test_throttling_per_token_answers_429_with_retry_after(client_for):
    from django.core.cache import cache

    cache.clear()
    client = client_for("staff")
    other = client_for("qc")
    for _ in range(3):
        assert client.get(GOODS_URL).status_code == 200
    response = client.get(GOODS_URL)
    assert_error_body(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    # another token has its own allowance
    assert other.get(GOODS_URL).status_code == 200
    cache.clear()


def test_profile_screen_creates_shows_once_lists_and_revokes(client, make_user):
    user = make_user("staff")
    client.force_login(user)
    url = reverse("api:token-list")
    response = client.post(url, {"name": "ERP production"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=user)
    raw = response.context["created"]["raw"]
    assert raw in response.content.decode()
    assert tokens.token_authenticate(raw).pk == token.pk
    # listed afterwards, never shown again
    page = client.get(url).content.decode()
    assert "ERP production" in page and raw not in page
    # revoke
    client.post(reverse("api:token-revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert tokens.token_authenticate(raw) is None


def test_profile_screen_cannot_revoke_another_users_token(client, make_user):
    owner = make_user("staff")
    token, _raw = tokens.token_create(user=owner, name="mine")
    client.force_login(make_user("manager"))
    assert client.post(reverse("api:token-revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_profile_screen_in_chinese(client, make_user):
    client.force_login(make_user("staff"))
    response = client.get(reverse("api:token-list"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "API 令牌" in response.content.decode()


def test_schema_is_openapi_31_and_docs_serve_local_assets(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.1")
    docs = client.get("/api/docs/").content.decode()
    assert "cdn" not in docs.lower()
    assert "/static/drf_spectacular_sidecar/" in docs
