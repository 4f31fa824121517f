"""A store return filed from the phone is filed once, however often the button is tapped: a
second return of the same units would be received into stock that never came back."""

import pytest
from django.urls import reverse

from allocation.models import ReplenishmentOrder, StoreReturn
from allocation.services import close, grabs, orders

pytestmark = pytest.mark.django_db


def test_a_double_tap_on_file_return_files_one_return(client, world):
    # given a received order of store A and its page on the manager's phone
    window = world.open_window()
    grabs.grab_request_submit(
        user=world.alice, store=world.store_a, window=window, goods_id=world.goods.pk, quantity=10
    )
    close.window_close(window_id=window.pk)
    order = ReplenishmentOrder.objects.get()
    orders.order_ship(order_id=order.pk, user=world.manager)
    orders.order_receive(order_id=order.pk, user=world.alice, received={})
    line = order.lines.get()
    client.force_login(world.alice)
    page = client.get(reverse("allocation:order-detail", args=[order.pk]))
    form = page.context["return_form"]
    data = {
        f"return_{line.pk}": "3",
        "reason": "damaged",
        "note": "crushed",
        **{f.html_name: f.value() for f in form.hidden_fields()},
    }
    # when the button is tapped twice (the same form sent twice)
    first = client.post(reverse("allocation:return-file", args=[order.pk]), data)
    second = client.post(reverse("allocation:return-file", args=[order.pk]), data)
    # then one return of 3 units
    assert first.status_code == second.status_code == 302
    store_return = StoreReturn.objects.get()
    assert list(store_return.lines.values_list("quantity", flat=True)) == [3]
    assert order.events.filter(kind="return_filed").count() == 1
    # and a new return from a fresh page is still a new return
    page = client.get(reverse("allocation:order-detail", args=[order.pk]))
    again = {
        **data,
        **{f.html_name: f.value() for f in page.context["return_form"].hidden_fields()},
    }
    client.post(reverse("allocation:return-file", args=[order.pk]), again)
    assert StoreReturn.objects.count() == 2


def test_a_tampered_return_token_is_no_500(client, world):
    window = world.open_window()
    grabs.grab_request_submit(
        user=world.alice, store=world.store_a, window=window, goods_id=world.goods.pk, quantity=10
    )
    close.window_close(window_id=window.pk)
    order = ReplenishmentOrder.objects.get()
    orders.order_ship(order_id=order.pk, user=world.manager)
    orders.order_receive(order_id=order.pk, user=world.alice, received={})
    line = order.lines.get()
    client.force_login(world.alice)
    response = client.post(
        reverse("allocation:return-file", args=[order.pk]),
        {f"return_{line.pk}": "1", "reason": "surplus", "client_key": "k" * 500},
    )
    assert response.status_code == 302
    assert StoreReturn.objects.get().client_key == "k" * 64
