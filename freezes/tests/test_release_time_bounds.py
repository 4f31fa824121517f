"""An automatic release time far in the future is refused with a message: stored, the last
minute of year 9999 typed west of UTC is in year 10000, which no page could read back."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from freezes.models import Freeze, FreezeRule, Reason
from freezes.scope import Scope
from freezes.services.freezing import freeze_create
from freezes.tests.conftest import receive

pytestmark = pytest.mark.django_db

LAST_MINUTE = "9999-12-31T23:59"


@pytest.fixture
def new_york(settings):
    settings.TIME_ZONE = "America/New_York"
    timezone.activate("America/New_York")
    yield
    timezone.deactivate()


def test_a_freeze_released_at_the_end_of_time_is_refused_and_the_lists_still_open(
    client, world, make_user, new_york
):
    # given
    receive(world.snack, world.bin, 30)
    client.force_login(make_user("staff"))
    url = reverse("freezes:freeze-create")
    form = {"goods": world.snack.sku, "reason": "qc_hold", "token": "t-1"}
    digest = client.post(url, {**form, "preview": "1"}).context["digest"]

    # when
    response = client.post(
        url, {**form, "release_at": LAST_MINUTE, "confirm": "1", "digest": digest}
    )

    # then
    assert response.status_code == 422
    assert "too far ahead" in response.content.decode()
    assert not Freeze.objects.exists()
    assert client.get(reverse("freezes:freeze-list")).status_code == 200


def test_moving_a_freezes_release_to_the_end_of_time_is_refused(client, world, make_user, new_york):
    # given: a freeze made by a manager, edited by another approver
    receive(world.snack, world.bin, 30)
    freeze = freeze_create(
        scope=Scope(goods_id=world.snack.pk), reason=Reason.QC_HOLD, operator=make_user("manager")
    )
    client.force_login(make_user("manager", username="manager2"))

    # when
    response = client.post(
        reverse("freezes:freeze-edit", args=[freeze.pk]), {"note": "", "release_at": LAST_MINUTE}
    )

    # then
    assert response.status_code == 422
    assert "too far ahead" in response.content.decode()
    freeze.refresh_from_db()
    assert freeze.release_at is None
    assert client.get(reverse("freezes:freeze-detail", args=[freeze.pk])).status_code == 200


def test_a_rule_released_at_the_end_of_time_is_refused(client, world, make_user, new_york):
    # given
    client.force_login(make_user("manager"))
    data = {
        "name": "Presale",
        "kind": "category_arrival",
        "reason": "presale_reserve",
        "categories": [world.phones.pk],
        "release_mode": "at_time",
        "release_at": LAST_MINUTE,
    }

    # when
    response = client.post(reverse("freezes:rule-create"), data)

    # then
    assert response.status_code == 422
    assert "too far ahead" in response.content.decode()
    assert not FreezeRule.objects.exists()
    assert client.get(reverse("freezes:rule-list")).status_code == 200


def test_a_release_within_ten_years_is_accepted(world, make_user):
    # given
    receive(world.snack, world.bin, 30)
    at = timezone.now() + datetime.timedelta(days=365 * 9)

    # when
    freeze = freeze_create(
        scope=Scope(goods_id=world.snack.pk),
        reason=Reason.PRESALE_RESERVE,
        release_at=at,
        operator=make_user("staff"),
    )

    # then
    assert freeze.release_at == at
