"""Locking of the freezes app on real PostgreSQL: races between connections, lock order,
advisory locks of the periodic jobs."""

import datetime
import threading
import time

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from freezes import tasks
from freezes.models import Freeze, FreezeLine, Reason
from freezes.scope import Scope
from freezes.services.freezing import freeze_create
from freezes.services.release import release_request_approve, release_request_create
from freezes.services.rules import rule_create, rule_set_active
from freezes.tests.conftest import Kind, World, receive
from inventory import hooks, ledger
from inventory.exceptions import StockError
from inventory.models import StockBalance, StockMovement
from wms.locks import advisory_key

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _in_thread(fn, results: dict, key: str):
    def run():
        try:
            results[key] = fn()
        except Exception as error:  # noqa: BLE001 - the test inspects what happened
            results[key] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.fixture
def world_tx(transactional_db):
    return World()


@pytest.mark.parametrize("pause", ["before_the_rule", "after_the_rule"])
def test_a_sales_return_received_under_the_returns_rule_never_ships_from_another_connection(
    world_tx, make_user, pause
):
    # given: the returns rule is on; the balance holds 1 available unit before the return
    world = world_tx
    manager = make_user("manager")
    rule = rule_create(
        operator=manager, name="Returns", kind="sales_return", reason=Reason.AFTER_SALES_RETURN
    )
    rule_set_active(rule=rule, operator=manager, active=True)
    balance = receive(world.snack, world.bin, 1)
    received, shipper_waiting = threading.Event(), threading.Event()

    def hold_the_receipt_open(event):
        received.set()
        shipper_waiting.wait(5)
        time.sleep(0.5)  # the shipper is now blocked on the balance row lock

    entry = (hold_the_receipt_open, frozenset({Kind.INBOUND_SALES_RETURN}))
    if pause == "before_the_rule":
        hooks.in_transaction_hooks.insert(0, entry)
    else:
        hooks.in_transaction_hooks.append(entry)
    results: dict = {}

    def receive_return():
        ledger.receive(
            kind=Kind.INBOUND_SALES_RETURN,
            lines=[ledger.Receipt(world.snack.pk, world.bin.pk, 3)],
            document=ledger.Document(type="inbound", ref="RETURN-1"),
        )
        return time.monotonic()

    def try_to_ship():
        received.wait(5)
        shipper_waiting.set()
        outcomes = []
        for pick in (
            ledger.Pick(world.snack.pk, 1, balance_id=balance.pk),  # waits for the lock
            ledger.Pick(world.snack.pk, 1),
            ledger.Pick(world.snack.pk, 3, balance_id=balance.pk),
        ):
            try:
                ledger.issue(
                    kind=Kind.OUTBOUND_ORDER_SHIPMENT,
                    warehouse_id=world.warehouse.pk,
                    lines=[pick],
                    document=ledger.Document(type="outbound", ref="RACE"),
                )
                outcomes.append(("shipped", time.monotonic()))
            except StockError as error:
                outcomes.append((type(error).__name__, time.monotonic()))
        return outcomes

    # when
    try:
        receiver = _in_thread(receive_return, results, "receiver")
        shipper = _in_thread(try_to_ship, results, "shipper")
        receiver.join(15)
        shipper.join(15)
    finally:
        hooks.unregister_in_transaction(hold_the_receipt_open)

    # then: the first shipment waited for the receipt to commit, then took only the unit that
    # was there before; the returned units were frozen all along and never shipped
    outcomes = results["shipper"]
    assert [name for name, _at in outcomes] == ["shipped", "InsufficientStock", "InsufficientStock"]
    assert outcomes[0][1] >= results["receiver"]
    balance.refresh_from_db()
    assert (balance.on_hand, balance.frozen, balance.available) == (3, 3, 0)
    shipped = StockMovement.objects.filter(document_ref="RACE")
    assert sum(shipped.values_list("quantity", flat=True)) == 1
    assert FreezeLine.objects.get(balance=balance).freeze.rule == rule


def test_two_approvers_deciding_the_same_request_at_once_release_it_once(world_tx, make_user):
    # given
    world = world_tx
    clerk = make_user("staff")
    approvers = [make_user("manager", username=f"manager{n}") for n in range(2)]
    balance = receive(world.snack, world.bin, 10)
    freeze = freeze_create(scope=Scope(goods_id=world.snack.pk), reason="qc_hold", operator=clerk)
    request = release_request_create(freeze=freeze, requester=clerk, quantity=6, reason="ok")
    barrier = threading.Barrier(2)
    results: dict = {}

    def approve(user):
        def run():
            barrier.wait(5)
            return release_request_approve(request=request, approver=user, comment="go")

        return run

    # when
    threads = [_in_thread(approve(user), results, user.username) for user in approvers]
    for thread in threads:
        thread.join(15)

    # then
    outcomes = sorted(type(value).__name__ for value in results.values())
    assert outcomes == ["AlreadyDecided", "int"]
    balance.refresh_from_db()
    assert balance.frozen == 4
    assert FreezeLine.objects.get().released == 6


def test_releasing_a_sticky_freeze_while_an_arrival_is_being_frozen_leaves_nothing_behind(
    world_tx, make_user
):
    # given: a sticky freeze; a receipt has just added its arrival to it and not committed yet
    world = world_tx
    clerk, manager = make_user("staff"), make_user("manager")
    receive(world.snack, world.bin, 5)
    freeze = freeze_create(
        scope=Scope(goods_id=world.snack.pk), reason="damaged", is_sticky=True, operator=clerk
    )
    request = release_request_create(freeze=freeze, requester=clerk, reason="all fine")
    caught, approver_started = threading.Event(), threading.Event()

    def hold_the_receipt_open(event):
        caught.set()
        approver_started.wait(5)
        time.sleep(0.5)  # the approver is now waiting for this receipt

    hooks.in_transaction_hooks.append((hold_the_receipt_open, frozenset({Kind.INBOUND_PURCHASE})))
    results: dict = {}

    def arrive():
        receive(world.snack, world.bin2, 4)
        return time.monotonic()

    def approve():
        caught.wait(5)
        approver_started.set()
        released = release_request_approve(request=request, approver=manager, comment="ok")
        return released, time.monotonic()

    # when
    try:
        receiver = _in_thread(arrive, results, "receiver")
        approver = _in_thread(approve, results, "approver")
        receiver.join(15)
        approver.join(15)
    finally:
        hooks.unregister_in_transaction(hold_the_receipt_open)

    # then: the release waited for the arrival and released it too
    released, approved_at = results["approver"]
    assert released == 9 and approved_at >= results["receiver"]
    freeze.refresh_from_db()
    assert freeze.status == Freeze.Status.CLOSED
    assert all(line.held == 0 for line in freeze.lines.all())
    assert sum(StockBalance.objects.values_list("frozen", flat=True)) == 0

    # and later arrivals are not frozen by the closed freeze
    assert receive(world.snack, world.bin2, 2).frozen == 0


def test_a_release_locks_the_freeze_then_the_balances_in_key_order_before_writing(
    world_tx, make_user
):
    # given
    world = world_tx
    clerk, manager = make_user("staff"), make_user("manager")
    receive(world.snack, world.bin2, 5)
    receive(world.snack, world.bin, 5)
    freeze = freeze_create(scope=Scope(goods_id=world.snack.pk), reason="qc_hold", operator=clerk)
    request = release_request_create(freeze=freeze, requester=clerk, reason="ok")

    # when
    with CaptureQueriesContext(connection) as captured:
        release_request_approve(request=request, approver=manager, comment="ok")

    # then
    sql = [query["sql"] for query in captured.captured_queries]

    def first(predicate):
        return next(i for i, text in enumerate(sql) if predicate(text))

    freeze_lock = first(lambda s: '"freezes_freeze"' in s and "FOR NO KEY UPDATE" in s)
    balance_lock = first(
        lambda s: s.startswith('SELECT "inventory_stockbalance"') and "FOR UPDATE" in s
    )
    balance_write = first(lambda s: s.startswith('UPDATE "inventory_stockbalance"'))
    line_write = first(lambda s: s.startswith('UPDATE "freezes_freezeline"'))
    assert freeze_lock < balance_lock < balance_write < line_write
    assert 'ORDER BY "inventory_stockbalance"."id" ASC' in sql[balance_lock]


def test_a_presale_freeze_releases_itself_through_the_beat_task(world_tx, make_user):
    # given: made an hour ago, to be released a minute after
    world = world_tx
    earlier = timezone.now() - datetime.timedelta(hours=1)
    balance = receive(world.phone, world.bin, 500)
    presale = freeze_create(
        scope=Scope(goods_id=world.phone.pk),
        reason=Reason.PRESALE_RESERVE,
        release_at=earlier + datetime.timedelta(minutes=1),
        operator=make_user("manager"),
        now=earlier,
    )

    # when
    first, second = tasks.freezes_release_due_task(), tasks.freezes_release_due_task()

    # then
    assert (first, second) == (1, 0)
    balance.refresh_from_db()
    assert balance.frozen == 0
    presale.refresh_from_db()
    assert presale.status == Freeze.Status.CLOSED


def test_the_release_task_skips_while_another_run_holds_its_advisory_lock(world_tx, make_user):
    # given
    world = world_tx
    earlier = timezone.now() - datetime.timedelta(hours=1)
    receive(world.phone, world.bin, 5)
    freeze_create(
        scope=Scope(goods_id=world.phone.pk),
        reason=Reason.PRESALE_RESERVE,
        release_at=earlier + datetime.timedelta(minutes=1),
        operator=make_user("manager"),
        now=earlier,
    )
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [advisory_key("freezes.release_due")])

        # when
        skipped = tasks.freezes_release_due_task()
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [advisory_key("freezes.release_due")])
        ran = tasks.freezes_release_due_task()
    finally:
        other.close()

    # then
    assert (skipped, ran) == (0, 1)


@pytest.mark.parametrize("pause", ["before_reading_the_rule", "after_reading_the_rule"])
def test_a_rule_time_changed_while_a_receipt_freezes_for_the_rule_reaches_that_freeze(
    world_tx, make_user, monkeypatch, pause
):
    # given: a presale rule freezing phone arrivals until T1, and a phone receipt whose hook
    # is held open inside the rule's freeze (before, or just after, it reads the rule)
    from freezes.services import receipts
    from freezes.services.rules import rule_update

    world = world_tx
    manager = make_user("manager")
    first = timezone.now() + datetime.timedelta(days=10)
    moved = first + datetime.timedelta(days=20)
    rule = rule_create(
        operator=manager,
        name="Phones until presale",
        kind="category_arrival",
        reason=Reason.PRESALE_RESERVE,
        categories=[world.phones],
        release_mode="at_time",
        release_at=first,
    )
    rule_set_active(rule=rule, operator=manager, active=True)
    paused, go = threading.Event(), threading.Event()

    def hold(fn):
        def held(*args, **kwargs):
            if pause == "before_reading_the_rule":
                paused.set()
                go.wait(10)
                return fn(*args, **kwargs)
            out = fn(*args, **kwargs)
            paused.set()
            go.wait(10)
            return out

        return held

    if pause == "before_reading_the_rule":
        monkeypatch.setattr(receipts, "_freeze_for_rule", hold(receipts._freeze_for_rule))
    else:
        monkeypatch.setattr(receipts, "share_rule", hold(receipts.share_rule))
    results: dict = {}

    def move_the_presale():
        return rule_update(
            rule=rule,
            operator=manager,
            name=rule.name,
            reason=rule.reason,
            categories=[world.phones],
            release_mode="at_time",
            release_at=moved,
        )

    # when: the presale is postponed while the receipt is inside the rule's freeze
    receiver = _in_thread(lambda: receive(world.phone, world.bin, 4), results, "receiver")
    assert paused.wait(10)
    editor = _in_thread(move_the_presale, results, "editor")
    time.sleep(0.5)
    go.set()
    receiver.join(15)
    editor.join(15)

    # then: the receipt's freeze is released at the new time, not the old one, and says who
    # moved it; nothing releases at the old time
    assert not isinstance(results["receiver"], Exception), results["receiver"]
    assert not isinstance(results["editor"], Exception), results["editor"]
    freeze = Freeze.objects.get(rule=rule)
    assert freeze.release_at == moved
    assert tasks.release.freezes_release_due(now=first + datetime.timedelta(minutes=1)) == 0
    assert StockBalance.objects.get(goods=world.phone).frozen == 4
