"""Auto-freeze rules: on receipt inside the posting, near expiry set-based, dry runs."""

import datetime

import pytest
from django.utils import timezone

from freezes.models import Freeze, FreezeEvent, FreezeLine, FreezeRule, Reason, ReleaseMode
from freezes.scope import Scope
from freezes.services.freezing import freeze_create
from freezes.services.release import (
    freezes_release_due,
    inspection_record,
    release_request_approve,
    release_request_create,
)
from freezes.services.rules import (
    near_expiry_scan,
    near_expiry_scan_all,
    rule_create,
    rule_dry_run,
    rule_set_active,
    rule_update,
)
from freezes.tests.conftest import Kind, receive
from inventory import ledger
from inventory.exceptions import InvalidInput
from inventory.models import StockBalance, StockMovement
from inventory.tests.factories import BatchFactory, GoodsFactory

pytestmark = pytest.mark.django_db


def _rule(user, **kwargs):
    active = kwargs.pop("active", True)
    rule = rule_create(operator=user, **kwargs)
    if active:
        rule = rule_set_active(rule=rule, operator=user, active=True)
    return rule


def test_a_returns_rule_freezes_returned_units_inside_the_receipt(world, make_user):
    # given
    manager = make_user("manager")
    rule = _rule(
        manager,
        name="Returns",
        kind=FreezeRule.Kind.SALES_RETURN,
        reason=Reason.AFTER_SALES_RETURN,
    )
    receive(world.snack, world.bin, 10)

    # when: one posting with 3 returned units on a balance that already holds 10
    balance = receive(world.snack, world.bin, 3, kind=Kind.INBOUND_SALES_RETURN)

    # then
    assert (balance.on_hand, balance.frozen, balance.available) == (13, 3, 10)
    freeze = Freeze.objects.get(rule=rule)
    assert (freeze.reason, freeze.source_ref, freeze.created_by) == (
        Reason.AFTER_SALES_RETURN,
        "IN-TEST",
        None,
    )
    event = freeze.events.get()
    assert (event.kind, event.rule, event.actor, event.quantity) == ("created", rule, None, 3)


def test_a_returns_rule_ignores_purchases_and_a_switched_off_rule_does_nothing(world, make_user):
    # given
    manager = make_user("manager")
    _rule(manager, name="Returns", kind="sales_return", reason="after_sales_return")
    _rule(
        manager,
        name="Off",
        kind="category_arrival",
        reason="qc_hold",
        categories=[world.food],
        active=False,
    )

    # when
    balance = receive(world.snack, world.bin, 5)

    # then
    assert balance.frozen == 0
    assert not Freeze.objects.exists()


def test_a_category_rule_freezes_arrivals_until_qc_passes(world, make_user):
    # given
    manager, qc = make_user("manager"), make_user("qc")
    rule = _rule(
        manager,
        name="Fresh produce until QC",
        kind=FreezeRule.Kind.CATEGORY_ARRIVAL,
        reason=Reason.QC_HOLD,
        categories=[world.food],
        release_mode=ReleaseMode.ON_QC_PASS,
    )

    # when: a snack (sub-category of food) and a phone arrive
    snack = receive(world.snack, world.bin, 8, batch=world.batch_old)
    phone = receive(world.phone, world.bin, 8)

    # then
    assert (snack.frozen, phone.frozen) == (8, 0)
    freeze = Freeze.objects.get(rule=rule)
    assert freeze.release_on_qc_pass

    # when: QC passes the batch
    inspection_record(inspector=qc, batch=world.batch_old, result="pass")

    # then
    snack.refresh_from_db()
    assert snack.frozen == 0
    freeze.refresh_from_db()
    assert freeze.status == Freeze.Status.CLOSED
    released = freeze.events.get(kind=FreezeEvent.Kind.RELEASED_ON_QC)
    assert (released.rule, released.actor, released.quantity) == (rule, qc, 8)


def test_two_rules_and_a_sticky_freeze_never_freeze_the_same_units_twice(world, make_user):
    # given
    manager = make_user("manager")
    receive(world.snack, world.bin, 1)
    sticky = freeze_create(
        scope=Scope(goods_id=world.snack.pk), reason="damaged", is_sticky=True, operator=manager
    )
    returns = _rule(manager, name="Returns", kind="sales_return", reason="after_sales_return")
    produce = _rule(
        manager, name="QC", kind="category_arrival", reason="qc_hold", categories=[world.food]
    )

    # when
    balance = receive(world.snack, world.bin2, 6, kind=Kind.INBOUND_SALES_RETURN)

    # then: the first rule takes the 6 units; nothing is left for the others
    assert (balance.on_hand, balance.frozen) == (6, 6)
    assert FreezeLine.objects.filter(balance=balance).count() == 1
    assert FreezeLine.objects.get(balance=balance).freeze.rule == returns
    assert not Freeze.objects.filter(rule=produce).exists()
    assert sticky.lines.count() == 1


def test_a_transfer_from_another_warehouse_is_an_arrival_but_a_bin_move_is_not(world, make_user):
    # given
    manager = make_user("manager")
    _rule(manager, name="QC", kind="category_arrival", reason="qc_hold", categories=[world.food])
    # the stock was received before the rule existed: make room by releasing the rule's freeze
    rule = FreezeRule.objects.get()
    rule_set_active(rule=rule, operator=manager, active=False)
    receive(world.snack, world.bin, 10)
    rule_set_active(rule=rule, operator=manager, active=True)

    # when
    ledger.transfer(
        moves=[ledger.Move(world.snack.pk, world.bin.pk, world.bin2.pk, 4)],
        document=ledger.Document(type="transfer"),
    )
    ledger.receive(
        kind=Kind.TRANSFER_IN,
        lines=[ledger.Receipt(world.snack.pk, world.other_bin.pk, 2, from_bin_id=world.bin.pk)],
        document=ledger.Document(type="transfer", ref="WT-1"),
    )

    # then
    assert StockBalance.objects.get(bin=world.bin2).frozen == 0
    assert StockBalance.objects.get(bin=world.other_bin).frozen == 2


def test_rules_are_validated(world, make_user):
    # given
    manager = make_user("manager")
    past = timezone.now() - datetime.timedelta(hours=1)

    # when / then
    with pytest.raises(InvalidInput):
        rule_create(operator=manager, name="", kind="sales_return", reason="qc_hold")
    with pytest.raises(InvalidInput):
        rule_create(operator=manager, name="x", kind="near_expiry", reason="near_expiry")
    with pytest.raises(InvalidInput):
        rule_create(operator=manager, name="x", kind="category_arrival", reason="qc_hold")
    with pytest.raises(InvalidInput):
        rule_create(
            operator=manager,
            name="x",
            kind="sales_return",
            reason="qc_hold",
            release_mode=ReleaseMode.AT_TIME,
            release_at=past,
        )
    assert not FreezeRule.objects.exists()


def test_a_rule_with_a_release_time_releases_its_freezes_at_that_time(world, make_user):
    # given
    manager = make_user("manager")
    now = timezone.now()
    rule = _rule(
        manager,
        name="Presale",
        kind="category_arrival",
        reason="presale_reserve",
        categories=[world.phones],
        release_mode=ReleaseMode.AT_TIME,
        release_at=now + datetime.timedelta(hours=1),
    )
    phone = receive(world.phone, world.bin, 5)
    assert phone.frozen == 5

    # when: the time is moved, then comes
    rule_update(
        rule=rule,
        operator=manager,
        name="Presale",
        reason="presale_reserve",
        categories=[world.phones],
        release_mode=ReleaseMode.AT_TIME,
        release_at=now + datetime.timedelta(hours=3),
    )
    early = freezes_release_due(now=now + datetime.timedelta(hours=2))
    on_time = freezes_release_due(now=now + datetime.timedelta(hours=3, minutes=1))

    # then
    assert (early, on_time) == (0, 1)
    phone.refresh_from_db()
    assert phone.frozen == 0
    event = Freeze.objects.get().events.get(kind=FreezeEvent.Kind.RELEASED_AT_TIME)
    assert event.rule == rule


def test_a_rule_switched_to_manual_release_stops_its_freezes_releasing_at_the_old_time(
    world, make_user
):
    # given: a presale rule releasing at a time, and stock it froze on arrival
    manager = make_user("manager")
    now = timezone.now()
    rule = _rule(
        manager,
        name="Presale",
        kind="category_arrival",
        reason="presale_reserve",
        categories=[world.phones],
        release_mode=ReleaseMode.AT_TIME,
        release_at=now + datetime.timedelta(hours=1),
    )
    phone = receive(world.phone, world.bin, 5)

    # when: the launch is called off: the rule becomes "released by a person", and the old
    # time comes
    rule_update(
        rule=rule,
        operator=manager,
        name="Presale",
        reason="presale_reserve",
        categories=[world.phones],
        release_mode=ReleaseMode.MANUAL,
    )
    released = freezes_release_due(now=now + datetime.timedelta(hours=2))

    # then: nothing is released; the freeze waits for a release request, and says why
    assert released == 0
    phone.refresh_from_db()
    assert phone.frozen == 5
    freeze = Freeze.objects.get()
    assert freeze.release_at is None
    event = freeze.events.filter(kind=FreezeEvent.Kind.UPDATED).latest("pk")
    assert (event.rule, event.actor) == (rule, manager)


# --- near expiry ----------------------------------------------------------------------------


def _near_expiry_world(world):
    today = timezone.localdate()
    soon = BatchFactory(goods=world.snack, expiry_date=today + datetime.timedelta(days=10))
    expired = BatchFactory(goods=world.snack, expiry_date=today - datetime.timedelta(days=1))
    later = BatchFactory(goods=world.snack, expiry_date=today + datetime.timedelta(days=90))
    phone_batch = BatchFactory(goods=world.phone, expiry_date=today + datetime.timedelta(days=5))
    return {
        "soon": receive(world.snack, world.bin, 10, batch=soon),
        "expired": receive(world.snack, world.bin, 4, batch=expired),
        "later": receive(world.snack, world.bin, 10, batch=later),
        "phone": receive(world.phone, world.bin, 10, batch=phone_batch),
    }


def test_the_near_expiry_scan_freezes_batches_within_n_days_in_the_chosen_categories(
    world, make_user
):
    # given
    manager = make_user("manager")
    balances = _near_expiry_world(world)
    ledger.reserve(holds=[ledger.Hold(balances["soon"].pk, 3)], document=ledger.Document("x"))
    rule = _rule(
        manager,
        name="Food within 30 days",
        kind="near_expiry",
        reason="near_expiry",
        categories=[world.food],
        days_to_expiry=30,
    )

    # when
    freeze = near_expiry_scan(rule=rule)

    # then
    held = dict(freeze.lines.values_list("balance_id", "quantity"))
    assert held == {balances["soon"].pk: 7, balances["expired"].pk: 4}
    event = freeze.events.get()
    assert (event.kind, event.rule, event.quantity) == ("created", rule, 11)


def test_the_near_expiry_rule_never_freezes_the_same_stock_twice(world, make_user):
    # given
    manager, clerk = make_user("manager"), make_user("staff")
    balances = _near_expiry_world(world)
    rule = _rule(manager, name="N", kind="near_expiry", reason="near_expiry", days_to_expiry=30)
    freeze = near_expiry_scan(rule=rule)
    request = release_request_create(freeze=freeze, requester=clerk, reason="promo sale")
    release_request_approve(request=request, approver=manager, comment="sell it as near-expiry")

    # when: the next day's scan
    again = near_expiry_scan_all(today=timezone.localdate() + datetime.timedelta(days=1))

    # then
    assert again == []
    balances["soon"].refresh_from_db()
    assert balances["soon"].frozen == 0
    assert Freeze.objects.filter(rule=rule).count() == 1


def test_a_dry_run_shows_what_a_near_expiry_rule_would_freeze_and_writes_nothing(world, make_user):
    # given
    manager = make_user("manager")
    balances = _near_expiry_world(world)
    rule = _rule(
        manager,
        name="N",
        kind="near_expiry",
        reason="near_expiry",
        days_to_expiry=30,
        active=False,
    )
    movements = StockMovement.objects.count()

    # when
    dry = rule_dry_run(rule)

    # then
    assert (dry.balances, dry.units) == (3, 24)
    assert {row["balance"].pk for row in dry.rows} == {
        balances["soon"].pk,
        balances["expired"].pk,
        balances["phone"].pk,
    }
    assert StockMovement.objects.count() == movements
    assert not Freeze.objects.exists()


def test_a_dry_run_of_a_receipt_rule_shows_recent_receipts_it_would_have_frozen(world, make_user):
    # given
    manager = make_user("manager")
    receive(world.snack, world.bin, 4, kind=Kind.INBOUND_SALES_RETURN)
    receive(world.phone, world.bin, 6, kind=Kind.INBOUND_SALES_RETURN)
    receive(world.phone, world.bin, 9)
    rule = _rule(
        manager, name="Returns", kind="sales_return", reason="after_sales_return", active=False
    )

    # when
    dry = rule_dry_run(rule)

    # then
    assert dry.acts_on_receipt
    assert (dry.receipts, dry.units) == (2, 10)


def test_the_near_expiry_scan_is_one_set_based_selection_not_a_query_per_row(
    world, make_user, django_assert_max_num_queries
):
    # given: 60 matching balances
    manager = make_user("manager")
    today = timezone.localdate()
    for n in range(60):
        goods = GoodsFactory(category=world.snacks)
        batch = BatchFactory(goods=goods, expiry_date=today + datetime.timedelta(days=n % 5))
        receive(goods, world.bin, 3, batch=batch)
    rule = _rule(manager, name="N", kind="near_expiry", reason="near_expiry", days_to_expiry=7)

    # when / then: a fixed number of statements whatever the number of rows
    with django_assert_max_num_queries(20):
        freeze = near_expiry_scan(rule=rule)
    assert freeze.lines.count() == 60
