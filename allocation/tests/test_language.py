"""The allocation screens read right in Chinese: words the root catalogue translates for other
screens (a "Created" column is 创建时间) do not leak into allocation's statuses."""

import pytest
from django.urls import reverse

from allocation.services import close, grabs

pytestmark = pytest.mark.django_db


def _chinese(client):
    client.cookies["django_language"] = "zh-hans"


def test_a_new_order_reads_created_not_creation_time_in_chinese(client, world):
    # given an order just made by the close
    window = world.open_window()
    grabs.grab_request_submit(
        user=world.alice, store=world.store_a, window=window, goods_id=world.goods.pk, quantity=5
    )
    close.window_close(window_id=window.pk)
    # when the store manager lists his orders in Chinese
    client.force_login(world.alice)
    _chinese(client)
    page = client.get(reverse("allocation:order-list")).content.decode()
    # then its status says "created" (已创建), not the column heading "creation time"
    assert "已创建" in page and "创建时间" not in page


def test_the_window_edit_button_reads_edit_in_chinese(client, world):
    window = world.open_window()
    client.force_login(world.manager)
    _chinese(client)
    page = client.get(reverse("allocation:window-detail", args=[window.pk])).content.decode()
    edit = reverse("allocation:window-edit", args=[window.pk])
    assert f'href="{edit}">编辑</a>' in page
