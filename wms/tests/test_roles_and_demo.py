from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from wms import roles
from wms.demo import DEMO_PASSWORD, DEMO_USERS

pytestmark = pytest.mark.django_db


def test_migrations_create_the_six_roles():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLES)


def test_every_permission_named_by_a_role_exists():
    existing = {
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.values_list(
            "content_type__app_label", "codename"
        )
    }
    for group_name, wanted in roles.ROLES.items():
        if wanted == roles.ALL:
            continue
        missing = sorted(set(wanted) - existing)
        assert not missing, f"{group_name} names permissions that do not exist: {missing}"


def test_roles_hold_exactly_the_listed_permissions():
    for group_name, wanted in roles.ROLES.items():
        group = Group.objects.get(name=group_name)
        held = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        if wanted == roles.ALL:
            assert held and len(held) == Permission.objects.count()
        else:
            assert held == set(wanted), group_name


def _row_counts() -> dict[str, int]:
    from django.apps import apps

    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label
        in {"wms", "warehouses", "inventory", "freezes", "allocation", "channels_sync"}
    }


def test_demo_data_loads_once_and_a_second_run_adds_nothing():
    # given
    call_command("wms_demo", stdout=StringIO())
    first = _row_counts()

    # when
    call_command("wms_demo", stdout=StringIO())

    # then
    assert _row_counts() == first
    user_model = get_user_model()
    for username, group_name, _is_staff, _is_super in DEMO_USERS:
        user = user_model.objects.get(username=username)
        assert user.check_password(DEMO_PASSWORD)
        assert user.groups.filter(name=group_name).exists()


def test_demo_user_roles_give_the_documented_powers():
    call_command("wms_demo", stdout=StringIO())
    user_model = get_user_model()

    assert user_model.objects.get(username="admin").is_superuser
    assert user_model.objects.get(username="staff").has_perm("warehouses.add_bin")
    assert not user_model.objects.get(username="store").has_perm("warehouses.add_bin")
