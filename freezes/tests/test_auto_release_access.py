"""Setting or bringing forward an automatic release on an existing freeze is a release without a
request: only a holder of the approve permission who did not freeze the stock may do it, on the
screen, in the service and in the admin. Switching it off or postponing it stays open to anyone
who may change the freeze (it keeps the stock frozen longer)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from freezes.exceptions import ApprovalRefused
from freezes.models import Freeze, FreezeEvent, QualityInspection, Reason, ReleaseMode
from freezes.scope import Scope
from freezes.services.freezing import freeze_create, freeze_update
from freezes.services.release import freezes_release_due, inspection_record
from freezes.services.rules import rule_create, rule_update
from freezes.tests.conftest import receive
from inventory.models import StockBalance

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    class People:
        clerk = make_user("staff")
        manager = make_user("manager")
        manager2 = make_user("manager", username="manager2")
        qc = make_user("qc")
        admin = make_user("admin")

    return People


def _managers_freeze(world, people, **kwargs):
    receive(world.snack, world.bin, 10)
    return freeze_create(
        scope=Scope(goods_id=world.snack.pk),
        reason=Reason.QC_HOLD,
        operator=people.manager,
        **kwargs,
    )


def _edit(client, user, freeze, **data):
    client.force_login(user)
    return client.post(reverse("freezes:freeze-edit", args=[freeze.pk]), data)


def _soon(minutes=2):
    return timezone.localtime() + datetime.timedelta(minutes=minutes)


def _frozen():
    return StockBalance.objects.get().frozen


def test_staff_cannot_set_a_release_time_on_a_managers_freeze_on_the_screen(client, world, people):
    # given
    freeze = _managers_freeze(world, people)
    soon = _soon()

    # when
    response = _edit(client, people.clerk, freeze, release_at=soon.strftime("%Y-%m-%dT%H:%M"))

    # then: refused with a plain message, nothing changed, the minute task releases nothing
    assert response.status_code == 422
    assert "approve" in response.content.decode()
    freeze.refresh_from_db()
    assert freeze.release_at is None
    assert not freeze.events.filter(kind=FreezeEvent.Kind.UPDATED).exists()
    assert freezes_release_due(now=soon + datetime.timedelta(minutes=5)) == 0
    assert _frozen() == 10


def test_staff_cannot_set_a_release_time_through_the_service(world, people):
    # given
    freeze = _managers_freeze(world, people)
    soon = _soon()

    # when / then
    with pytest.raises(ApprovalRefused):
        freeze_update(
            freeze=freeze,
            operator=people.clerk,
            note="",
            release_at=soon,
            release_on_qc_pass=False,
        )
    freeze.refresh_from_db()
    assert freeze.release_at is None
    assert freezes_release_due(now=soon + datetime.timedelta(minutes=5)) == 0
    assert _frozen() == 10


def test_staff_cannot_bring_an_existing_release_time_forward(world, people):
    # given: a presale release in ten days
    later = timezone.now() + datetime.timedelta(days=10)
    freeze = _managers_freeze(world, people, release_at=later)
    soon = _soon()

    # when / then
    with pytest.raises(ApprovalRefused):
        freeze_update(
            freeze=freeze,
            operator=people.clerk,
            note="",
            release_at=soon,
            release_on_qc_pass=False,
        )
    freeze.refresh_from_db()
    assert freeze.release_at == later
    assert freezes_release_due(now=soon + datetime.timedelta(minutes=5)) == 0
    assert _frozen() == 10


def test_qc_cannot_switch_on_release_on_qc_pass_for_someone_elses_freeze_then_pass_it(
    client, world, people
):
    # given
    freeze = _managers_freeze(world, people)

    # when: the inspector ticks "release when QC passes", then records a pass
    response = _edit(client, people.qc, freeze, release_on_qc_pass="on")
    client.post(reverse("freezes:freeze-inspect", args=[freeze.pk]), {"result": "pass"})

    # then: the switch was refused and the pass released nothing
    assert response.status_code == 422
    freeze.refresh_from_db()
    assert freeze.release_on_qc_pass is False
    assert QualityInspection.objects.get().released_quantity == 0
    assert _frozen() == 10
    assert freeze.is_active


def test_qc_cannot_switch_on_release_on_qc_pass_through_the_service(world, people):
    # given
    freeze = _managers_freeze(world, people)

    # when / then
    with pytest.raises(ApprovalRefused):
        freeze_update(
            freeze=freeze, operator=people.qc, note="", release_at=None, release_on_qc_pass=True
        )
    inspection_record(inspector=people.qc, freeze=freeze, result=QualityInspection.Result.PASS)
    assert _frozen() == 10


def test_the_freezer_cannot_add_an_automatic_release_to_their_own_freeze_even_as_approver(
    world, people
):
    # given
    freeze = _managers_freeze(world, people)

    # when / then
    with pytest.raises(ApprovalRefused, match="yourself"):
        freeze_update(
            freeze=freeze,
            operator=people.manager,
            note="",
            release_at=_soon(),
            release_on_qc_pass=False,
        )
    with pytest.raises(ApprovalRefused, match="yourself"):
        freeze_update(
            freeze=freeze,
            operator=people.manager,
            note="",
            release_at=None,
            release_on_qc_pass=True,
        )


def test_another_approver_may_set_a_release_time_and_the_minute_task_releases_it(world, people):
    # given
    freeze = _managers_freeze(world, people)
    soon = _soon()

    # when
    freeze_update(
        freeze=freeze, operator=people.manager2, note="", release_at=soon, release_on_qc_pass=False
    )
    released = freezes_release_due(now=soon + datetime.timedelta(minutes=1))

    # then
    assert released == 1
    assert _frozen() == 0
    update = freeze.events.get(kind=FreezeEvent.Kind.UPDATED)
    assert update.actor == people.manager2


def test_anyone_who_may_change_the_freeze_may_switch_the_automatic_release_off_or_postpone_it(
    world, people
):
    # given
    at = timezone.now() + datetime.timedelta(days=1)
    freeze = _managers_freeze(world, people, release_at=at, release_on_qc_pass=True)

    # when: postponed, then switched off, by warehouse staff
    freeze_update(
        freeze=freeze,
        operator=people.clerk,
        note="",
        release_at=at + datetime.timedelta(days=2),
        release_on_qc_pass=False,
    )
    freeze_update(
        freeze=freeze, operator=people.clerk, note="", release_at=None, release_on_qc_pass=False
    )

    # then
    freeze.refresh_from_db()
    assert (freeze.release_at, freeze.release_on_qc_pass) == (None, False)


def test_the_refusal_reads_in_chinese(client, world, people):
    # given
    freeze = _managers_freeze(world, people)

    # when
    with translation.override("zh-hans"):
        with pytest.raises(ApprovalRefused) as refused:
            freeze_update(
                freeze=freeze,
                operator=people.clerk,
                note="",
                release_at=_soon(),
                release_on_qc_pass=False,
            )
        message = str(refused.value)

    # then
    assert "解冻申请" in message


def test_the_admin_cannot_change_a_freezes_automatic_release(client, world, people):
    # given: a superuser and a staff member with change_freeze, both admin users
    freeze = _managers_freeze(world, people)
    url = reverse("admin:freezes_freeze_change", args=[freeze.pk])
    data = {"release_at_0": _soon().date().isoformat(), "release_on_qc_pass": "on"}

    for user in (people.admin, people.clerk):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        client.force_login(user)

        # when
        response = client.post(url, data)

        # then: the change form is read-only, nothing changes
        assert response.status_code == 403
    freeze.refresh_from_db()
    assert (freeze.release_at, freeze.release_on_qc_pass) == (None, False)
    assert freezes_release_due(now=timezone.now() + datetime.timedelta(days=1)) == 0
    assert _frozen() == 10


def test_moving_a_rules_release_time_forward_needs_the_approve_permission(
    world, people, make_user, django_user_model
):
    # given: a rule-made presale freeze, and a rule editor without the approve permission
    from django.contrib.auth.models import Permission

    later = timezone.now() + datetime.timedelta(days=10)
    rule = rule_create(
        name="Phones until presale",
        kind="category_arrival",
        reason=Reason.PRESALE_RESERVE,
        categories=[world.phones],
        release_mode=ReleaseMode.AT_TIME,
        release_at=later,
        operator=people.manager,
    )
    rule.is_active = True
    rule.save(update_fields=["is_active"])
    receive(world.phone, world.bin, 4)
    assert Freeze.objects.get(rule=rule).release_at == later
    editor = django_user_model.objects.create_user(username="editor")
    editor.user_permissions.add(
        Permission.objects.get(codename="change_freezerule", content_type__app_label="freezes")
    )

    # when / then
    with pytest.raises(ApprovalRefused):
        rule_update(
            rule=rule,
            operator=editor,
            name=rule.name,
            reason=rule.reason,
            categories=[world.phones],
            release_mode=ReleaseMode.AT_TIME,
            release_at=_soon(),
        )
    assert Freeze.objects.get(rule=rule).release_at == later


def test_changing_only_the_note_on_the_screen_keeps_a_release_time_to_the_second(
    client, world, people
):
    # given: a presale freeze whose release time is not on a whole minute (as the demo makes),
    # and its edit form, which shows the time to the minute
    at = timezone.now() + datetime.timedelta(days=7, seconds=30)
    freeze = _managers_freeze(world, people, release_at=at)
    shown = timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")
    client.force_login(people.clerk)
    url = reverse("freezes:freeze-edit", args=[freeze.pk])
    assert f'value="{shown}"' in client.get(url).content.decode()

    # when: the clerk only writes a note and saves the form as shown
    response = client.post(url, {"note": "pallet wrapped", "release_at": shown})

    # then: the note is saved and the release time is untouched
    assert response.status_code == 302
    freeze.refresh_from_db()
    assert (freeze.note, freeze.release_at) == ("pallet wrapped", at)
    assert freeze.events.get(kind=FreezeEvent.Kind.UPDATED).comment == "note"
