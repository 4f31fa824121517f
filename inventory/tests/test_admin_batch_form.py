"""The batch admin form: a production date whose default expiry (plus the goods' shelf life)
would pass the last date there is is refused on the form, never a 500."""

import datetime as dt

import pytest
from django.urls import reverse

from inventory.models import Batch
from inventory.tests.factories import GoodsFactory

pytestmark = pytest.mark.django_db


def test_a_production_date_with_no_possible_expiry_is_a_form_error(admin_client):
    goods = GoodsFactory(sku="TEA-9", shelf_life_days=100)
    response = admin_client.post(
        reverse("admin:inventory_batch_add"),
        {
            "goods": goods.pk,
            "batch_no": "L9",
            "production_date": dt.date(9999, 12, 1).isoformat(),
            "expiry_date": "",
            "inbound_date": "",
        },
    )
    assert response.status_code == 200
    assert "Enter a valid date." in response.content.decode()
    assert not Batch.objects.filter(batch_no="L9").exists()


def test_a_blank_expiry_takes_the_production_date_plus_the_shelf_life(admin_client):
    goods = GoodsFactory(sku="TEA-8", shelf_life_days=100)
    response = admin_client.post(
        reverse("admin:inventory_batch_add"),
        {
            "goods": goods.pk,
            "batch_no": "L8",
            "production_date": "2026-01-01",
            "expiry_date": "",
            "inbound_date": "",
        },
    )
    assert response.status_code == 302
    assert Batch.objects.get(batch_no="L8").expiry_date == dt.date(2026, 4, 11)
