"""Stock documents: sheets, transfers and counts posted through the ledger."""

import datetime
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.exceptions import (
    AlreadyPosted,
    ExpiredBatch,
    InsufficientStock,
    InvalidInput,
    InvalidQuantity,
    NotAllowed,
    StockError,
)
from inventory.models import (
    DocumentStatus,
    InboundSheet,
    OutboundSheet,
    StockBalance,
    StockMovement,
    StockTransfer,
)
from inventory.services import stock as services
from inventory.tests.factories import (
    BatchFactory,
    ComboComponentFactory,
    GoodsFactory,
    receive_stock,
)
from warehouses.tests.factories import BinFactory

pytestmark = pytest.mark.django_db

Kind = StockMovement.Kind


@pytest.fixture
def clerk(make_user):
    return make_user("staff", username="clerk")


@pytest.fixture
def manager(make_user):
    return make_user("manager", username="boss")


@pytest.fixture
def bins():
    first = BinFactory(code="A-01")
    return first, BinFactory(code="A-02", zone=first.zone)


def on_hand(goods, bin, batch=None):
    row = StockBalance.objects.filter(goods=goods, bin=bin, batch=batch).first()
    return row.on_hand if row else 0


def inbound(clerk, bin, lines, type=InboundSheet.Type.PURCHASE):
    sheet = services.inbound_sheet_create(warehouse=bin.warehouse, type=type, user=clerk)
    for goods, quantity, *rest in lines:
        services.inbound_line_add(
            sheet=sheet, goods=goods, bin=rest[0] if rest else bin, quantity=quantity
        )
    return sheet


# --- inbound --------------------------------------------------------------------------------


def test_posting_an_inbound_sheet_receives_every_line(clerk, bins):
    # given
    a, b = bins
    phone, case = GoodsFactory(), GoodsFactory()
    sheet = inbound(clerk, a, [(phone, 5), (case, 3, b)])

    # when
    services.inbound_sheet_post(sheet_id=sheet.pk, user=clerk)

    # then
    sheet.refresh_from_db()
    assert sheet.status == DocumentStatus.POSTED and sheet.posted_by == clerk
    assert (on_hand(phone, a), on_hand(case, b)) == (5, 3)
    movements = StockMovement.objects.filter(document_type="inbound", document_id=sheet.pk)
    assert {m.document_ref for m in movements} == {sheet.number}
    assert {m.operator_id for m in movements} == {clerk.pk}


def test_posting_a_sheet_twice_posts_once(clerk, bins):
    # given
    a, _ = bins
    goods = GoodsFactory()
    sheet = inbound(clerk, a, [(goods, 5)])
    services.inbound_sheet_post(sheet_id=sheet.pk, user=clerk)

    # when / then
    with pytest.raises(AlreadyPosted):
        services.inbound_sheet_post(sheet_id=sheet.pk, user=clerk)
    assert on_hand(goods, a) == 5


def test_a_posted_sheet_cannot_be_edited_or_deleted(clerk, bins):
    # given
    a, _ = bins
    goods = GoodsFactory()
    sheet = inbound(clerk, a, [(goods, 5)])
    services.inbound_sheet_post(sheet_id=sheet.pk, user=clerk)

    # when / then
    with pytest.raises(NotAllowed, match="reversed"):
        services.inbound_line_add(sheet=sheet, goods=goods, bin=a, quantity=1)
    with pytest.raises(NotAllowed):
        services.inbound_line_remove(line=sheet.lines.get())
    with pytest.raises(NotAllowed):
        services.inbound_sheet_delete(sheet=sheet)
    assert sheet.lines.count() == 1


def test_inbound_lines_refuse_bad_input(clerk, bins):
    # given
    a, _ = bins
    sheet = services.inbound_sheet_create(
        warehouse=a.warehouse, type=InboundSheet.Type.PURCHASE, user=clerk
    )
    goods = GoodsFactory()
    inactive_bin = BinFactory(zone=a.zone, is_active=False)

    # when / then
    with pytest.raises(InvalidQuantity):
        services.inbound_line_add(sheet=sheet, goods=goods, bin=a, quantity=0)
    with pytest.raises(NotAllowed, match="another warehouse"):
        services.inbound_line_add(sheet=sheet, goods=goods, bin=BinFactory(), quantity=1)
    with pytest.raises(NotAllowed, match="inactive"):
        services.inbound_line_add(sheet=sheet, goods=goods, bin=inactive_bin, quantity=1)
    with pytest.raises(NotAllowed, match="inactive"):
        services.inbound_line_add(
            sheet=sheet, goods=GoodsFactory(is_active=False), bin=a, quantity=1
        )
    with pytest.raises(InvalidInput, match="another goods"):
        services.inbound_line_add(sheet=sheet, goods=goods, bin=a, quantity=1, batch=BatchFactory())
    assert not sheet.lines.exists()


def test_an_empty_sheet_is_not_posted(clerk, bins):
    # given
    a, _ = bins
    sheet = services.inbound_sheet_create(
        warehouse=a.warehouse, type=InboundSheet.Type.PURCHASE, user=clerk
    )

    # when / then
    with pytest.raises(InvalidInput, match="no lines"):
        services.inbound_sheet_post(sheet_id=sheet.pk, user=clerk)
    sheet.refresh_from_db()
    assert sheet.status == DocumentStatus.DRAFT


def test_reversing_an_inbound_sheet_takes_the_units_back_once(clerk, bins):
    # given
    a, _ = bins
    goods = GoodsFactory()
    sheet = inbound(clerk, a, [(goods, 5)])
    services.inbound_sheet_post(sheet_id=sheet.pk, user=clerk)

    # when
    reversal = services.inbound_sheet_reverse(sheet_id=sheet.pk, user=clerk, reason="wrong PO")

    # then
    assert reversal.reversal_of == sheet and reversal.status == DocumentStatus.POSTED
    assert on_hand(goods, a) == 0
    assert StockMovement.objects.filter(
        kind=Kind.INBOUND_REVERSAL, document_id=reversal.pk
    ).exists()
    with pytest.raises(AlreadyPosted):
        services.inbound_sheet_reverse(sheet_id=sheet.pk, user=clerk, reason="again")
    with pytest.raises(NotAllowed):
        services.inbound_sheet_reverse(sheet_id=reversal.pk, user=clerk, reason="undo")


def test_reversal_is_refused_when_the_units_already_left(clerk, bins):
    # given
    a, _ = bins
    goods = GoodsFactory()
    sheet = inbound(clerk, a, [(goods, 5)])
    services.inbound_sheet_post(sheet_id=sheet.pk, user=clerk)
    out = services.outbound_sheet_create(
        warehouse=a.warehouse, type=OutboundSheet.Type.ORDER_SHIPMENT, user=clerk
    )
    services.outbound_line_add(sheet=out, goods=goods, quantity=2)
    services.outbound_sheet_post(sheet_id=out.pk, user=clerk)

    # when / then
    with pytest.raises(InsufficientStock):
        services.inbound_sheet_reverse(sheet_id=sheet.pk, user=clerk, reason="late")
    assert not InboundSheet.objects.filter(reversal_of=sheet).exists()
    assert on_hand(goods, a) == 3


def test_reversal_needs_a_reason_and_a_posted_sheet(clerk, bins):
    # given
    a, _ = bins
    sheet = inbound(clerk, a, [(GoodsFactory(), 1)])

    # when / then
    with pytest.raises(InvalidInput, match="reason"):
        services.inbound_sheet_reverse(sheet_id=sheet.pk, user=clerk, reason=" ")
    with pytest.raises(NotAllowed, match="draft"):
        services.inbound_sheet_reverse(sheet_id=sheet.pk, user=clerk, reason="x")


def test_receiving_a_combo_on_a_sheet_receives_its_components(clerk, bins):
    # given
    a, _ = bins
    part = ComboComponentFactory(quantity=4)
    sheet = inbound(clerk, a, [(part.combo, 2)])

    # when
    services.inbound_sheet_post(sheet_id=sheet.pk, user=clerk)

    # then
    assert on_hand(part.component, a) == 8


# --- outbound -------------------------------------------------------------------------------


def outbound(clerk, warehouse, lines, type=OutboundSheet.Type.ORDER_SHIPMENT, **sheet_fields):
    sheet = services.outbound_sheet_create(
        warehouse=warehouse, type=type, user=clerk, **sheet_fields
    )
    for goods, quantity, *rest in lines:
        services.outbound_line_add(
            sheet=sheet, goods=goods, quantity=quantity, **(rest[0] if rest else {})
        )
    return sheet


def test_posting_an_outbound_sheet_ships_first_expiry_first(clerk, bins):
    # given
    a, b = bins
    goods = GoodsFactory()
    today = timezone.localdate()
    soon = BatchFactory(goods=goods, expiry_date=today + datetime.timedelta(days=3))
    later = BatchFactory(goods=goods, expiry_date=today + datetime.timedelta(days=30))
    receive_stock(goods, a, 5, batch=later)
    receive_stock(goods, b, 5, batch=soon)
    sheet = outbound(clerk, a.warehouse, [(goods, 6)])

    # when
    services.outbound_sheet_post(sheet_id=sheet.pk, user=clerk)

    # then
    assert (on_hand(goods, b, soon), on_hand(goods, a, later)) == (0, 4)


def test_a_refused_outbound_sheet_stays_draft_and_writes_nothing(clerk, bins):
    # given
    a, _ = bins
    goods, other = GoodsFactory(), GoodsFactory()
    receive_stock(goods, a, 5)
    sheet = outbound(clerk, a.warehouse, [(goods, 2), (other, 1)])

    # when / then
    with pytest.raises(InsufficientStock):
        services.outbound_sheet_post(sheet_id=sheet.pk, user=clerk)
    sheet.refresh_from_db()
    assert sheet.status == DocumentStatus.DRAFT
    assert on_hand(goods, a) == 5
    assert StockMovement.objects.count() == 1


def test_expired_stock_ships_only_with_override_reason_and_permission(clerk, manager, bins):
    # given
    a, _ = bins
    goods = GoodsFactory()
    expired = BatchFactory(
        goods=goods, expiry_date=timezone.localdate() - datetime.timedelta(days=2)
    )
    receive_stock(goods, a, 5, batch=expired)
    plain = outbound(clerk, a.warehouse, [(goods, 1, {"batch": expired})])

    # when / then
    with pytest.raises(ExpiredBatch):
        services.outbound_sheet_post(sheet_id=plain.pk, user=clerk)
    with pytest.raises(NotAllowed):
        outbound(clerk, a.warehouse, [], allow_expired=True, expired_reason="clearance")
    with pytest.raises(InvalidInput):
        outbound(manager, a.warehouse, [], allow_expired=True, expired_reason="")
    override = outbound(
        manager, a.warehouse, [(goods, 2)], allow_expired=True, expired_reason="clearance sale"
    )
    services.outbound_sheet_post(sheet_id=override.pk, user=manager)
    assert on_hand(goods, a, expired) == 3
    assert "clearance sale" in StockMovement.objects.filter(document_id=override.pk).get().reason


def test_from_frozen_lines_only_on_scrap_and_purchase_return(clerk, bins):
    # given
    a, _ = bins
    goods = GoodsFactory()
    shipment = outbound(clerk, a.warehouse, [])

    # when / then
    with pytest.raises(NotAllowed, match="Frozen"):
        services.outbound_line_add(sheet=shipment, goods=goods, quantity=1, from_frozen=True)
    scrap = outbound(clerk, a.warehouse, [], type=OutboundSheet.Type.OTHER)
    services.outbound_line_add(sheet=scrap, goods=goods, quantity=1, from_frozen=True)


def _frozen_scrap(user, bin_, goods, quantity):
    from inventory import ledger

    balance = receive_stock(goods, bin_, quantity)
    ledger.freeze(holds=[ledger.Hold(balance.pk, quantity)], document=ledger.Document("other"))
    return outbound(
        user,
        bin_.warehouse,
        [(goods, quantity, {"from_frozen": True})],
        type=OutboundSheet.Type.OTHER,
    )


def test_only_a_user_allowed_to_ship_frozen_stock_posts_frozen_lines(clerk, manager, bins):
    # given: a scrap sheet of frozen stock drafted by a clerk
    a, _ = bins
    goods = GoodsFactory()
    sheet = _frozen_scrap(clerk, a, goods, 3)

    # when / then: the clerk may not post it; nothing moves
    with pytest.raises(NotAllowed, match="frozen stock"):
        services.outbound_sheet_post(sheet_id=sheet.pk, user=clerk)
    sheet.refresh_from_db()
    assert sheet.status == DocumentStatus.DRAFT
    assert StockBalance.objects.get(goods=goods, bin=a).frozen == 3

    # when: the manager posts it
    services.outbound_sheet_post(sheet_id=sheet.pk, user=manager)

    # then
    assert StockBalance.objects.get(goods=goods, bin=a).on_hand == 0


def test_reversing_a_sheet_that_took_frozen_stock_brings_the_units_back_frozen(manager, bins):
    # given: 2 frozen units scrapped, 1 available unit scrapped on the same sheet
    a, b = bins
    goods = GoodsFactory()
    sheet = _frozen_scrap(manager, a, goods, 2)
    receive_stock(goods, b, 1)
    services.outbound_line_add(sheet=sheet, goods=goods, quantity=1, bin=b)
    services.outbound_sheet_post(sheet_id=sheet.pk, user=manager)

    # when
    reversal = services.outbound_sheet_reverse(sheet_id=sheet.pk, user=manager, reason="mistake")

    # then: the frozen units are back frozen (never available), the other unit available
    frozen_back = StockBalance.objects.get(goods=goods, bin=a)
    assert (frozen_back.on_hand, frozen_back.frozen, frozen_back.available) == (2, 2, 0)
    available_back = StockBalance.objects.get(goods=goods, bin=b)
    assert (available_back.on_hand, available_back.frozen) == (1, 0)
    kinds = sorted(
        StockMovement.objects.filter(document_id=reversal.pk, document_type="outbound").values_list(
            "kind", flat=True
        )
    )
    assert kinds == sorted([Kind.OUTBOUND_REVERSAL, Kind.OUTBOUND_REVERSAL, Kind.FREEZE])


def test_reversing_an_outbound_sheet_puts_the_units_back_where_they_were(clerk, bins):
    # given
    a, b = bins
    goods = GoodsFactory()
    receive_stock(goods, a, 2)
    receive_stock(goods, b, 2)
    sheet = outbound(clerk, a.warehouse, [(goods, 3)])
    services.outbound_sheet_post(sheet_id=sheet.pk, user=clerk)

    # when
    services.outbound_sheet_reverse(sheet_id=sheet.pk, user=clerk, reason="order cancelled")

    # then
    assert (on_hand(goods, a), on_hand(goods, b)) == (2, 2)
    with pytest.raises(AlreadyPosted):
        services.outbound_sheet_reverse(sheet_id=sheet.pk, user=clerk, reason="again")


# --- transfers ------------------------------------------------------------------------------


def test_bin_transfer_moves_stock_in_one_step_and_once_per_key(clerk, bins):
    # given
    a, b = bins
    goods = GoodsFactory()
    receive_stock(goods, a, 5)

    # when
    transfer = services.bin_transfer(
        goods=goods, from_bin=a, to_bin=b, quantity=2, user=clerk, idempotency_key="form-1"
    )
    with pytest.raises(AlreadyPosted):
        services.bin_transfer(
            goods=goods, from_bin=a, to_bin=b, quantity=2, user=clerk, idempotency_key="form-1"
        )

    # then
    assert transfer.status == StockTransfer.Status.DONE
    assert (on_hand(goods, a), on_hand(goods, b)) == (3, 2)
    assert StockTransfer.objects.count() == 1


def test_bin_transfer_refuses_another_warehouse(clerk, bins):
    # given
    a, _ = bins
    goods = GoodsFactory()
    receive_stock(goods, a, 5)

    # when / then
    with pytest.raises(NotAllowed, match="warehouse transfer"):
        services.bin_transfer(goods=goods, from_bin=a, to_bin=BinFactory(), quantity=1, user=clerk)
    assert not StockTransfer.objects.exists()


@pytest.fixture
def shipped_transfer(clerk, bins):
    a, _ = bins
    goods = GoodsFactory()
    receive_stock(goods, a, 10)
    destination = BinFactory(code="B-01")
    transfer = services.warehouse_transfer_create(
        from_warehouse=a.warehouse, to_warehouse=destination.warehouse, user=clerk
    )
    line = services.warehouse_transfer_line_add(
        transfer=transfer, goods=goods, from_bin=a, quantity=6
    )
    services.warehouse_transfer_ship(transfer_id=transfer.pk, user=clerk)
    return transfer, line, goods, a, destination


def test_shipped_transfer_is_in_transit_and_available_nowhere(shipped_transfer):
    # given
    transfer, line, goods, source, destination = shipped_transfer

    # when
    transfer.refresh_from_db()

    # then
    assert transfer.status == StockTransfer.Status.IN_TRANSIT
    assert on_hand(goods, source) == 4
    assert not StockBalance.objects.filter(warehouse=destination.warehouse).exists()


def test_receiving_a_transfer_records_the_discrepancy(clerk, shipped_transfer):
    # given
    transfer, line, goods, source, destination = shipped_transfer

    # when
    with pytest.raises(InvalidInput, match="Explain"):
        services.warehouse_transfer_receive(
            transfer_id=transfer.pk,
            user=clerk,
            received=[services.ReceivedLine(line.pk, destination, 5)],
        )
    services.warehouse_transfer_receive(
        transfer_id=transfer.pk,
        user=clerk,
        received=[services.ReceivedLine(line.pk, destination, 5, "one box crushed")],
    )

    # then
    line.refresh_from_db()
    assert (line.received_quantity, line.discrepancy, line.discrepancy_reason) == (
        5,
        1,
        "one box crushed",
    )
    assert on_hand(goods, destination) == 5
    movement = StockMovement.objects.get(kind=Kind.TRANSFER_IN)
    assert (movement.from_bin_id, movement.to_bin_id) == (source.pk, destination.pk)
    with pytest.raises(AlreadyPosted):
        services.warehouse_transfer_receive(
            transfer_id=transfer.pk,
            user=clerk,
            received=[services.ReceivedLine(line.pk, destination, 5, "again")],
        )


def test_receiving_a_transfer_not_shipped_yet_says_so_and_changes_nothing(clerk, bins):
    # given: a transfer still in draft
    a, _ = bins
    goods = GoodsFactory()
    receive_stock(goods, a, 10)
    destination = BinFactory(code="B-02")
    transfer = services.warehouse_transfer_create(
        from_warehouse=a.warehouse, to_warehouse=destination.warehouse, user=clerk
    )
    line = services.warehouse_transfer_line_add(
        transfer=transfer, goods=goods, from_bin=a, quantity=6
    )

    # when / then: refused as not shipped yet (not "already posted by another request")
    with pytest.raises(NotAllowed, match="has not been shipped yet"):
        services.warehouse_transfer_receive(
            transfer_id=transfer.pk,
            user=clerk,
            received=[services.ReceivedLine(line.pk, destination, 6)],
        )
    transfer.refresh_from_db()
    assert transfer.status == StockTransfer.Status.DRAFT
    assert on_hand(goods, a) == 10
    assert not StockBalance.objects.filter(warehouse=destination.warehouse).exists()


def test_receiving_more_than_shipped_or_into_the_wrong_warehouse_is_refused(
    clerk, shipped_transfer
):
    # given
    transfer, line, goods, source, destination = shipped_transfer

    # when / then
    with pytest.raises(InvalidQuantity):
        services.warehouse_transfer_receive(
            transfer_id=transfer.pk,
            user=clerk,
            received=[services.ReceivedLine(line.pk, destination, 7)],
        )
    with pytest.raises(NotAllowed, match="another warehouse"):
        services.warehouse_transfer_receive(
            transfer_id=transfer.pk,
            user=clerk,
            received=[services.ReceivedLine(line.pk, source, 6)],
        )
    transfer.refresh_from_db()
    assert transfer.status == StockTransfer.Status.IN_TRANSIT
    assert on_hand(goods, destination) == 0


# --- counts ---------------------------------------------------------------------------------


def test_posting_a_count_sets_on_hand_and_records_what_it_was(manager, bins):
    # given
    a, b = bins
    goods = GoodsFactory()
    receive_stock(goods, a, 7)
    count = services.count_create(warehouse=a.warehouse, reason="year end", user=manager)
    services.count_line_set(count=count, goods=goods, bin=a, counted=5)
    services.count_line_set(count=count, goods=goods, bin=b, counted=1)

    # when
    services.count_post(count_id=count.pk, user=manager)

    # then
    assert (on_hand(goods, a), on_hand(goods, b)) == (5, 1)
    lines = {line.bin_id: line for line in count.lines.all()}
    assert (lines[a.pk].expected_quantity, lines[a.pk].difference) == (7, -2)
    assert (lines[b.pk].expected_quantity, lines[b.pk].difference) == (0, 1)
    assert set(
        StockMovement.objects.filter(document_type="count").values_list("reason", flat=True)
    ) == {"year end"}
    with pytest.raises(AlreadyPosted):
        services.count_post(count_id=count.pk, user=manager)


def test_count_needs_a_reason(manager, bins):
    # when / then
    with pytest.raises(InvalidInput):
        services.count_create(warehouse=bins[0].warehouse, reason="", user=manager)


# --- concurrency ----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tabs_posting_the_same_sheet_post_it_once(make_user, bins):
    # given
    clerk = make_user("staff", username="tabs")
    a, _ = bins
    goods = GoodsFactory()
    receive_stock(goods, a, 10)
    sheet = outbound(clerk, a.warehouse, [(goods, 3)])
    barrier = threading.Barrier(4)

    def post(_):
        barrier.wait()
        try:
            services.outbound_sheet_post(sheet_id=sheet.pk, user=clerk)
            return "posted"
        except StockError as exc:
            return type(exc).__name__
        finally:
            connections.close_all()

    # when
    with ThreadPoolExecutor(4) as pool:
        results = sorted(pool.map(post, range(4)))

    # then
    assert results == ["AlreadyPosted"] * 3 + ["posted"]
    assert on_hand(goods, a) == 7


@pytest.mark.postgres
def test_sheet_posting_claims_the_sheet_before_locking_balances(clerk, bins):
    # given
    a, _ = bins
    goods = GoodsFactory()
    receive_stock(goods, a, 10)
    sheet = outbound(clerk, a.warehouse, [(goods, 3), (goods, 1)])

    # when
    with CaptureQueriesContext(connection) as ctx:
        services.outbound_sheet_post(sheet_id=sheet.pk, user=clerk)

    # then
    sqls = [q["sql"] for q in ctx.captured_queries]
    claim = next(i for i, s in enumerate(sqls) if s.startswith('UPDATE "inventory_outboundsheet"'))
    lock = next(
        i for i, s in enumerate(sqls) if "FOR UPDATE" in s and "inventory_stockbalance" in s
    )
    write = next(i for i, s in enumerate(sqls) if s.startswith('UPDATE "inventory_stockbalance"'))
    assert claim < lock < write


@pytest.mark.postgres
@pytest.mark.parametrize("action", ["inbound", "reverse", "ship", "receive", "count"])
def test_document_services_lock_the_document_before_the_balances(manager, bins, action):
    # given
    a, b = bins
    goods = GoodsFactory()
    receive_stock(goods, a, 10)
    far = BinFactory()
    if action == "inbound":
        doc = inbound(manager, a, [(goods, 2), (goods, 1, b)])
        run, table = (
            (lambda: services.inbound_sheet_post(sheet_id=doc.pk, user=manager)),
            "inboundsheet",
        )
    elif action == "reverse":
        doc = inbound(manager, a, [(goods, 2), (goods, 1, b)])
        services.inbound_sheet_post(sheet_id=doc.pk, user=manager)
        run = lambda: services.inbound_sheet_reverse(sheet_id=doc.pk, user=manager, reason="x")  # noqa: E731
        table = "inboundsheet"
    elif action in ("ship", "receive"):
        doc = services.warehouse_transfer_create(
            from_warehouse=a.warehouse, to_warehouse=far.warehouse, user=manager
        )
        line = services.warehouse_transfer_line_add(
            transfer=doc, goods=goods, from_bin=a, quantity=3
        )
        table = "stocktransfer"
        if action == "ship":
            run = lambda: services.warehouse_transfer_ship(transfer_id=doc.pk, user=manager)  # noqa: E731
        else:
            services.warehouse_transfer_ship(transfer_id=doc.pk, user=manager)
            run = lambda: services.warehouse_transfer_receive(  # noqa: E731
                transfer_id=doc.pk, user=manager, received=[services.ReceivedLine(line.pk, far, 3)]
            )
    else:
        doc = services.count_create(warehouse=a.warehouse, reason="r", user=manager)
        services.count_line_set(count=doc, goods=goods, bin=a, counted=4)
        services.count_line_set(count=doc, goods=goods, bin=b, counted=2)
        run, table = (lambda: services.count_post(count_id=doc.pk, user=manager)), "stockcount"

    # when
    with CaptureQueriesContext(connection) as ctx:
        run()

    # then: the document row is claimed or locked first, then the balances, then the writes
    sqls = [q["sql"] for q in ctx.captured_queries]
    document = next(
        i
        for i, s in enumerate(sqls)
        if f'"inventory_{table}"' in s and (s.startswith("UPDATE") or "FOR UPDATE" in s)
    )
    lock = next(
        i
        for i, s in enumerate(sqls)
        if ("FOR UPDATE" in s and "inventory_stockbalance" in s)
        or s.startswith('WITH moved AS (UPDATE "inventory_stockbalance"')
    )
    write = next(i for i, s in enumerate(sqls) if 'UPDATE "inventory_stockbalance" SET' in s)
    assert document < lock <= write


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reversals_of_one_sheet_at_once_reverse_it_once(make_user, bins):
    # given
    clerk = make_user("manager", username="rev")
    a, _ = bins
    goods = GoodsFactory()
    sheet = inbound(clerk, a, [(goods, 6)])
    services.inbound_sheet_post(sheet_id=sheet.pk, user=clerk)
    barrier = threading.Barrier(3)

    def reverse(_):
        barrier.wait()
        try:
            services.inbound_sheet_reverse(sheet_id=sheet.pk, user=clerk, reason="dup")
            return "reversed"
        except StockError as exc:
            return type(exc).__name__
        finally:
            connections.close_all()

    # when
    with ThreadPoolExecutor(3) as pool:
        results = sorted(pool.map(reverse, range(3)))

    # then
    assert results == ["AlreadyPosted", "AlreadyPosted", "reversed"]
    assert on_hand(goods, a) == 0
    assert InboundSheet.objects.filter(reversal_of=sheet).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_transfer_received_twice_at_once_is_received_once(make_user, bins):
    # given
    clerk = make_user("manager", username="recv")
    a, _ = bins
    goods = GoodsFactory()
    receive_stock(goods, a, 5)
    far = BinFactory()
    transfer = services.warehouse_transfer_create(
        from_warehouse=a.warehouse, to_warehouse=far.warehouse, user=clerk
    )
    line = services.warehouse_transfer_line_add(
        transfer=transfer, goods=goods, from_bin=a, quantity=5
    )
    services.warehouse_transfer_ship(transfer_id=transfer.pk, user=clerk)
    barrier = threading.Barrier(3)

    def receive(_):
        barrier.wait()
        try:
            services.warehouse_transfer_receive(
                transfer_id=transfer.pk,
                user=clerk,
                received=[services.ReceivedLine(line.pk, far, 5)],
            )
            return "received"
        except StockError as exc:
            return type(exc).__name__
        finally:
            connections.close_all()

    # when
    with ThreadPoolExecutor(3) as pool:
        results = sorted(pool.map(receive, range(3)))

    # then
    assert results == ["AlreadyPosted", "AlreadyPosted", "received"]
    assert on_hand(goods, far) == 5


def test_a_refused_inbound_line_leaves_no_new_batch_behind(clerk, bins):
    # given: a sheet of one warehouse and a bin of another
    from inventory.models import Batch

    a, _ = bins
    other_bin = BinFactory()
    goods = GoodsFactory()
    sheet = services.inbound_sheet_create(
        warehouse=a.warehouse, type=InboundSheet.Type.PURCHASE, user=clerk
    )

    # when / then
    with pytest.raises(StockError):
        services.inbound_line_add(
            sheet=sheet, goods=goods, bin=other_bin, quantity=5, batch_no="LOT-NEW"
        )
    assert not Batch.objects.filter(goods=goods, batch_no="LOT-NEW").exists()

    # when: a good line names the new batch
    line = services.inbound_line_add(
        sheet=sheet, goods=goods, bin=a, quantity=5, batch_no="LOT-NEW"
    )

    # then
    assert line.batch.batch_no == "LOT-NEW"
