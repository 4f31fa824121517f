"""Fixtures of the API tests: users with the demo roles, their tokens, an API client, and a
small warehouse world with stock received through the ledger (never factories)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from api import tokens
from inventory.tests.factories import BatchFactory, GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory


@pytest.fixture(autouse=True)
def _loopback_webhook_receivers(settings):
    """Webhook receivers in these tests are local servers on the loopback, which production
    refuses (api/webhooks/ssrf.py): exempted here as a deployment would exempt its own network.
    The address filter's own tests set the list back to empty."""
    settings.WMS_WEBHOOKS_ALLOWED_NETWORKS = ["127.0.0.1/32", "::1/128"]


def token_client(user) -> APIClient:
    """An API client authenticated with a fresh token of ``user`` (``.user``, ``.token`` and
    ``.raw`` attached)."""
    token, raw = tokens.token_create(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.user = user
    client.token = token
    client.raw = raw
    return client


@pytest.fixture
def client_for(make_user):
    """``client_for("staff")``: an API client authenticated with a fresh token of a new user
    holding that role (``.user`` and ``.token`` are attached)."""

    def _make(role: str, username: str | None = None) -> APIClient:
        return token_client(make_user(role, username=username))

    return _make


class World:
    def __init__(self):
        self.bin = BinFactory()
        self.bin2 = BinFactory(zone=self.bin.zone)
        self.warehouse = self.bin.warehouse
        self.goods = GoodsFactory(sku="LIP-001")
        self.batch = BatchFactory(goods=self.goods, batch_no="2026-A")
        self.balance = receive_stock(self.goods, self.bin, 100, batch=self.batch)


@pytest.fixture
def world(db):
    return World()
