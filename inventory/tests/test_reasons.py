"""Movement reasons are stored as codes and shown as labels (``inventory.reasons``)."""

import pytest
from django.urls import reverse
from django.utils import translation

from inventory.models import InboundSheet, StockMovement
from inventory.reasons import join_reasons, reason, reason_label, register_reasons
from inventory.services import stock as services
from inventory.tests.factories import GoodsFactory
from warehouses.tests.factories import BinFactory

Kind = StockMovement.Kind


def test_codes_read_as_labels_and_other_text_as_stored():
    # given
    stored = join_reasons(reason("reversal", "IN-000007: wrong PO"), "frozen_taken_out")

    # when / then
    assert stored == "reversal: IN-000007: wrong PO · frozen_taken_out"
    assert reason_label(stored) == "Reversal of IN-000007: wrong PO · frozen stock taken out"
    assert reason_label("PO 4411 from supplier") == "PO 4411 from supplier"
    assert reason_label("") == ""
    with translation.override("zh-hans"):
        assert reason_label("reversal: IN-000007: wrong PO") == "冲销 IN-000007: wrong PO"


def test_only_registered_codes_are_written():
    with pytest.raises(ValueError):
        reason("no_such_code")
    with pytest.raises(ValueError):
        register_reasons({"Has Spaces": "x"})


@pytest.mark.django_db
def test_a_reversal_stores_codes_and_the_ledger_shows_labels_in_each_language(client, make_user):
    # given
    clerk = make_user("manager")
    bin_ = BinFactory()
    goods = GoodsFactory(sku="RSN-1")
    sheet = services.inbound_sheet_create(
        warehouse=bin_.warehouse, type=InboundSheet.Type.PURCHASE, user=clerk
    )
    services.inbound_line_add(sheet=sheet, goods=goods, bin=bin_, quantity=3)
    services.inbound_sheet_post(sheet_id=sheet.pk, user=clerk)

    # when
    services.inbound_sheet_reverse(sheet_id=sheet.pk, user=clerk, reason="wrong PO")
    client.force_login(clerk)
    english = client.get(reverse("inventory:ledger"), {"goods": "RSN-1"}).content.decode()
    with translation.override("zh-hans"):  # restores the language the request switches
        chinese = client.get(
            reverse("inventory:ledger"), {"goods": "RSN-1"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
        ).content.decode()

    # then
    stored = StockMovement.objects.get(kind=Kind.INBOUND_REVERSAL).reason
    assert stored == f"reversal: {sheet.number}: wrong PO"
    assert f"Reversal of {sheet.number}: wrong PO" in english
    assert f"冲销 {sheet.number}: wrong PO" in chinese
    assert "reversal:" not in english
