"""The window form sent twice (a double click while the first opening reserves its stock) opens
one window: a second one would reserve the same quantity again and show stores two windows."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from allocation.models import GrabWindow
from inventory.models import StockBalance

pytestmark = pytest.mark.django_db


def test_a_double_click_on_save_window_opens_one_window(client, world):
    # given the new-window form on the manager's screen, filled in
    client.force_login(world.manager)
    page = client.get(reverse("allocation:window-create"))
    form = page.context["form"]
    assert b'type="hidden" name="client_key"' in page.content
    now = timezone.localtime()
    data = {
        "name": "Flash",
        "warehouse": world.warehouse.pk,
        "policy": world.policy.pk,
        "mode": "first_come",
        "opens_at": (now - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "scope": "all",
        "goods_0": world.goods.sku,
        "quantity_0": "50",
        **{f.html_name: f.value() for f in form.hidden_fields()},
    }
    # when it is sent twice
    first = client.post(reverse("allocation:window-create"), data)
    second = client.post(reverse("allocation:window-create"), data)
    # then one window holds 50 units, and both answers lead to it
    window = GrabWindow.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert sum(StockBalance.objects.values_list("reserved", flat=True)) == 50
    assert window.pools.get().offered == 50
