"""A window takes grabs from its opening second: the beat opens due windows once a minute, but a
store manager who grabs (or opens the grab screen) in between does not wait for it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from allocation.models import GrabRequest, GrabWindow
from allocation.services import grabs
from inventory.models import StockBalance

pytestmark = pytest.mark.django_db


def _due_but_not_opened_yet(world):
    """An upcoming window whose opening time has just come; the beat has not run since."""
    now = timezone.now()
    window = world.open_window(
        opens_at=now + datetime.timedelta(minutes=5), closes_at=now + datetime.timedelta(minutes=30)
    )
    assert window.status == GrabWindow.Status.SCHEDULED
    GrabWindow.objects.filter(pk=window.pk).update(opens_at=now - datetime.timedelta(seconds=1))
    window.refresh_from_db()
    return window


def test_a_grab_at_the_opening_second_is_answered_without_waiting_for_the_beat(world):
    # given
    window = _due_but_not_opened_yet(world)
    # when
    answer = grabs.grab_request_submit(
        user=world.alice, store=world.store_a, window=window, goods_id=world.goods.pk, quantity=10
    )
    # then: the window opened (its pool reserved) and the grab was granted
    assert (answer.status, answer.granted) == (GrabRequest.Status.GRANTED, 10)
    assert GrabWindow.objects.get(pk=window.pk).status == GrabWindow.Status.OPEN
    assert sum(StockBalance.objects.values_list("reserved", flat=True)) == 100


def test_the_phone_offers_the_grab_from_the_opening_second(client, world):
    # given
    window = _due_but_not_opened_yet(world)
    client.force_login(world.alice)
    # when
    home = client.get(reverse("allocation:grab-home"), HTTP_HX_REQUEST="true")
    page = client.get(reverse("allocation:grab", args=[window.pk]))
    # then
    assert reverse("allocation:grab", args=[window.pk]).encode() in home.content
    assert page.status_code == 200 and not page.context["not_open"]
    key = page.context["form"].initial["client_key"]
    data = {"store": world.store_a.pk, "goods": world.goods.pk, "quantity": 7, "client_key": key}
    response = client.post(reverse("allocation:grab", args=[window.pk]), data)
    assert response.status_code == 302
    assert GrabRequest.objects.get().granted == 7
