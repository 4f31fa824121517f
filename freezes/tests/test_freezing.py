"""Manual freezes: scopes, quantities, refusals, overlaps, sticky arrivals, outbound from frozen."""

import datetime

import pytest
from django.utils import timezone

from freezes.exceptions import FreezeClosed, ScopeMatchesNothing
from freezes.models import Freeze, FreezeEvent, FreezeLine, Reason
from freezes.scope import Scope
from freezes.services.freezing import freeze_create, freeze_ship_out, freeze_update
from freezes.services.release import release_request_approve, release_request_create
from freezes.tests.conftest import Kind, receive, ship
from inventory import ledger
from inventory.exceptions import (
    AlreadyPosted,
    InsufficientStock,
    InvalidInput,
    InvalidQuantity,
    NotAllowed,
)
from inventory.models import StockBalance, StockMovement
from inventory.tests.factories import CategoryFactory, GoodsFactory

pytestmark = pytest.mark.django_db


def _freeze(user, scope, **kwargs):
    kwargs.setdefault("reason", Reason.QC_HOLD)
    return freeze_create(scope=scope, operator=user, **kwargs)


def test_freeze_a_batch_holds_everything_available_on_lines_with_a_created_event(world, make_user):
    # given
    clerk = make_user("staff")
    old = receive(world.snack, world.bin, 30, batch=world.batch_old)
    receive(world.snack, world.bin, 50, batch=world.batch_new)

    # when
    freeze = _freeze(clerk, Scope(goods_id=world.snack.pk, batch_id=world.batch_old.pk), note="x")

    # then
    old.refresh_from_db()
    assert old.frozen == 30 and old.available == 0
    line = freeze.lines.get()
    assert (line.balance_id, line.quantity, line.held) == (old.pk, 30, 30)
    event = freeze.events.get()
    assert (event.kind, event.actor, event.quantity) == (FreezeEvent.Kind.CREATED, clerk, 30)
    movement = StockMovement.objects.get(kind=Kind.FREEZE)
    assert (movement.document_type, movement.document_id) == ("freeze", freeze.pk)
    assert movement.operator == clerk


def test_freezing_a_category_includes_its_sub_categories(world, make_user):
    # given
    balance = receive(world.snack, world.bin, 10)
    receive(world.phone, world.bin, 10)

    # when
    freeze = _freeze(make_user("staff"), Scope(category_id=world.food.pk))

    # then
    assert list(freeze.lines.values_list("balance_id", flat=True)) == [balance.pk]


def test_freeze_combines_brand_category_and_warehouse(world, make_user):
    # given: "all snacks of brand X in this warehouse"
    here = receive(world.snack, world.bin, 10)
    receive(world.snack, world.other_bin, 10)
    other_brand = GoodsFactory(category=world.snacks, brand=world.brand_y)
    receive(other_brand, world.bin, 10)

    # when
    freeze = _freeze(
        make_user("staff"),
        Scope(
            category_id=world.snacks.pk,
            brand_id=world.brand_x.pk,
            warehouse_id=world.warehouse.pk,
        ),
    )

    # then
    assert list(freeze.lines.values_list("balance_id", flat=True)) == [here.pk]


def test_freeze_by_inbound_and_production_date_ranges(world, make_user):
    # given
    old = receive(world.snack, world.bin, 10, batch=world.batch_old)
    receive(world.snack, world.bin, 10, batch=world.batch_new)
    receive(world.snack, world.bin2, 10)  # no batch, no dates

    # when
    by_production = _freeze(
        make_user("staff"),
        Scope(produced_from=datetime.date(2024, 3, 1), produced_to=datetime.date(2024, 3, 31)),
    )

    # then
    assert list(by_production.lines.values_list("balance_id", flat=True)) == [old.pk]
    with pytest.raises(ScopeMatchesNothing):
        _freeze(
            make_user("manager"),
            Scope(inbound_from=datetime.date(2025, 1, 1)),
        )


def test_a_set_quantity_is_frozen_first_expiry_first(world, make_user):
    # given
    old = receive(world.snack, world.bin, 30, batch=world.batch_old)
    new = receive(world.snack, world.bin, 50, batch=world.batch_new)

    # when
    freeze = _freeze(
        make_user("staff"), Scope(goods_id=world.snack.pk), quantity=40, reason="presale_reserve"
    )

    # then
    held = dict(freeze.lines.values_list("balance_id", "quantity"))
    assert held == {old.pk: 30, new.pk: 10}
    assert freeze.requested_quantity == 40


def test_freezing_more_than_available_is_refused_with_the_shortfall_and_changes_nothing(
    world, make_user
):
    # given
    balance = receive(world.phone, world.bin, 480)

    # when
    with pytest.raises(InsufficientStock) as refused:
        _freeze(
            make_user("staff"),
            Scope(goods_id=world.phone.pk),
            quantity=500,
            reason=Reason.PRESALE_RESERVE,
        )

    # then
    assert refused.value.shortfall == 20
    assert "short by 20" in str(refused.value)
    balance.refresh_from_db()
    assert balance.frozen == 0
    assert not Freeze.objects.exists() and not FreezeEvent.objects.exists()


def test_a_scope_that_matches_nothing_is_refused(world, make_user):
    # given: the phone has no stock
    receive(world.snack, world.bin, 10)

    # when / then
    with pytest.raises(ScopeMatchesNothing):
        _freeze(make_user("staff"), Scope(goods_id=world.phone.pk))
    assert not Freeze.objects.exists()


def test_an_empty_scope_and_reversed_dates_are_refused(world, make_user):
    # given
    receive(world.snack, world.bin, 10)
    clerk = make_user("staff")

    # when / then
    with pytest.raises(InvalidInput):
        _freeze(clerk, Scope())
    with pytest.raises(InvalidInput):
        _freeze(
            clerk,
            Scope(inbound_from=datetime.date(2024, 5, 1), inbound_to=datetime.date(2024, 4, 1)),
        )
    with pytest.raises(InvalidInput):
        _freeze(clerk, Scope(goods_id=world.snack.pk), reason=Reason.OTHER)
    with pytest.raises(InvalidQuantity):
        _freeze(clerk, Scope(goods_id=world.snack.pk), quantity=0)
    assert not Freeze.objects.exists()


def test_a_scope_whose_stock_is_all_held_already_is_refused(world, make_user):
    # given
    receive(world.snack, world.bin, 10)
    _freeze(make_user("staff"), Scope(goods_id=world.snack.pk))

    # when / then
    with pytest.raises(InsufficientStock):
        _freeze(make_user("manager"), Scope(goods_id=world.snack.pk))
    assert Freeze.objects.count() == 1


def test_overlapping_freezes_with_different_reasons_are_released_independently(world, make_user):
    # given
    clerk, manager = make_user("staff"), make_user("manager")
    balance = receive(world.snack, world.bin, 100)
    qc = _freeze(clerk, Scope(goods_id=world.snack.pk), quantity=30)
    presale = _freeze(clerk, Scope(bin_id=world.bin.pk), quantity=50, reason=Reason.PRESALE_RESERVE)
    balance.refresh_from_db()
    assert balance.frozen == 80

    # when
    request = release_request_create(freeze=qc, requester=clerk, reason="checked")
    release_request_approve(request=request, approver=manager, comment="ok")

    # then
    balance.refresh_from_db()
    assert balance.frozen == 50 and balance.available == 50
    qc.refresh_from_db()
    presale.refresh_from_db()
    assert qc.status == Freeze.Status.CLOSED
    assert presale.status == Freeze.Status.ACTIVE
    assert presale.lines.get().held == 50


def test_frozen_stock_cannot_be_shipped(world, make_user):
    # given
    balance = receive(world.snack, world.bin, 10)
    _freeze(make_user("staff"), Scope(goods_id=world.snack.pk))

    # when / then
    with pytest.raises(InsufficientStock):
        ship(world.snack, world.warehouse, 1)
    with pytest.raises(InsufficientStock):
        ship(world.snack, world.warehouse, 1, balance=balance)
    assert not StockMovement.objects.filter(kind=Kind.OUTBOUND_ORDER_SHIPMENT).exists()


def test_a_double_submit_creates_one_freeze(world, make_user):
    # given
    receive(world.snack, world.bin, 10)
    clerk = make_user("staff")
    _freeze(clerk, Scope(goods_id=world.snack.pk), quantity=4, idempotency_key="form-1")

    # when / then
    with pytest.raises(AlreadyPosted):
        _freeze(clerk, Scope(goods_id=world.snack.pk), quantity=4, idempotency_key="form-1")
    assert Freeze.objects.count() == 1
    assert StockBalance.objects.get().frozen == 4


def test_a_closed_freeze_cannot_be_edited_released_or_shipped_from(world, make_user):
    # given
    clerk, manager = make_user("staff"), make_user("manager")
    receive(world.snack, world.bin, 10)
    freeze = _freeze(clerk, Scope(goods_id=world.snack.pk))
    line = freeze.lines.get()
    approve = release_request_create(freeze=freeze, requester=clerk, reason="fine")
    release_request_approve(request=approve, approver=manager, comment="ok")
    freeze.refresh_from_db()
    events = freeze.events.count()

    # when / then
    with pytest.raises(FreezeClosed):
        freeze_update(
            freeze=freeze, operator=clerk, note="late", release_at=None, release_on_qc_pass=False
        )
    with pytest.raises(FreezeClosed):
        release_request_create(freeze=freeze, requester=clerk, reason="again")
    with pytest.raises(FreezeClosed):
        freeze_ship_out(
            freeze=freeze,
            line=line,
            quantity=1,
            outbound="scrap",
            operator=manager,
            reason="broken",
        )
    assert freeze.events.count() == events


def test_a_sticky_freeze_freezes_matching_arrivals_inside_the_receipt(world, make_user):
    # given
    clerk = make_user("staff")
    receive(world.snack, world.bin, 10)
    freeze = _freeze(clerk, Scope(goods_id=world.snack.pk), is_sticky=True)

    # when
    arrived = receive(world.snack, world.bin2, 7, operator=clerk)
    receive(world.phone, world.bin2, 5)

    # then
    arrived.refresh_from_db()
    assert arrived.frozen == 7 and arrived.available == 0
    assert sorted(freeze.lines.values_list("quantity", flat=True)) == [7, 10]
    added = freeze.events.get(kind=FreezeEvent.Kind.LINES_ADDED)
    assert (added.quantity, added.document_ref) == (7, "IN-TEST")
    assert StockBalance.objects.get(goods=world.phone).frozen == 0


def test_a_sticky_freeze_does_not_catch_stock_moved_between_bins(world, make_user):
    # given
    clerk, manager = make_user("staff"), make_user("manager")
    receive(world.snack, world.bin, 10)
    freeze = _freeze(clerk, Scope(goods_id=world.snack.pk), quantity=4, is_sticky=True)

    # when
    ledger.transfer(
        moves=[ledger.Move(world.snack.pk, world.bin.pk, world.bin2.pk, 6)],
        document=ledger.Document(type="transfer", ref="T-1"),
    )

    # then
    assert freeze.lines.get().quantity == 4
    assert StockBalance.objects.get(bin=world.bin2).frozen == 0
    assert manager  # the manager exists to show nobody else froze anything


def test_a_sticky_freeze_of_a_bin_freezes_stock_moved_into_that_bin(world, make_user):
    # given: a quarantine bin frozen with its arrivals, and snacks available in another bin
    clerk = make_user("staff")
    receive(world.snack, world.bin, 2)
    outside = receive(world.snack, world.bin2, 10)
    freeze = _freeze(clerk, Scope(bin_id=world.bin.pk), is_sticky=True)

    # when: a clerk moves 6 suspect snacks into the quarantine bin
    ledger.transfer(
        moves=[ledger.Move(world.snack.pk, world.bin2.pk, world.bin.pk, 6)],
        document=ledger.Document(type="transfer", ref="T-QC"),
        operator=clerk,
    )

    # then: they arrived in the frozen bin, so they are frozen there; nothing else is
    quarantined = StockBalance.objects.get(goods=world.snack, bin=world.bin)
    assert (quarantined.on_hand, quarantined.frozen) == (8, 8)
    outside.refresh_from_db()
    assert (outside.on_hand, outside.frozen) == (4, 0)
    assert freeze.lines.get().quantity == 8
    added = freeze.events.get(kind=FreezeEvent.Kind.LINES_ADDED)
    assert (added.quantity, added.document_ref) == (6, "T-QC")
    with pytest.raises(InsufficientStock):
        ship(world.snack, world.warehouse, 1, balance=quarantined)


def test_a_non_sticky_freeze_ignores_arrivals(world, make_user):
    # given
    receive(world.snack, world.bin, 10)
    _freeze(make_user("staff"), Scope(goods_id=world.snack.pk))

    # when
    arrived = receive(world.snack, world.bin, 5)

    # then
    assert arrived.frozen == 10 and arrived.available == 5


def test_scrapping_frozen_stock_is_recorded_on_the_freeze_and_closes_it(world, make_user):
    # given
    clerk, manager = make_user("staff"), make_user("manager")
    balance = receive(world.snack, world.bin, 10, batch=world.batch_old)
    freeze = _freeze(clerk, Scope(batch_id=world.batch_old.pk), reason=Reason.DAMAGED)
    line = freeze.lines.get()

    # when
    freeze_ship_out(
        freeze=freeze, line=line, quantity=4, outbound="scrap", operator=manager, reason="torn"
    )
    freeze_ship_out(
        freeze=freeze,
        line=line,
        quantity=6,
        outbound="purchase_return",
        operator=manager,
        reason="back to supplier",
    )

    # then
    balance.refresh_from_db()
    assert (balance.on_hand, balance.frozen) == (0, 0)
    line.refresh_from_db()
    assert (line.shipped, line.held) == (10, 0)
    kinds = list(freeze.events.values_list("kind", flat=True))
    assert kinds == ["created", "scrapped", "returned", "closed"]
    movements = StockMovement.objects.filter(document_type="freeze", document_id=freeze.pk)
    assert set(movements.values_list("kind", flat=True)) == {
        Kind.FREEZE,
        Kind.OUTBOUND_OTHER,
        Kind.OUTBOUND_PURCHASE_RETURN,
    }
    freeze.refresh_from_db()
    assert freeze.status == Freeze.Status.CLOSED


def test_taking_out_more_than_the_line_holds_is_refused(world, make_user):
    # given
    manager = make_user("manager")
    balance = receive(world.snack, world.bin, 10)
    freeze = _freeze(make_user("staff"), Scope(goods_id=world.snack.pk), quantity=3)

    # when / then
    with pytest.raises(InvalidQuantity):
        freeze_ship_out(
            freeze=freeze,
            line=freeze.lines.get(),
            quantity=4,
            outbound="scrap",
            operator=manager,
            reason="x",
        )
    with pytest.raises(InvalidInput):
        freeze_ship_out(
            freeze=freeze,
            line=freeze.lines.get(),
            quantity=1,
            outbound="order_shipment",
            operator=manager,
            reason="x",
        )
    balance.refresh_from_db()
    assert (balance.on_hand, balance.frozen) == (10, 3)


def test_frozen_units_leaving_through_another_document_are_recorded_on_the_lines(world, make_user):
    # given: 4 units frozen directly through the ledger (no freeze), 6 by a freeze
    balance = receive(world.snack, world.bin, 10)
    ledger.freeze(holds=[ledger.Hold(balance.pk, 4)], document=ledger.Document(type="other"))
    freeze = _freeze(make_user("staff"), Scope(goods_id=world.snack.pk))

    # when: an outbound sheet scraps 7 frozen units
    ledger.issue(
        kind=Kind.OUTBOUND_OTHER,
        warehouse_id=world.warehouse.pk,
        lines=[ledger.Pick(world.snack.pk, 7, balance_id=balance.pk, from_frozen=True)],
        document=ledger.Document(type="outbound", ref="OUT-9"),
    )

    # then: the 4 unaccounted units go first, 3 come off the freeze line
    line = freeze.lines.get()
    assert (line.shipped, line.held) == (3, 3)
    event = freeze.events.get(kind=FreezeEvent.Kind.SCRAPPED)
    assert (event.quantity, event.document_ref) == (3, "OUT-9")


def test_a_direct_unfreeze_is_recorded_and_an_emptied_freeze_is_closed_by_the_sweep(
    world, make_user
):
    # given
    from freezes.services.release import freezes_release_due

    balance = receive(world.snack, world.bin, 10)
    freeze = _freeze(make_user("staff"), Scope(goods_id=world.snack.pk))

    # when
    ledger.unfreeze(holds=[ledger.Hold(balance.pk, 10)], document=ledger.Document(type="other"))
    freezes_release_due()

    # then
    assert freeze.lines.get().held == 0
    freeze.refresh_from_db()
    assert freeze.status == Freeze.Status.CLOSED
    assert list(freeze.events.values_list("kind", flat=True)) == [
        "created",
        "released_outside",
        "closed",
    ]


def test_a_release_time_in_the_past_is_refused(world, make_user):
    # given
    receive(world.snack, world.bin, 10)

    # when / then
    with pytest.raises(InvalidInput):
        _freeze(
            make_user("staff"),
            Scope(goods_id=world.snack.pk),
            release_at=timezone.now() - datetime.timedelta(minutes=1),
        )


def test_lines_never_hold_more_than_the_balance_freezes(world, make_user):
    # given
    clerk = make_user("staff")
    receive(world.snack, world.bin, 100, batch=world.batch_old)
    category = CategoryFactory(parent=world.snacks)
    goods = GoodsFactory(category=category)
    receive(goods, world.bin, 5)

    # when
    _freeze(clerk, Scope(category_id=world.food.pk), quantity=50)
    _freeze(clerk, Scope(warehouse_id=world.warehouse.pk))

    # then
    for balance in StockBalance.objects.all():
        held = sum(line.held for line in FreezeLine.objects.filter(balance=balance))
        assert held == balance.frozen
    with pytest.raises(NotAllowed):
        ledger.issue(
            kind=Kind.OUTBOUND_ORDER_SHIPMENT,
            warehouse_id=world.warehouse.pk,
            lines=[ledger.Pick(goods.pk, 1, from_frozen=True)],
            document=ledger.Document(type="outbound"),
        )
