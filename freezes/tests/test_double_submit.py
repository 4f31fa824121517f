"""A form submitted twice (a double click, a resent request, a second tab) acts once."""

import pytest
from django.urls import reverse

from freezes.models import FreezeEvent
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
