"""Reversing an outbound sheet that took frozen stock (scrap, purchase return) brings the units
back frozen into the freeze lines they left, with a ``back_frozen`` event; a freeze that had
closed when its stock left is reopened. Never as available stock."""

import pytest
from django.utils import translation

from freezes.models import Freeze, FreezeEvent, Reason
from freezes.scope import Scope
from freezes.services.freezing import freeze_create
from freezes.services.release import freezes_release_due, release_request_create
from freezes.tests.conftest import receive
from inventory.models import OutboundSheet, StockBalance
from inventory.services import stock as sheets

pytestmark = pytest.mark.django_db


def _sheet_from_frozen(user, world, lines, type=OutboundSheet.Type.OTHER):
    sheet = sheets.outbound_sheet_create(warehouse=world.warehouse, type=type, user=user)
    for goods, bin_, quantity in lines:
        sheets.outbound_line_add(
            sheet=sheet, goods=goods, bin=bin_, quantity=quantity, from_frozen=True
        )
    return sheets.outbound_sheet_post(sheet_id=sheet.pk, user=user)


def _freeze(user, world, **kwargs):
    return freeze_create(
        scope=Scope(goods_id=world.snack.pk), reason=Reason.DAMAGED, operator=user, **kwargs
    )


def test_scrapped_frozen_units_come_back_frozen_into_their_freeze(world, make_user):
    # given: a freeze of 10 units; a scrap sheet took 4 of them
    manager = make_user("manager")
    balance = receive(world.snack, world.bin, 10)
    freeze = _freeze(make_user("staff"), world)
    sheet = _sheet_from_frozen(manager, world, [(world.snack, world.bin, 4)])
    assert freeze.lines.get().held == 6

    # when
    reversal = sheets.outbound_sheet_reverse(sheet_id=sheet.pk, user=manager, reason="wrong bin")

    # then
    balance.refresh_from_db()
    assert (balance.on_hand, balance.frozen, balance.available) == (10, 10, 0)
    line = freeze.lines.get()
    assert (line.held, line.shipped) == (10, 0)
    event = freeze.events.get(kind=FreezeEvent.Kind.BACK_FROZEN)
    assert (event.quantity, event.document_ref, event.actor) == (4, reversal.number, manager)
    assert event.comment == sheet.number  # the document, not text in someone's language
    assert event.comment_display() == f"Reversal of {sheet.number}"
    with translation.override("zh-hans"):
        shown = event.comment_display()
    assert sheet.number in shown and "Reversal" not in shown


def test_a_freeze_closed_when_its_stock_was_returned_is_reopened_by_the_reversal(world, make_user):
    # given: everything the freeze held left on a purchase return, and the sweep closed it
    manager, clerk = make_user("manager"), make_user("staff")
    receive(world.snack, world.bin, 3)
    freeze = _freeze(clerk, world)
    sheet = _sheet_from_frozen(
        manager, world, [(world.snack, world.bin, 3)], type=OutboundSheet.Type.PURCHASE_RETURN
    )
    freezes_release_due()
    freeze.refresh_from_db()
    assert freeze.status == Freeze.Status.CLOSED

    # when
    sheets.outbound_sheet_reverse(sheet_id=sheet.pk, user=manager, reason="supplier refused")

    # then: active again, holding the 3 units, and a release goes through a request as usual
    freeze.refresh_from_db()
    assert freeze.status == Freeze.Status.ACTIVE and freeze.closed_at is None
    assert freeze.lines.get().held == 3
    kinds = list(freeze.events.order_by("pk").values_list("kind", flat=True))
    assert kinds[-2:] == [FreezeEvent.Kind.REOPENED, FreezeEvent.Kind.BACK_FROZEN]
    assert StockBalance.objects.get().available == 0
    release_request_create(freeze=freeze, requester=clerk, reason="supplier took them after all")


def test_units_of_two_freezes_on_one_balance_go_back_to_each_as_they_left(world, make_user):
    # given: freeze A holds 4 (older), freeze B 6; a scrap of 7 took 4 from A and 3 from B
    manager, clerk = make_user("manager"), make_user("staff")
    receive(world.snack, world.bin, 10)
    first = _freeze(clerk, world, quantity=4)
    second = _freeze(clerk, world, quantity=6)
    sheet = _sheet_from_frozen(manager, world, [(world.snack, world.bin, 7)])
    assert (first.lines.get().held, second.lines.get().held) == (0, 3)

    # when
    sheets.outbound_sheet_reverse(sheet_id=sheet.pk, user=manager, reason="count error")

    # then
    assert (first.lines.get().held, second.lines.get().held) == (4, 6)
    assert first.events.get(kind=FreezeEvent.Kind.BACK_FROZEN).quantity == 4
    assert second.events.get(kind=FreezeEvent.Kind.BACK_FROZEN).quantity == 3
    balance = StockBalance.objects.get()
    assert (balance.frozen, balance.available) == (10, 0)
