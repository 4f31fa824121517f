"""A form submitted twice (a double click, a resent request, a second tab) acts once."""

import pytest
from django.urls import reverse

from freezes.models import Freeze, FreezeEvent, FreezeJob, QualityInspection, ReleaseRequest
from freezes.scope import Scope
from freezes.services.freezing import freeze_create
from freezes.tests.conftest import receive

pytestmark = pytest.mark.django_db


def test_scrapping_frozen_stock_submitted_twice_takes_the_units_out_once(client, world, make_user):
    # given: 10 frozen units, and the manager's scrap form with its submit token
    clerk, manager = make_user("staff"), make_user("manager")
    balance = receive(world.snack, world.bin, 10)
    freeze = freeze_create(scope=Scope(goods_id=world.snack.pk), reason="damaged", operator=clerk)
    client.force_login(manager)
    url = reverse("freezes:freeze-ship-out", args=[freeze.pk])
    token = client.get(url).context["form"]["token"].value()
    assert token
    data = {
        "line": freeze.lines.get().pk,
        "quantity": 3,
        "outbound": "scrap",
        "reason": "crushed",
        "token": token,
    }

    # when: the same form arrives twice
    first = client.post(url, data)
    second = client.post(url, data)

    # then: the units left once; the second submit is refused and changes nothing
    assert first.status_code == 302
    assert second.status_code == 422
    assert "nothing was changed" in second.content.decode()
    balance.refresh_from_db()
    assert (balance.on_hand, balance.frozen) == (7, 7)
    line = freeze.lines.get()
    assert (line.quantity, line.shipped) == (10, 3)
    assert freeze.events.filter(kind=FreezeEvent.Kind.SCRAPPED).count() == 1


@pytest.mark.parametrize("background", [False, True])
def test_a_tampered_overlong_submit_token_is_refused_with_a_message_not_a_500(
    client, world, make_user, settings, background
):
    # given: a previewed freeze whose hidden token was replaced by a very long one
    if background:
        settings.FREEZES_BACKGROUND_BALANCES = 0
    balance = receive(world.snack, world.bin, 30, batch=world.batch_old)
    client.force_login(make_user("staff"))
    url = reverse("freezes:freeze-create")
    form = {"goods": world.snack.sku, "reason": "qc_hold", "token": "t-1"}
    digest = client.post(url, {**form, "preview": "1"}).context["digest"]

    # when
    response = client.post(url, {**form, "token": "x" * 500, "confirm": "1", "digest": digest})

    # then: a clear refusal, nothing frozen and no job queued
    assert response.status_code == 422
    assert "This form was changed outside its page" in response.content.decode()
    assert not Freeze.objects.exists()
    assert not FreezeJob.objects.exists()
    balance.refresh_from_db()
    assert balance.frozen == 0


def test_a_partial_qc_result_submitted_twice_is_recorded_and_released_once(
    client, world, make_user
):
    # given: 10 units frozen until QC passes, and the inspector's form with its submit token
    clerk, qc = make_user("staff"), make_user("qc")
    balance = receive(world.snack, world.bin, 10)
    freeze = freeze_create(
        scope=Scope(goods_id=world.snack.pk),
        reason="qc_hold",
        release_on_qc_pass=True,
        operator=clerk,
    )
    client.force_login(qc)
    url = reverse("freezes:freeze-inspect", args=[freeze.pk])
    token = client.get(url).context["form"]["token"].value()
    assert token
    data = {"result": "partial", "passed": 3, "failed": 1, "token": token}

    # when: the same result arrives twice
    first = client.post(url, data)
    second = client.post(url, data)

    # then: one QC record, 3 units released once; the second submit changes nothing
    assert first.status_code == 302
    assert second.status_code == 422
    assert "nothing was changed" in second.content.decode()
    assert QualityInspection.objects.count() == 1
    balance.refresh_from_db()
    assert (balance.frozen, balance.available) == (7, 3)
    assert freeze.events.filter(kind=FreezeEvent.Kind.QC_RESULT).count() == 1


def test_a_release_request_submitted_twice_is_asked_once(client, world, make_user):
    # given: 10 frozen units and the clerk's release request form with its submit token
    clerk = make_user("staff")
    receive(world.snack, world.bin, 10)
    freeze = freeze_create(scope=Scope(goods_id=world.snack.pk), reason="qc_hold", operator=clerk)
    client.force_login(clerk)
    url = reverse("freezes:release-request", args=[freeze.pk])
    token = client.get(url).context["form"]["token"].value()
    assert token
    data = {"quantity": 4, "reason": "checked, fine", "token": token}

    # when: the same request arrives twice
    first = client.post(url, data)
    second = client.post(url, data)

    # then: one request for 4 units waits for an approver (approving twice would release 8)
    assert first.status_code == 302
    assert second.status_code == 422
    assert "nothing was changed" in second.content.decode()
    assert list(ReleaseRequest.objects.values_list("quantity", "status")) == [
        (4, ReleaseRequest.Status.PENDING)
    ]
    assert freeze.events.filter(kind=FreezeEvent.Kind.RELEASE_REQUESTED).count() == 1
