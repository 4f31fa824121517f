"""Release requests and approval, automatic release at a time, quality inspection."""

import datetime

import pytest
from django.utils import timezone

from freezes.exceptions import AlreadyDecided, ApprovalRefused, FreezeClosed
from freezes.models import Freeze, FreezeEvent, QualityInspection, Reason, ReleaseRequest
from freezes.scope import Scope
from freezes.services.freezing import freeze_create
from freezes.services.release import (
    freeze_release_at_time,
    freezes_release_due,
    inspection_record,
    release_request_approve,
    release_request_cancel,
    release_request_create,
    release_request_reject,
)
from freezes.tests.conftest import receive, ship
from inventory.exceptions import InvalidInput, InvalidQuantity
from inventory.models import StockBalance

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    class People:
        clerk = make_user("staff")
        manager = make_user("manager")
        manager2 = make_user("manager", username="manager2")
        qc = make_user("qc")

    return People


def _freeze(world, user, **kwargs):
    kwargs.setdefault("scope", Scope(goods_id=world.snack.pk))
    kwargs.setdefault("reason", Reason.QC_HOLD)
    return freeze_create(operator=user, **kwargs)


def test_an_approved_request_releases_the_stock_records_both_steps_and_closes_the_freeze(
    world, people
):
    # given
    balance = receive(world.snack, world.bin, 10)
    freeze = _freeze(world, people.clerk)
    request = release_request_create(freeze=freeze, requester=people.clerk, reason="QC done")

    # when
    released = release_request_approve(request=request, approver=people.manager, comment="ok")

    # then
    assert released == 10
    balance.refresh_from_db()
    assert (balance.frozen, balance.available) == (0, 10)
    request.refresh_from_db()
    assert (request.status, request.decided_by, request.released_quantity) == (
        ReleaseRequest.Status.APPROVED,
        people.manager,
        10,
    )
    steps = list(freeze.events.values_list("kind", "actor__username", "quantity"))
    assert steps == [
        ("created", "staff", 10),
        ("release_requested", "staff", 10),
        ("release_approved", "manager", 10),
        ("released", "manager", 10),
        ("closed", "manager", 0),
    ]
    ship(world.snack, world.warehouse, 10)


def test_approving_ones_own_request_is_refused_and_changes_nothing(world, people):
    # given: a manager froze nothing, but asks for a release himself
    balance = receive(world.snack, world.bin, 10)
    freeze = _freeze(world, people.clerk)
    request = release_request_create(freeze=freeze, requester=people.manager, reason="mine")

    # when / then
    with pytest.raises(ApprovalRefused, match="yourself"):
        release_request_approve(request=request, approver=people.manager, comment="ok")
    balance.refresh_from_db()
    request.refresh_from_db()
    assert balance.frozen == 10 and request.is_pending


def test_the_one_who_froze_the_stock_cannot_approve_its_release(world, people):
    # given
    receive(world.snack, world.bin, 10)
    freeze = _freeze(world, people.manager)
    request = release_request_create(freeze=freeze, requester=people.clerk, reason="please")

    # when / then
    with pytest.raises(ApprovalRefused, match="froze this stock"):
        release_request_approve(request=request, approver=people.manager, comment="ok")
    with pytest.raises(ApprovalRefused):
        release_request_reject(request=request, approver=people.manager, comment="no")
    release_request_approve(request=request, approver=people.manager2, comment="ok")


def test_a_staff_user_without_the_permission_cannot_approve(world, people, make_user):
    # given
    receive(world.snack, world.bin, 10)
    freeze = _freeze(world, people.clerk)
    request = release_request_create(freeze=freeze, requester=people.clerk, reason="please")
    other_clerk = make_user("staff", username="clerk2")

    # when / then
    for user in (other_clerk, people.qc):
        with pytest.raises(ApprovalRefused, match="permission"):
            release_request_approve(request=request, approver=user, comment="ok")
    assert StockBalance.objects.get().frozen == 10


def test_releasing_more_than_is_frozen_is_refused_when_asked_and_when_approved(world, people):
    # given
    receive(world.snack, world.bin, 10)
    freeze = _freeze(world, people.clerk)

    # when / then: asked
    with pytest.raises(InvalidQuantity, match="only 10"):
        release_request_create(freeze=freeze, requester=people.clerk, quantity=11, reason="x")
    assert not ReleaseRequest.objects.exists()

    # when / then: approved after part of the stock was scrapped meanwhile
    from freezes.services.freezing import freeze_ship_out

    request = release_request_create(freeze=freeze, requester=people.clerk, quantity=8, reason="x")
    freeze_ship_out(
        freeze=freeze,
        line=freeze.lines.get(),
        quantity=5,
        outbound="scrap",
        operator=people.manager2,
        reason="broken",
    )
    with pytest.raises(InvalidQuantity):
        release_request_approve(request=request, approver=people.manager, comment="ok")
    request.refresh_from_db()
    assert request.is_pending
    assert StockBalance.objects.get().frozen == 5


def test_a_partial_release_takes_the_earliest_expiry_first_and_keeps_the_freeze(world, people):
    # given
    old = receive(world.snack, world.bin, 10, batch=world.batch_old)
    new = receive(world.snack, world.bin, 10, batch=world.batch_new)
    freeze = _freeze(world, people.clerk)
    request = release_request_create(freeze=freeze, requester=people.clerk, quantity=12, reason="x")

    # when
    release_request_approve(request=request, approver=people.manager, comment="half")

    # then
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.frozen, new.frozen) == (0, 8)
    freeze.refresh_from_db()
    assert freeze.status == Freeze.Status.ACTIVE


def test_a_rejected_request_keeps_the_stock_frozen_and_needs_a_comment(world, people):
    # given
    receive(world.snack, world.bin, 10)
    freeze = _freeze(world, people.clerk)
    request = release_request_create(freeze=freeze, requester=people.clerk, reason="x")

    # when / then
    with pytest.raises(InvalidInput):
        release_request_reject(request=request, approver=people.manager, comment=" ")
    release_request_reject(request=request, approver=people.manager, comment="still broken")

    # then
    request.refresh_from_db()
    assert (request.status, request.comment) == (ReleaseRequest.Status.REJECTED, "still broken")
    assert StockBalance.objects.get().frozen == 10
    with pytest.raises(AlreadyDecided):
        release_request_approve(request=request, approver=people.manager, comment="changed mind")
    assert freeze.events.filter(kind=FreezeEvent.Kind.RELEASE_REJECTED).count() == 1


def test_a_request_is_decided_once(world, people):
    # given
    receive(world.snack, world.bin, 10)
    freeze = _freeze(world, people.clerk, quantity=4)
    request = release_request_create(freeze=freeze, requester=people.clerk, quantity=2, reason="x")
    release_request_approve(request=request, approver=people.manager, comment="ok")

    # when / then
    with pytest.raises(AlreadyDecided):
        release_request_approve(request=request, approver=people.manager2, comment="ok")
    assert StockBalance.objects.get().frozen == 2


def test_only_the_requester_can_withdraw_a_request(world, people):
    # given
    receive(world.snack, world.bin, 10)
    freeze = _freeze(world, people.clerk)
    request = release_request_create(freeze=freeze, requester=people.clerk, reason="x")

    # when / then
    with pytest.raises(ApprovalRefused):
        release_request_cancel(request=request, user=people.manager)
    release_request_cancel(request=request, user=people.clerk)
    request.refresh_from_db()
    assert request.status == ReleaseRequest.Status.CANCELLED


def test_a_request_left_pending_when_its_freeze_closes_is_withdrawn_on_the_timeline(world, people):
    # given: a presale freeze releasing at a time, and a clerk's request to release 3 early
    now = timezone.now()
    receive(world.phone, world.bin, 10)
    presale = freeze_create(
        scope=Scope(goods_id=world.phone.pk),
        reason=Reason.PRESALE_RESERVE,
        release_at=now + datetime.timedelta(hours=1),
        operator=people.manager,
        now=now,
    )
    request = release_request_create(
        freeze=presale, requester=people.clerk, quantity=3, reason="early customer"
    )

    # when: the time comes before anyone decided
    assert freezes_release_due(now=now + datetime.timedelta(hours=1, seconds=30)) == 1

    # then: the request is cancelled with a step saying why, by the system
    request.refresh_from_db()
    assert request.status == ReleaseRequest.Status.CANCELLED
    step = presale.events.get(kind=FreezeEvent.Kind.RELEASE_WITHDRAWN)
    assert (step.actor, step.quantity, step.request) == (None, 3, request)
    assert "the freeze closed" in step.comment_display()
    assert freezes_release_due(now=now + datetime.timedelta(hours=2)) == 0
    assert presale.events.filter(kind=FreezeEvent.Kind.RELEASE_WITHDRAWN).count() == 1


def test_a_presale_freeze_releases_itself_at_its_time_once(world, people):
    # given
    now = timezone.now()
    balance = receive(world.phone, world.bin, 600)
    presale = freeze_create(
        scope=Scope(goods_id=world.phone.pk),
        quantity=500,
        reason=Reason.PRESALE_RESERVE,
        release_at=now + datetime.timedelta(hours=2),
        operator=people.manager,
        now=now,
    )

    # when: the beat task ticks before and after the time
    before = freezes_release_due(now=now + datetime.timedelta(hours=1))
    after = freezes_release_due(now=now + datetime.timedelta(hours=2, seconds=30))
    again = freezes_release_due(now=now + datetime.timedelta(hours=2, minutes=1))

    # then
    assert (before, after, again) == (0, 1, 0)
    balance.refresh_from_db()
    assert (balance.frozen, balance.available) == (0, 600)
    presale.refresh_from_db()
    assert presale.status == Freeze.Status.CLOSED
    kinds = list(presale.events.values_list("kind", flat=True))
    assert kinds == ["created", "released_at_time", "closed"]
    assert freeze_release_at_time(freeze_id=presale.pk, now=now + datetime.timedelta(days=1)) == 0


def test_a_release_time_moved_later_is_respected(world, people):
    # given
    from freezes.services.freezing import freeze_update

    now = timezone.now()
    receive(world.phone, world.bin, 10)
    presale = freeze_create(
        scope=Scope(goods_id=world.phone.pk),
        reason=Reason.PRESALE_RESERVE,
        release_at=now + datetime.timedelta(hours=1),
        operator=people.manager,
        now=now,
    )
    freeze_update(
        freeze=presale,
        operator=people.manager,
        note="",
        release_at=now + datetime.timedelta(hours=5),
        release_on_qc_pass=False,
        now=now,
    )

    # when
    released = freezes_release_due(now=now + datetime.timedelta(hours=2))

    # then
    assert released == 0
    assert StockBalance.objects.get().frozen == 10


def test_a_qc_pass_releases_a_freeze_set_to_release_on_qc(world, people):
    # given
    balance = receive(world.snack, world.bin, 10)
    freeze = _freeze(world, people.clerk, release_on_qc_pass=True)

    # when
    inspection = inspection_record(
        inspector=people.qc, freeze=freeze, result=QualityInspection.Result.PASS
    )

    # then
    balance.refresh_from_db()
    assert balance.frozen == 0
    assert inspection.released_quantity == 10
    freeze.refresh_from_db()
    assert freeze.status == Freeze.Status.CLOSED
    kinds = list(freeze.events.values_list("kind", flat=True))
    assert kinds == ["created", "qc_result", "released_on_qc", "closed"]


def test_a_qc_pass_on_a_freeze_without_auto_release_only_records_the_result(world, people):
    # given
    receive(world.snack, world.bin, 10)
    freeze = _freeze(world, people.clerk)

    # when
    inspection_record(inspector=people.qc, freeze=freeze, result=QualityInspection.Result.PASS)

    # then
    assert StockBalance.objects.get().frozen == 10
    assert freeze.events.filter(kind=FreezeEvent.Kind.QC_RESULT).count() == 1


def test_a_qc_fail_keeps_the_stock_frozen_and_suggests_disposal(world, people):
    # given
    receive(world.snack, world.bin, 10)
    freeze = _freeze(world, people.clerk, release_on_qc_pass=True)

    # when
    inspection = inspection_record(
        inspector=people.qc, freeze=freeze, result=QualityInspection.Result.FAIL, failed=10
    )

    # then
    assert StockBalance.objects.get().frozen == 10
    assert inspection.suggests_disposal
    assert inspection.released_quantity == 0


def test_a_partial_qc_result_releases_the_passed_units(world, people):
    # given
    receive(world.snack, world.bin, 10)
    freeze = _freeze(world, people.clerk, release_on_qc_pass=True)

    # when
    inspection = inspection_record(
        inspector=people.qc,
        freeze=freeze,
        result=QualityInspection.Result.PARTIAL,
        passed=7,
        failed=3,
    )

    # then
    assert StockBalance.objects.get().frozen == 3
    assert inspection.released_quantity == 7
    freeze.refresh_from_db()
    assert freeze.is_active


def test_bad_qc_input_is_refused_and_records_nothing(world, people):
    # given
    receive(world.snack, world.bin, 10)
    freeze = _freeze(world, people.clerk, release_on_qc_pass=True)

    # when / then
    with pytest.raises(InvalidInput):
        inspection_record(
            inspector=people.qc, freeze=freeze, result=QualityInspection.Result.PARTIAL, passed=3
        )
    with pytest.raises(InvalidQuantity):
        inspection_record(
            inspector=people.qc,
            freeze=freeze,
            result=QualityInspection.Result.PARTIAL,
            passed=11,
            failed=1,
        )
    with pytest.raises(InvalidInput):
        inspection_record(inspector=people.qc, result=QualityInspection.Result.PASS)
    assert not QualityInspection.objects.exists()
    assert StockBalance.objects.get().frozen == 10


def test_a_qc_pass_on_a_batch_releases_that_batch_in_every_freeze_set_to_release_on_qc(
    world, people
):
    # given
    old = receive(world.snack, world.bin, 10, batch=world.batch_old)
    new = receive(world.snack, world.bin, 10, batch=world.batch_new)
    manual = _freeze(world, people.clerk, quantity=5)  # 5 of the old batch
    auto = _freeze(world, people.clerk, quantity=15, release_on_qc_pass=True)  # 5 old, 10 new

    # when
    inspection_record(inspector=people.qc, batch=world.batch_old, result="pass")

    # then: the auto freeze lets go of the old batch, keeps the new; the manual one keeps all
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.frozen, new.frozen) == (5, 10)
    assert dict(auto.lines.values_list("balance_id", "released")) == {old.pk: 5, new.pk: 0}
    assert manual.lines.get().held == 5
    assert manual.events.filter(kind=FreezeEvent.Kind.QC_RESULT).count() == 1


def test_inspecting_a_closed_freeze_is_refused(world, people):
    # given
    receive(world.snack, world.bin, 10)
    freeze = _freeze(world, people.clerk, release_on_qc_pass=True)
    inspection_record(inspector=people.qc, freeze=freeze, result="pass")
    freeze.refresh_from_db()

    # when / then
    with pytest.raises(FreezeClosed):
        inspection_record(inspector=people.qc, freeze=freeze, result="fail")


@pytest.mark.postgres
def test_an_approval_refused_because_someone_else_decided_first_leaves_the_freeze_sticky(
    world, people
):
    # given: a sticky freeze; the approver's page still shows the request as pending while
    # another approver has rejected it already
    receive(world.snack, world.bin, 10)
    freeze = _freeze(world, people.clerk, is_sticky=True)
    request = release_request_create(freeze=freeze, requester=people.clerk, reason="QC done")
    stale = ReleaseRequest.objects.get(pk=request.pk)
    release_request_reject(request=request, approver=people.manager2, comment="not yet")

    # when
    with pytest.raises(AlreadyDecided):
        release_request_approve(request=stale, approver=people.manager, comment="ok")

    # then
    freeze.refresh_from_db()
    assert freeze.is_catching
    assert not freeze.events.filter(kind=FreezeEvent.Kind.STICKY_ENDED).exists()
    receive(world.snack, world.bin2, 3)
    assert freeze.lines.count() == 2
    assert StockBalance.objects.get(bin=world.bin).frozen == 10


def test_an_approval_refused_because_nothing_is_frozen_leaves_the_freeze_sticky(world, people):
    # given: a sticky freeze whose units were all released by an earlier partial request,
    # and a pending request for everything
    receive(world.snack, world.bin, 10)
    freeze = _freeze(world, people.clerk, is_sticky=True)
    everything = release_request_create(freeze=freeze, requester=people.clerk, reason="all")
    part = release_request_create(freeze=freeze, requester=people.clerk, quantity=10, reason="x")
    release_request_approve(request=part, approver=people.manager, comment="ok")

    # when
    with pytest.raises(InvalidQuantity):
        release_request_approve(request=everything, approver=people.manager, comment="ok")

    # then
    freeze.refresh_from_db()
    everything.refresh_from_db()
    assert freeze.is_catching and everything.is_pending
    assert not freeze.events.filter(kind=FreezeEvent.Kind.STICKY_ENDED).exists()


def test_approving_a_release_of_everything_of_a_sticky_freeze_ends_it_and_closes_it(world, people):
    # given
    receive(world.snack, world.bin, 10)
    freeze = _freeze(world, people.clerk, is_sticky=True)
    request = release_request_create(freeze=freeze, requester=people.clerk, reason="QC done")

    # when
    released = release_request_approve(request=request, approver=people.manager, comment="ok")

    # then
    freeze.refresh_from_db()
    assert released == 10
    assert freeze.status == Freeze.Status.CLOSED and not freeze.is_catching
    assert freeze.events.filter(kind=FreezeEvent.Kind.STICKY_ENDED).count() == 1
    receive(world.snack, world.bin2, 3)
    assert StockBalance.objects.get(bin=world.bin2).frozen == 0
