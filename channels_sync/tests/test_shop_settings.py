"""Shop settings screen: settings that change the pushed quantity queue a push of every goods
of the shop, only a user who may confirm binding changes switches two-person review, shop edits
and binding changes take the shop row FOR UPDATE before writing (the push holds it FOR SHARE),
and the form's secrets stay off error pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.views.debug import SafeExceptionReporterFilter

from channels_sync.models import Binding, BindingChange, OutboxItem, Shop
from channels_sync.tests.factories import BindingFactory, ListingFactory, ShopFactory
from channels_sync.views import shop_create_view, shop_edit_view
from inventory.tests.factories import receive_stock
from warehouses.tests.factories import BinFactory
from wms import roles

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _user(django_user_model, name: str, role: str):
    user = django_user_model.objects.create_user(name)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def admin(django_user_model):
    return _user(django_user_model, "shop-admin", roles.ADMINISTRATOR)


def _form_data(shop: Shop, **changes) -> dict:
    """The shop form as the browser posts it (checkboxes: present when ticked)."""
    data = {
        "platform": shop.platform,
        "name": shop.name,
        "domain": shop.domain,
        "api_base_url": shop.api_base_url,
        "location_ref": shop.location_ref,
        "share_percent": shop.share_percent,
        "safety_stock": shop.safety_stock,
        "is_stock_push_enabled": shop.is_stock_push_enabled,
        "is_order_pull_enabled": shop.is_order_pull_enabled,
        "requires_review": shop.requires_review,
        "is_active": shop.is_active,
    }
    data.update(changes)
    return {k: ("on" if v is True else v) for k, v in data.items() if v is not False}


@pytest.fixture
def selling_shop():
    """A pushing shop with one matched listing whose goods has stock; no outbox rows left."""
    shop = ShopFactory(share_percent=100, safety_stock=0, location_ref="")
    bin_a = BinFactory()
    BindingFactory(shop=shop, warehouse=bin_a.warehouse)
    listing = ListingFactory(shop=shop)
    receive_stock(listing.goods, bin_a, 10)
    OutboxItem.objects.all().delete()
    return shop, listing


# -- 1. settings that change the pushed quantity queue a push ------------------------------------
@pytest.mark.parametrize(
    ("start", "change"),
    [
        ({}, {"share_percent": 50}),
        ({}, {"safety_stock": 5}),
        ({}, {"location_ref": "gid://shopify/Location/2"}),
        ({"is_stock_push_enabled": False}, {"is_stock_push_enabled": True}),
        ({"is_active": False}, {"is_active": True}),
    ],
    ids=["share", "safety-stock", "location", "push-switched-on", "reactivated"],
)
def test_a_setting_change_queues_every_goods_of_the_shop(
    client, operator, selling_shop, start, change
):
    # given: the shop as it was (stock moved while push was off leaves no outbox row)
    shop, listing = selling_shop
    Shop.objects.filter(pk=shop.pk).update(**start)
    shop.refresh_from_db()
    other = ListingFactory(shop=ShopFactory())
    client.force_login(operator)

    # when
    response = client.post(
        reverse("channels_sync:shop-edit", args=[shop.pk]), _form_data(shop, **change)
    )

    # then
    assert response.status_code == 302
    pending = OutboxItem.objects.filter(status=OutboxItem.Status.PENDING)
    assert list(pending.values_list("shop_id", "goods_id")) == [(shop.pk, listing.goods_id)]
    assert not pending.filter(goods=other.goods).exists()


def test_an_unchanged_save_queues_nothing(client, operator, selling_shop):
    shop, _listing = selling_shop
    client.force_login(operator)

    response = client.post(
        reverse("channels_sync:shop-edit", args=[shop.pk]), _form_data(shop, name="Renamed")
    )

    assert response.status_code == 302
    assert Shop.objects.get(pk=shop.pk).name == "Renamed"
    assert not OutboxItem.objects.exists()


def test_switching_push_off_queues_nothing(client, operator, selling_shop):
    shop, _listing = selling_shop
    client.force_login(operator)

    client.post(
        reverse("channels_sync:shop-edit", args=[shop.pk]),
        _form_data(shop, is_stock_push_enabled=False, share_percent=20),
    )

    assert not OutboxItem.objects.exists()


def test_the_edit_locks_the_shop_row_before_it_writes(client, operator, selling_shop):
    # given
    shop, _listing = selling_shop
    client.force_login(operator)

    # when
    with CaptureQueriesContext(connection) as queries:
        client.post(
            reverse("channels_sync:shop-edit", args=[shop.pk]), _form_data(shop, safety_stock=2)
        )

    # then: FOR UPDATE of the shop row, then the settings, then the outbox
    sql = [q["sql"] for q in queries.captured_queries]
    lock = next(
        i for i, s in enumerate(sql) if 'FROM "channels_sync_shop"' in s and "FOR UPDATE" in s
    )
    update = next(i for i, s in enumerate(sql) if s.startswith('UPDATE "channels_sync_shop"'))
    outbox = next(i for i, s in enumerate(sql) if "INSERT INTO channels_sync_outboxitem" in s)
    assert lock < update < outbox


def test_the_edit_keeps_the_stored_secret_and_a_field_it_does_not_show(
    client, operator, selling_shop
):
    shop, _listing = selling_shop
    client.force_login(operator)

    client.post(reverse("channels_sync:shop-edit", args=[shop.pk]), _form_data(shop))

    shop.refresh_from_db()
    assert shop.credentials == {"access_token": "shpat_test"}


# -- 2. only a supervisor switches two-person review off ---------------------------------------------
def test_an_operator_cannot_switch_review_off_to_unbind_alone(client, operator):
    # given: a reviewed shop fed by two warehouses
    shop = ShopFactory(requires_review=True)
    bin_a, bin_b = BinFactory(), BinFactory()
    BindingFactory(shop=shop, warehouse=bin_a.warehouse, priority=1)
    BindingFactory(shop=shop, warehouse=bin_b.warehouse, priority=2)
    assert not operator.has_perm("channels_sync.confirm_binding")
    client.force_login(operator)

    # when: the operator saves the form without the review box, then unbinds
    client.post(
        reverse("channels_sync:shop-edit", args=[shop.pk]),
        _form_data(shop, requires_review=False),
    )
    client.post(
        reverse("channels_sync:binding-propose", args=[shop.pk]),
        {"op": "unbind", "warehouse": bin_a.warehouse_id, "confirm": "1"},
    )

    # then: review is still on, the unbinding waits for a supervisor
    shop.refresh_from_db()
    assert shop.requires_review
    assert Binding.objects.filter(shop=shop, warehouse=bin_a.warehouse).exists()
    assert BindingChange.objects.get(shop=shop).status == BindingChange.Status.PENDING


def test_an_operator_posting_review_off_is_refused_with_a_message(client, operator):
    shop = ShopFactory(requires_review=True)
    client.force_login(operator)

    data = _form_data(shop, safety_stock=3)
    data["requires_review"] = "false"  # a crafted "off" (the browser sends nothing)
    response = client.post(reverse("channels_sync:shop-edit", args=[shop.pk]), data)

    assert response.status_code == 422
    assert "Only a supervisor" in response.content.decode()
    shop.refresh_from_db()
    assert (shop.requires_review, shop.safety_stock) == (True, 0)


def test_an_operator_may_switch_review_on(client, operator):
    shop = ShopFactory(requires_review=False)
    client.force_login(operator)

    form = client.get(reverse("channels_sync:shop-edit", args=[shop.pk])).context["form"]
    assert not form.fields["requires_review"].disabled
    response = client.post(
        reverse("channels_sync:shop-edit", args=[shop.pk]),
        _form_data(shop, requires_review=True),
    )

    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.requires_review


def test_the_review_box_is_disabled_for_an_operator_once_review_is_on(client, operator):
    shop = ShopFactory(requires_review=True)
    client.force_login(operator)

    form = client.get(reverse("channels_sync:shop-edit", args=[shop.pk])).context["form"]

    assert form.fields["requires_review"].disabled


def test_a_user_who_may_confirm_switches_review(client, admin):
    shop = ShopFactory(requires_review=True)
    client.force_login(admin)

    response = client.post(
        reverse("channels_sync:shop-edit", args=[shop.pk]),
        _form_data(shop, requires_review=False),
    )

    assert response.status_code == 302
    shop.refresh_from_db()
    assert not shop.requires_review


# -- 3. binding writes lock the shop row first ---------------------------------------------------
def _posted_sql(client, user, url: str, data: dict) -> list[str]:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        client.post(url, data)
    return [q["sql"] for q in queries.captured_queries]


def _locks_before_writes(sql: list[str]) -> bool:
    lock = next(
        i for i, s in enumerate(sql) if 'FROM "channels_sync_shop"' in s and "FOR UPDATE" in s
    )
    writes = [
        i
        for i, s in enumerate(sql)
        if s.startswith(
            (
                'INSERT INTO "channels_sync_binding',
                'DELETE FROM "channels_sync_binding',
                'UPDATE "channels_sync_binding',
                "INSERT INTO channels_sync_outboxitem",
            )
        )
    ]
    return bool(writes) and lock < min(writes)


def test_binding_apply_confirm_and_rollback_lock_the_shop_before_writing(
    client, operator, supervisor, selling_shop
):
    # given: a reviewed shop and a second warehouse
    shop, _listing = selling_shop
    Shop.objects.filter(pk=shop.pk).update(requires_review=True)
    other = BinFactory().warehouse
    propose = reverse("channels_sync:binding-propose", args=[shop.pk])

    # when: a bind is requested and confirmed, then rolled back and confirmed
    requested = _posted_sql(
        client, operator, propose, {"op": "bind", "warehouse": other.pk, "confirm": "1"}
    )
    change = BindingChange.objects.get()
    decide = reverse("channels_sync:binding-decide", args=[shop.pk, change.pk])
    confirmed = _posted_sql(client, supervisor, decide, {"decision": "confirm"})
    rollback_url = reverse("channels_sync:binding-rollback", args=[shop.pk, change.pk])
    rolled = _posted_sql(client, operator, rollback_url, {})
    rollback = BindingChange.objects.get(action=BindingChange.Action.ROLLBACK)
    decide = reverse("channels_sync:binding-decide", args=[shop.pk, rollback.pk])
    rollback_confirmed = _posted_sql(client, supervisor, decide, {"decision": "confirm"})

    # then: every step took the shop row FOR UPDATE before writing
    assert _locks_before_writes(requested) and _locks_before_writes(rolled)
    assert _locks_before_writes(confirmed) and _locks_before_writes(rollback_confirmed)
    assert not Binding.objects.filter(shop=shop, warehouse=other).exists()


# -- 7. secrets stay off error pages -------------------------------------------------------------
@pytest.mark.parametrize("view", [shop_create_view, shop_edit_view])
def test_the_shop_form_hides_its_secrets_from_error_reports(rf: RequestFactory, admin, view):
    shop = ShopFactory()
    request = rf.post("/", {"name": "x", "secret_1": "shpat_leak", "secret_2": "kogan_leak"})
    request.user = admin
    request.htmx = False

    response = view(request, pk=shop.pk) if view is shop_edit_view else view(request)

    cleansed = SafeExceptionReporterFilter().get_post_parameters(request)
    assert cleansed["secret_1"] != "shpat_leak"
    assert cleansed["secret_2"] != "kogan_leak"
    assert cleansed["name"] == "x"
    assert response.status_code == 422
