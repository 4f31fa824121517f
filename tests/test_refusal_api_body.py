"""The API's refusal body says what the screens say (issue 14): a shipment short of available
stock names the freezes holding it, as plain text under the stable code."""

import pytest
from rest_framework.test import APIClient

from api import tokens
from freezes.models import Reason
from freezes.scope import Scope
from freezes.services.freezing import freeze_create
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = pytest.mark.django_db


def test_the_api_refusal_body_names_the_freeze(make_user):
    # given: 200 units, all frozen as damaged; a clerk's API token
    bin_ = BinFactory()
    goods = GoodsFactory(sku="MASK-BOX-50")
    receive_stock(goods, bin_, 200)
    freeze = freeze_create(
        scope=Scope(goods_id=goods.pk), reason=Reason.DAMAGED, operator=make_user("manager")
    )
    _token, raw = tokens.token_create(user=make_user("staff"), name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    # when
    response = client.post(
        "/api/v1/shipments/",
        {"warehouse": bin_.warehouse.pk, "lines": [{"goods": goods.pk, "quantity": 50}]},
        format="json",
    )

    # then
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_stock"
    assert body["message"] == (
        "Not enough MASK-BOX-50: 50 requested, 0 available: 200 on hand, "
        f"200 frozen by {freeze.number} (Damaged)."
    )
