import pytest
from django.urls import reverse

from warehouses import hooks
from warehouses.models import Bin, Warehouse
from warehouses.tests.factories import BinFactory, WarehouseFactory, ZoneFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client, make_user):
    client.force_login(make_user("admin"))
    return client


def test_the_admin_pages_of_the_three_models_render(admin_client_):
    # given
    bin_ = BinFactory()

    # then
    for model, pk in [("warehouse", bin_.warehouse_id), ("zone", bin_.zone_id), ("bin", bin_.pk)]:
        for url in [
            reverse(f"admin:warehouses_{model}_changelist"),
            reverse(f"admin:warehouses_{model}_add"),
            reverse(f"admin:warehouses_{model}_change", args=[pk]),
            reverse(f"admin:warehouses_{model}_import"),
            reverse(f"admin:warehouses_{model}_export"),
        ]:
            assert admin_client_.get(url).status_code == 200, url


def test_adding_a_warehouse_in_the_admin_goes_through_the_service_rules(admin_client_):
    # given
    WarehouseFactory(code="SYD-01")
    url = reverse("admin:warehouses_warehouse_add")
    form = {"code": "syd-01", "name": "Dup", "priority": "1", "address": "", "email": ""}

    # when
    duplicate = admin_client_.post(url, form)
    created = admin_client_.post(url, form | {"code": "SHA-01", "name": "Shanghai"})

    # then
    assert duplicate.status_code == 200
    assert "already exists" in duplicate.content.decode()
    assert created.status_code == 302
    assert Warehouse.objects.filter(code="SHA-01", is_active=True).exists()


def test_adding_a_bin_in_a_zone_of_another_warehouse_is_refused_in_the_admin(admin_client_):
    # given
    warehouse = WarehouseFactory()
    foreign_zone = ZoneFactory()

    # when
    response = admin_client_.post(
        reverse("admin:warehouses_bin_add"),
        {"warehouse": warehouse.pk, "zone": foreign_zone.pk, "code": "A-01"},
    )

    # then
    assert response.status_code == 200
    assert "This zone belongs to another warehouse." in response.content.decode()
    assert not Bin.objects.exists()


def test_the_admin_deactivate_action_respects_the_guards_for_all_selected_bins(admin_client_):
    # given
    empty = BinFactory(code="EMPTY-1")
    full = BinFactory(code="FULL-1", zone=empty.zone)

    def holds_stock(bins):
        return {
            b.pk: f"bin {b.code} still holds 5 units" for b in bins if b.code.startswith("FULL")
        }

    hooks.register_bin_deactivation_guard(holds_stock)
    try:
        # when
        response = admin_client_.post(
            reverse("admin:warehouses_bin_changelist"),
            {"action": "deactivate", "_selected_action": [empty.pk, full.pk]},
            follow=True,
        )
    finally:
        hooks.unregister_bin_deactivation_guard(holds_stock)

    # then
    assert "bin FULL-1 still holds 5 units" in response.content.decode()
    assert Bin.objects.filter(is_active=True).count() == 2

    # when: without the guard
    admin_client_.post(
        reverse("admin:warehouses_bin_changelist"),
        {"action": "deactivate", "_selected_action": [empty.pk, full.pk]},
    )

    # then
    assert Bin.objects.filter(is_active=True).count() == 0


def test_nothing_can_be_deleted_in_the_admin(admin_client_):
    bin_ = BinFactory()

    response = admin_client_.get(reverse("admin:warehouses_bin_delete", args=[bin_.pk]))

    assert response.status_code == 403


def test_admin_export_escapes_formulas_and_keeps_numbers_native(admin_client_):
    # given: a name a spreadsheet would run as a formula
    import io
    import re

    from openpyxl import load_workbook

    WarehouseFactory(code="EVIL-1", name='=HYPERLINK("http://x","click")', priority=7)
    url = reverse("admin:warehouses_warehouse_export")
    fields = set(
        re.findall(r'name="(warehouseresource_\w+)"', admin_client_.get(url).content.decode())
    )

    # when
    response = admin_client_.post(
        url, {"resource": "0", "format": "0", **dict.fromkeys(fields, "on")}
    )

    # then
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    evil = next(row for row in rows if "EVIL-1" in row)
    assert '\'=HYPERLINK("http://x","click")' in evil
    assert 7 in evil
