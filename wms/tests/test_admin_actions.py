"""Every admin action of every registered model declares the permission it needs, and a user who
may only look (view permissions, or the QC inspector and channel operator roles) is refused
each of them and changes nothing. The test walks the admin site's registry, so an action added
later is covered without touching this file."""

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import reverse

from inventory.services import stock as stock_services
from inventory.tests.factories import BatchFactory, GoodsFactory
from warehouses.models import Bin, Warehouse
from warehouses.tests.factories import BinFactory

pytestmark = pytest.mark.django_db

#: Permissions that only let a user look; an action needing only these could change nothing.
READ_ONLY_PERMISSIONS = {"view"}


def _registered_actions():
    for model, model_admin in admin.site._registry.items():
        for func, name, _description in model_admin._get_base_actions():
            yield model, model_admin, func, name


def _rows(model) -> list[dict]:
    return list(model._default_manager.order_by("pk").values())


@pytest.fixture
def world(make_user):
    """At least one row of the models whose actions change something."""
    manager = make_user("manager", username="the-manager")
    bin_ = BinFactory()
    goods = GoodsFactory()
    BatchFactory(goods=goods)
    inbound = stock_services.inbound_sheet_create(
        warehouse=bin_.warehouse, type="purchase", user=manager
    )
    stock_services.inbound_line_add(sheet=inbound, goods=goods, bin=bin_, quantity=5)
    stock_services.outbound_sheet_create(
        warehouse=bin_.warehouse, type="order_shipment", user=manager
    )
    return bin_


@pytest.fixture
def viewer(django_user_model):
    """A staff user holding every view permission of every registered model, and nothing else."""
    user = django_user_model.objects.create_user(username="viewer", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return django_user_model.objects.get(pk=user.pk)


def test_every_registered_admin_action_declares_a_permission_that_changes_something():
    # given / when
    undeclared = [
        f"{model._meta.label}.{name}"
        for model, _model_admin, func, name in _registered_actions()
        if not set(getattr(func, "allowed_permissions", ()) or ()) - READ_ONLY_PERMISSIONS
    ]

    # then
    assert undeclared == []


def test_a_view_only_user_is_offered_no_admin_action(viewer):
    # given
    request = RequestFactory().get("/admin/")
    request.user = viewer

    # when
    offered = [
        f"{model._meta.label}.{name}"
        for model, model_admin, _func, name in _registered_actions()
        if name in (model_admin.get_actions(request) or {})
    ]

    # then
    assert offered == []


@pytest.mark.parametrize("role", ["viewer", "qc", "channel"])
def test_every_admin_action_posted_by_a_view_only_user_is_refused_and_changes_nothing(
    client, world, viewer, make_user, role
):
    # given
    user = viewer if role == "viewer" else make_user(role)
    client.force_login(user)
    actions = list(_registered_actions())
    assert {"warehouses.Warehouse.deactivate", "warehouses.Bin.deactivate"} <= {
        f"{model._meta.label}.{name}" for model, _a, _f, name in actions
    }

    for model, _model_admin, _func, name in actions:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        before = _rows(model)
        selected = [row["pk"] if "pk" in row else row["id"] for row in before] or ["1"]

        # when
        response = client.post(
            url,
            {"action": name, "index": "0", helpers.ACTION_CHECKBOX_NAME: selected},
            follow=True,
        )

        # then: refused (403 without view access; "No action selected", or no action at all
        # on a list that offers none), and nothing changed
        label = f"{model._meta.label}.{name} as {role}"
        assert response.status_code in (200, 403), label
        if response.status_code == 200:
            text = response.content.decode()
            assert "No action selected." in text or 'name="action"' not in text, label
        assert _rows(model) == before, label

    assert Warehouse.objects.get(pk=world.warehouse_id).is_active
    assert Bin.objects.get(pk=world.pk).is_active
