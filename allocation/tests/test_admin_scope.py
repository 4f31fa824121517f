"""A store manager let into the admin (is_staff) sees only his own stores' rows there, as on
the screens: the admin's lists and pages are scoped through ``Store.objects.for_user``."""

import datetime

import pytest
from django.urls import reverse

from allocation.models import GrabRequest, ReplenishmentOrder, StoreSales
from allocation.services import close, grabs, orders, returns

pytestmark = pytest.mark.django_db


def test_a_store_manager_in_the_admin_sees_only_his_stores(client, world):
    # given requests, orders, a return and sales of stores A and B
    window = world.open_window()
    for user, store in [(world.alice, world.store_a), (world.bob, world.store_b)]:
        grabs.grab_request_submit(
            user=user, store=store, window=window, goods_id=world.goods.pk, quantity=5
        )
        StoreSales.objects.create(
            store=store, goods=world.goods, day=datetime.date(2024, 5, 1), units_sold=3
        )
    close.window_close(window_id=window.pk)
    theirs = ReplenishmentOrder.objects.get(store=world.store_b)
    orders.order_ship(order_id=theirs.pk, user=world.manager)
    orders.order_receive(order_id=theirs.pk, user=world.bob, received={})
    returns.return_file(
        user=world.bob,
        order_id=theirs.pk,
        lines={theirs.lines.get().pk: 1},
        reason="surplus",
    )
    world.alice.is_staff = True
    world.alice.save(update_fields=["is_staff"])
    client.force_login(world.alice)
    # when he opens each allocation list of the admin
    for model in [
        "store",
        "storesales",
        "grabrequest",
        "replenishmentorder",
        "storereturn",
    ]:
        response = client.get(reverse(f"admin:allocation_{model}_changelist"))
        # then only store A's rows are there
        assert response.status_code == 200, model
        assert response.context["cl"].result_count == (0 if model == "storereturn" else 1), model
    # and store B's rows cannot be opened
    hidden = [
        ("replenishmentorder", theirs.pk),
        ("grabrequest", GrabRequest.objects.get(store=world.store_b).pk),
        ("store", world.store_b.pk),
    ]
    for model, pk in hidden:
        response = client.get(reverse(f"admin:allocation_{model}_change", args=[pk]))
        assert response.status_code != 200, model
    # while the warehouse manager still sees every store
    client.force_login(world.manager)
    response = client.get(reverse("admin:allocation_replenishmentorder_changelist"))
    assert response.context["cl"].result_count == 2
