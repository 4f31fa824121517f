"""The allocation screens read right in Chinese: words the root catalogue translates for other
screens (a "Created" column is 创建时间) do not leak into allocation's statuses, and a reason
written at the close names the sharing method in the reader's language, not the closer's."""

import pytest
from django.urls import reverse
from django.utils import translation

from allocation import reasons
from allocation.models import GrabRequest, GrabWindow, OrderEvent, Policy, ReplenishmentOrder
from allocation.services import close, grabs, orders, returns, windows

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


def test_a_share_reason_names_the_method_in_the_readers_language(client, world):
    # given a pro-rata window closed by the beat (English) with two stores asking too much
    world.policy.share = Policy.Share.PRO_RATA
    world.policy.save()
    window = world.open_window(
        mode=GrabWindow.Mode.AT_CLOSE, offers=[windows.Offer(world.goods, 10)]
    )
    for user, store in [(world.alice, world.store_a), (world.bob, world.store_b)]:
        grabs.grab_request_submit(
            user=user, store=store, window=window, goods_id=world.goods.pk, quantity=10
        )
    with translation.override("en"):
        close.window_close(window_id=window.pk)
    assert GrabRequest.objects.get(store=world.store_a).status == GrabRequest.Status.PARTIAL
    # when the store manager reads his requests in Chinese
    client.force_login(world.alice)
    _chinese(client)
    page = client.get(reverse("allocation:my-requests")).content.decode()
    # then the reason is Chinese through and through
    assert "结束时按规则分得的份额（按申请数量比例分配）" in page
    assert "Pro-rata" not in page


@pytest.mark.parametrize("stored", ["pro_rata", "Pro-rata to the requested quantity"])
def test_a_share_reason_reads_a_stored_code_or_label(stored):
    with translation.override("zh-hans"):
        text = reasons.reason_text(reasons.NO_SHARE, {"method": stored})
    assert text == "排名靠前的门店已分完货池（按申请数量比例分配）。"
    assert reasons.reason_text(reasons.NO_SHARE, {"method": "who knows"}).endswith("(who knows).")


def test_a_filed_return_on_the_timeline_reads_in_the_readers_language(client, world):
    # given a received order of store A, whose manager files a return in Chinese
    window = world.open_window()
    grabs.grab_request_submit(
        user=world.alice, store=world.store_a, window=window, goods_id=world.goods.pk, quantity=5
    )
    close.window_close(window_id=window.pk)
    order = ReplenishmentOrder.objects.get()
    orders.order_ship(order_id=order.pk, user=world.manager)
    orders.order_receive(order_id=order.pk, user=world.alice, received={})
    line = order.lines.get()
    with translation.override("zh-hans"):
        store_return = returns.return_file(
            user=world.alice, order_id=order.pk, lines={line.pk: 1}, reason="damaged"
        )
    # and an older event that stored the label in Chinese
    OrderEvent.objects.create(
        order=order, kind=OrderEvent.Kind.RETURN_FILED, note="RT000099: 破损", actor=world.alice
    )
    # when the warehouse manager reads the order in English
    client.force_login(world.manager)
    page = client.get(reverse("allocation:order-detail", args=[order.pk])).content.decode()
    # then both read "Damaged"
    assert f"{store_return.ref}: Damaged" in page and "RT000099: Damaged" in page
    assert "破损" not in page


def test_the_decision_figures_are_named_in_the_readers_language(client, world):
    # given a grab capped by the policy
    world.policy.cap_per_goods = 3
    world.policy.save()
    window = world.open_window()
    grabs.grab_request_submit(
        user=world.alice, store=world.store_a, window=window, goods_id=world.goods.pk, quantity=5
    )
    # when the warehouse manager reads the window report in Chinese
    client.force_login(world.manager)
    _chinese(client)
    page = client.get(reverse("allocation:window-report", args=[window.pk])).content.decode()
    # then each figure is named in Chinese, not by its stored key
    assert "left_before" not in page and "goods_cap" not in page
    assert "每货品上限 3" in page
