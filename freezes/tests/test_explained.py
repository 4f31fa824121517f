"""Refusals and automatic actions that explain themselves (issue 14): a shipment refused for want
of available stock names the freezes holding it, with a link to ask for their release (screens
and the ledger's message, which the API returns); a receipt a rule froze says so on the sheet's
page and in its movement rows."""

import pytest
from django.urls import reverse

from freezes.models import Freeze, FreezeRule, Reason
from freezes.scope import Scope
from freezes.services.freezing import freeze_create
from freezes.services.rules import rule_create, rule_set_active
from freezes.tests.conftest import receive, ship
from inventory.exceptions import InsufficientStock
from inventory.models import StockMovement
from inventory.services.stock import (
    inbound_line_add,
    inbound_sheet_create,
    inbound_sheet_post,
    outbound_line_add,
    outbound_sheet_create,
)

pytestmark = pytest.mark.django_db


def _freeze_all(world, user, reason=Reason.DAMAGED):
    return freeze_create(scope=Scope(goods_id=world.snack.pk), reason=reason, operator=user)


def test_a_refused_shipment_names_the_freeze_that_holds_the_stock(world, make_user):
    # given: 200 on hand, all frozen as damaged
    manager = make_user("manager")
    receive(world.snack, world.bin, 200)
    freeze = _freeze_all(world, manager)

    # when
    with pytest.raises(InsufficientStock) as refused:
        ship(world.snack, world.bin.warehouse, 50)

    # then: the figures and the freeze, by number and reason
    error = refused.value
    assert (error.requested, error.available, error.on_hand, error.frozen) == (50, 0, 200, 200)
    assert str(error) == (
        f"Not enough {world.snack.sku}: 50 requested, 0 available: 200 on hand, "
        f"200 frozen by {freeze.number} (Damaged)."
    )
    assert [holder.ref for holder in error.holders] == [freeze.number]
    release_url = reverse("freezes:release-request", args=[freeze.pk])
    assert f'href="{release_url}"' in error.message_html


def test_the_refusal_counts_only_the_balances_the_pick_could_use(world, make_user):
    # given: 10 free in one bin and 5 frozen in another; a pick named on the frozen bin
    manager = make_user("manager")
    receive(world.snack, world.bin, 10)
    balance = receive(world.snack, world.bin2, 5)
    freeze = freeze_create(
        scope=Scope(bin_id=world.bin2.pk),
        reason=Reason.QC_HOLD,
        operator=manager,
    )

    # when
    with pytest.raises(InsufficientStock) as refused:
        ship(world.snack, world.bin.warehouse, 3, balance=balance)

    # then
    assert "5 on hand, 5 frozen by " + freeze.number in str(refused.value)
    assert "QC hold" in str(refused.value)


def test_a_shortage_without_freezes_says_what_is_on_hand(world):
    # given
    receive(world.snack, world.bin, 4)

    # when
    with pytest.raises(InsufficientStock) as refused:
        ship(world.snack, world.bin.warehouse, 9)

    # then
    assert str(refused.value) == (
        f"Not enough {world.snack.sku}: 9 requested, 4 available: 4 on hand."
    )
    assert refused.value.holders == []


def test_posting_a_sheet_on_the_screen_shows_the_freeze_and_the_release_link(
    client, world, make_user
):
    # given: a draft outbound sheet for stock that a freeze holds
    manager = make_user("manager")
    receive(world.snack, world.bin, 200)
    freeze = _freeze_all(world, manager)
    sheet = outbound_sheet_create(
        warehouse=world.bin.warehouse, type="order_shipment", user=manager
    )
    outbound_line_add(sheet=sheet, goods=world.snack, quantity=50, bin=world.bin)
    client.force_login(manager)

    # when
    response = client.post(reverse("inventory:outbound-post", args=[sheet.pk]), follow=True)

    # then: the message names the freeze and links to its release request; nothing moved
    page = response.content.decode()
    assert f"200 frozen by {freeze.number} (Damaged)" in page
    assert reverse("freezes:release-request", args=[freeze.pk]) in page
    assert not StockMovement.objects.filter(document_ref=sheet.number).exists()


def test_a_receipt_a_rule_froze_says_so_on_its_page_and_in_its_movements(client, world, make_user):
    # given: a switched-on returns rule
    manager = make_user("manager")
    rule = rule_create(
        operator=manager,
        name="Sales returns",
        kind=FreezeRule.Kind.SALES_RETURN,
        reason=Reason.AFTER_SALES_RETURN,
    )
    rule_set_active(rule=rule, operator=manager, active=True)
    sheet = inbound_sheet_create(warehouse=world.bin.warehouse, type="sales_return", user=manager)
    inbound_line_add(sheet=sheet, goods=world.snack, bin=world.bin, quantity=5)

    # when
    inbound_sheet_post(sheet_id=sheet.pk, user=manager)
    client.force_login(manager)
    response = client.get(reverse("inventory:inbound-detail", args=[sheet.pk]))

    # then
    freeze = Freeze.objects.get(rule=rule)
    notes = response.context["posting_notes"]
    assert [(n.text, n.ref) for n in notes] == [
        ("5 units frozen on arrival by rule 'Sales returns'", freeze.number)
    ]
    page = response.content.decode()
    assert reverse("freezes:freeze-detail", args=[freeze.pk]) in page
    [arrival] = [m for m in response.context["movements"] if m.on_hand_delta > 0]
    assert [n.ref for n in arrival.notes] == [freeze.number]

    # then: the ledger's rows say it too
    ledger_page = client.get(reverse("inventory:ledger"), {"q": world.snack.sku})
    assert "frozen on arrival by rule" in ledger_page.content.decode()
