"""The freeze timeline is append-only: the database refuses edits and deletes, the admin shows
it read-only, and anyone can find who froze or released a balance's stock."""

import datetime

import pytest
from django.contrib import admin
from django.db import IntegrityError, InternalError, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from freezes.models import Freeze, FreezeEvent, FreezeLine, ReleaseMode, ReleaseRequest
from freezes.scope import Scope
from freezes.services.freezing import freeze_create, freeze_ship_out
from freezes.services.release import (
    freezes_release_due,
    inspection_record,
    release_request_approve,
    release_request_cancel,
    release_request_create,
)
from freezes.services.rules import rule_create, rule_set_active, rule_update
from freezes.tests.conftest import receive


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_refuses_to_edit_or_delete_a_freeze_event(world, make_user):
    # given
    receive(world.snack, world.bin, 5)
    freeze = freeze_create(
        scope=Scope(goods_id=world.snack.pk), reason="qc_hold", operator=make_user("staff")
    )
    event = freeze.events.get()

    # when / then
    for change in (
        lambda: FreezeEvent.objects.filter(pk=event.pk).update(comment="rewritten"),
        lambda: FreezeEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
            change()
    event.refresh_from_db()
    assert event.comment == ""


@pytest.mark.django_db
def test_events_and_lines_are_read_only_in_the_admin_even_for_a_superuser(world, make_user):
    # given
    superuser = make_user("admin")
    request = RequestFactory().get("/admin/")
    request.user = superuser

    # when / then
    for model in (FreezeEvent, FreezeLine, Freeze):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
        assert "delete_selected" not in model_admin.get_actions(request)


@pytest.mark.django_db
def test_the_admin_pages_of_the_timeline_open(client, world, make_user):
    # given
    receive(world.snack, world.bin, 5)
    freeze = freeze_create(
        scope=Scope(goods_id=world.snack.pk), reason="qc_hold", operator=make_user("staff")
    )
    client.force_login(make_user("admin"))

    # when
    listing = client.get(reverse("admin:freezes_freezeevent_changelist"))
    detail = client.get(reverse("admin:freezes_freeze_change", args=[freeze.pk]))
    delete = client.get(reverse("admin:freezes_freezeevent_delete", args=[freeze.events.get().pk]))

    # then
    assert listing.status_code == 200 and detail.status_code == 200
    assert delete.status_code == 403


@pytest.mark.django_db
def test_every_step_is_on_the_timeline_with_who_when_how_many_and_why(world, make_user):
    # given
    clerk, manager, qc = make_user("staff"), make_user("manager"), make_user("qc")
    receive(world.snack, world.bin, 10)

    # when
    freeze = freeze_create(
        scope=Scope(goods_id=world.snack.pk),
        reason="customer_complaint",
        note="stains",
        is_sticky=True,
        operator=clerk,
    )
    receive(world.snack, world.bin2, 2)
    inspection_record(inspector=qc, freeze=freeze, result="partial", passed=8, failed=4)
    freeze_ship_out(
        freeze=freeze,
        line=freeze.lines.order_by("pk").first(),
        quantity=4,
        outbound="scrap",
        operator=manager,
        reason="stained",
    )
    request = release_request_create(freeze=freeze, requester=clerk, quantity=2, reason="ok")
    release_request_approve(request=request, approver=manager, comment="checked")

    # then
    steps = list(
        freeze.events.order_by("created_at", "pk").values_list(
            "kind", "actor__username", "quantity", "reason"
        )
    )
    assert steps == [
        ("created", "staff", 10, "customer_complaint"),
        ("lines_added", None, 2, "customer_complaint"),
        ("qc_result", "qc", 8, "customer_complaint"),
        ("scrapped", "manager", 4, "customer_complaint"),
        ("release_requested", "staff", 2, "customer_complaint"),
        ("release_approved", "manager", 2, "customer_complaint"),
        ("released", "manager", 2, "customer_complaint"),
    ]


@pytest.mark.django_db
def test_anyone_can_find_who_froze_and_released_a_balances_stock(client, world, make_user):
    # given
    clerk, manager = make_user("staff"), make_user("manager")
    balance = receive(world.snack, world.bin, 10)
    freeze = freeze_create(scope=Scope(goods_id=world.snack.pk), reason="damaged", operator=clerk)
    request = release_request_create(freeze=freeze, requester=clerk, quantity=3, reason="ok")
    release_request_approve(request=request, approver=manager, comment="fine")
    client.force_login(make_user("qc"))

    # when
    page = client.get(reverse("freezes:balance-holds"), {"balance": balance.pk})

    # then
    rows = [(row.movement.kind, row.movement.operator.username) for row in page.context["history"]]
    assert rows == [("unfreeze", "manager"), ("freeze", "staff")]
    assert all(row.freeze == freeze for row in page.context["history"])


@pytest.mark.django_db
def test_pending_requests_of_a_closed_freeze_are_cancelled_by_the_minute_task(world, make_user):
    # given
    clerk, qc = make_user("staff"), make_user("qc")
    receive(world.snack, world.bin, 10)
    freeze = freeze_create(
        scope=Scope(goods_id=world.snack.pk),
        reason="qc_hold",
        release_on_qc_pass=True,
        operator=clerk,
    )
    request = release_request_create(freeze=freeze, requester=clerk, reason="please")
    inspection_record(inspector=qc, freeze=freeze, result="pass")

    # when
    freezes_release_due()

    # then
    request.refresh_from_db()
    assert request.status == ReleaseRequest.Status.CANCELLED


@pytest.mark.django_db
def test_a_rule_moving_the_release_time_of_its_freezes_is_on_their_timelines(world, make_user):
    # given: a presale rule's freeze, released at the rule's time
    manager = make_user("manager")
    start = timezone.now() + datetime.timedelta(days=10)
    rule = rule_create(
        name="Phones until presale",
        kind="category_arrival",
        reason="presale_reserve",
        categories=[world.phones],
        release_mode=ReleaseMode.AT_TIME,
        release_at=start,
        operator=manager,
    )
    rule_set_active(rule=rule, operator=manager, active=True)
    receive(world.phone, world.bin, 4)
    freeze = Freeze.objects.get(rule=rule)

    # when: the manager brings the presale forward
    sooner = start - datetime.timedelta(days=7)
    rule_update(
        rule=rule,
        operator=manager,
        name=rule.name,
        reason=rule.reason,
        categories=[world.phones],
        release_mode=ReleaseMode.AT_TIME,
        release_at=sooner,
    )

    # then: the freeze's timeline says who changed its release time
    freeze.refresh_from_db()
    assert freeze.release_at == sooner
    change = freeze.events.get(kind=FreezeEvent.Kind.UPDATED)
    assert (change.actor, change.rule, change.comment) == (manager, rule, "release_at")


@pytest.mark.django_db
def test_a_withdrawn_release_request_is_on_the_timeline(world, make_user):
    # given
    clerk = make_user("staff")
    receive(world.snack, world.bin, 10)
    freeze = freeze_create(scope=Scope(goods_id=world.snack.pk), reason="qc_hold", operator=clerk)
    request = release_request_create(freeze=freeze, requester=clerk, quantity=4, reason="sold")

    # when
    release_request_cancel(request=request, user=clerk)

    # then: the timeline says the request was withdrawn, by whom, and which request
    steps = list(
        freeze.events.order_by("created_at", "pk").values_list(
            "kind", "actor__username", "quantity", "request"
        )
    )
    assert steps == [
        ("created", "staff", 10, None),
        ("release_requested", "staff", 4, request.pk),
        ("release_withdrawn", "staff", 4, request.pk),
    ]
