from decimal import Decimal

import pytest
from django.urls import reverse

from warehouses.models import Bin, Warehouse, Zone
from warehouses.tests.factories import BinFactory, WarehouseFactory, ZoneFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(make_user("staff"))
    return client


@pytest.fixture
def bin_():
    return BinFactory(code="A-01", zone__code="PICK", zone__type=Zone.Type.PICKING)


def _urls(bin_: Bin) -> dict[str, tuple[str, str]]:
    """Every warehouse screen: name -> (method, url)."""
    w, z, b = bin_.warehouse_id, bin_.zone_id, bin_.pk
    return {
        "warehouse-list": ("get", reverse("warehouses:warehouse-list")),
        "warehouse-create": ("get", reverse("warehouses:warehouse-create")),
        "warehouse-detail": ("get", reverse("warehouses:warehouse-detail", args=[w])),
        "warehouse-edit": ("get", reverse("warehouses:warehouse-edit", args=[w])),
        "warehouse-deactivate": ("post", reverse("warehouses:warehouse-deactivate", args=[w])),
        "warehouse-reactivate": ("post", reverse("warehouses:warehouse-reactivate", args=[w])),
        "zone-create": ("post", reverse("warehouses:zone-create", args=[w])),
        "bin-create": ("post", reverse("warehouses:bin-create", args=[w])),
        "zone-edit": ("get", reverse("warehouses:zone-edit", args=[z])),
        "bin-lookup": ("get", reverse("warehouses:bin-lookup")),
        "bin-edit": ("get", reverse("warehouses:bin-edit", args=[b])),
        "bin-deactivate": ("post", reverse("warehouses:bin-deactivate", args=[b])),
        "bin-reactivate": ("post", reverse("warehouses:bin-reactivate", args=[b])),
    }


# --- permissions ----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page_from_every_screen(client, bin_):
    for name, (method, url) in _urls(bin_).items():
        response = getattr(client, method)(url)

        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login")), name
    bin_.refresh_from_db()
    assert bin_.is_active is True


def test_a_store_manager_gets_403_on_every_screen_and_changes_nothing(client, make_user, bin_):
    # given
    client.force_login(make_user("store"))

    for name, (method, url) in _urls(bin_).items():
        # when
        response = getattr(client, method)(url)

        # then
        assert response.status_code == 403, name
    bin_.refresh_from_db()
    bin_.warehouse.refresh_from_db()
    assert bin_.is_active and bin_.warehouse.is_active
    assert Zone.objects.count() == 1


def test_a_qc_inspector_may_look_but_not_change(client, make_user, bin_):
    # given
    client.force_login(make_user("qc"))
    readable = {"warehouse-list", "warehouse-detail", "bin-lookup"}

    for name, (method, url) in _urls(bin_).items():
        # when
        response = getattr(client, method)(url)

        # then
        assert response.status_code == (200 if name in readable else 403), name


def test_a_read_only_user_sees_no_change_buttons(client, make_user, bin_):
    # given
    client.force_login(make_user("qc"))

    # when
    html = client.get(reverse("warehouses:warehouse-detail", args=[bin_.warehouse_id])).content

    # then
    assert b"Add zone" not in html
    assert b"Deactivate" not in html
    assert b"A-01" in html


def test_a_channel_operator_sees_warehouses_but_not_bins(client, make_user, bin_):
    # given
    client.force_login(make_user("channel"))

    # then
    assert client.get(reverse("warehouses:warehouse-list")).status_code == 200
    assert client.get(reverse("warehouses:bin-lookup")).status_code == 403
    detail = client.get(reverse("warehouses:warehouse-detail", args=[bin_.warehouse_id]))
    assert detail.status_code == 200
    assert b"A-01" not in detail.content


def test_unknown_ids_give_404(staff_client):
    missing = 999999
    for url in [
        reverse("warehouses:warehouse-detail", args=[missing]),
        reverse("warehouses:warehouse-edit", args=[missing]),
        reverse("warehouses:warehouse-deactivate", args=[missing]),
        reverse("warehouses:zone-edit", args=[missing]),
        reverse("warehouses:bin-edit", args=[missing]),
        reverse("warehouses:bin-deactivate", args=[missing]),
    ]:
        assert staff_client.get(url).status_code == 404, url
    for url in [
        reverse("warehouses:zone-create", args=[missing]),
        reverse("warehouses:bin-create", args=[missing]),
    ]:
        assert staff_client.post(url).status_code == 404, url


def test_inline_add_urls_refuse_get(staff_client, bin_):
    url = reverse("warehouses:zone-create", args=[bin_.warehouse_id])

    assert staff_client.get(url).status_code == 405


def test_the_navigation_links_to_the_warehouse_screens_for_staff_only(client, make_user):
    # given
    client.force_login(make_user("staff"))

    # when
    html = client.get(reverse("home")).content.decode()

    # then
    assert reverse("warehouses:warehouse-list") in html
    assert reverse("warehouses:bin-lookup") in html

    # when
    client.force_login(make_user("store", username="shop"))
    html = client.get(reverse("home")).content.decode()

    # then
    assert reverse("warehouses:bin-lookup") not in html


# --- warehouses -----------------------------------------------------------------------------


def _warehouse_form(**changes) -> dict:
    return {
        "code": "SYD-01",
        "name": "Sydney West DC",
        "address": "42 Victoria Street, Wetherill Park NSW 2164",
        "email": "syd@example.com",
        "latitude": "-33.8492",
        "longitude": "150.9006",
        "priority": "10",
    } | changes


def test_staff_creates_a_warehouse_and_lands_on_its_page(staff_client):
    # when
    response = staff_client.post(reverse("warehouses:warehouse-create"), _warehouse_form())

    # then
    warehouse = Warehouse.objects.get(code="SYD-01")
    assert response.status_code == 302
    assert response["Location"] == reverse("warehouses:warehouse-detail", args=[warehouse.pk])
    assert warehouse.latitude == Decimal("-33.849200")
    page = staff_client.get(response["Location"]).content.decode()
    assert "Warehouse SYD-01 created." in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"latitude": "north"}, "latitude", "Enter a number."),
        ({"latitude": "95"}, "latitude", "between -90 and 90"),
        ({"longitude": ""}, "longitude", "Give both latitude and longitude, or neither."),
        ({"latitude": ""}, "latitude", "Give both latitude and longitude, or neither."),
        ({"code": "SYD 01"}, "code", "letters, digits"),
        ({"email": "nobody"}, "email", "valid email"),
        ({"name": ""}, "name", "required"),
    ],
)
def test_warehouse_create_refuses_bad_input_with_422_and_saves_nothing(
    staff_client, changes, field, message
):
    # when
    response = staff_client.post(reverse("warehouses:warehouse-create"), _warehouse_form(**changes))

    # then
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert not Warehouse.objects.exists()


def test_warehouse_create_refuses_a_code_taken_in_another_case_on_the_code_field(staff_client):
    # given
    WarehouseFactory(code="SYD-01", name="Sydney West")

    # when
    response = staff_client.post(
        reverse("warehouses:warehouse-create"), _warehouse_form(code="syd-01")
    )

    # then
    assert response.status_code == 422
    assert "already exists" in response.context["form"].errors["code"][0]
    assert Warehouse.objects.count() == 1


def test_staff_edits_a_warehouse(staff_client):
    # given
    warehouse = WarehouseFactory(code="MEL-01")
    url = reverse("warehouses:warehouse-edit", args=[warehouse.pk])
    assert staff_client.get(url).context["form"].initial["code"] == "MEL-01"

    # when
    response = staff_client.post(url, _warehouse_form(code="MEL-02", name="Melbourne"))

    # then
    assert response.status_code == 302
    warehouse.refresh_from_db()
    assert (warehouse.code, warehouse.name) == ("MEL-02", "Melbourne")


def test_deactivating_a_warehouse_asks_first_then_deactivates_on_post(staff_client):
    # given
    warehouse = WarehouseFactory()
    url = reverse("warehouses:warehouse-deactivate", args=[warehouse.pk])

    # when: the link opens a confirmation
    confirm = staff_client.get(url)

    # then
    assert confirm.status_code == 200
    assert b'method="post"' in confirm.content
    warehouse.refresh_from_db()
    assert warehouse.is_active is True

    # when: confirmed
    response = staff_client.post(url)

    # then
    assert response.status_code == 302
    warehouse.refresh_from_db()
    assert warehouse.is_active is False

    # when: reactivated
    staff_client.post(reverse("warehouses:warehouse-reactivate", args=[warehouse.pk]))

    # then
    warehouse.refresh_from_db()
    assert warehouse.is_active is True


def test_the_warehouse_list_filters_by_search_and_status(staff_client):
    # given
    WarehouseFactory(code="SYD-01", name="Sydney")
    WarehouseFactory(code="MEL-01", name="Melbourne", is_active=False)
    url = reverse("warehouses:warehouse-list")

    # when
    by_name = staff_client.get(url, {"q": "melb"})
    active = staff_client.get(url, {"is_active": "true"})
    htmx = staff_client.get(url, {"q": "syd"}, **HTMX)

    # then
    assert [w.code for w in by_name.context["warehouses"]] == ["MEL-01"]
    assert [w.code for w in active.context["warehouses"]] == ["SYD-01"]
    assert htmx.status_code == 200
    assert b"<html" not in htmx.content
    assert b'id="results"' in htmx.content
    assert "HX-Request" in htmx["Vary"]


# --- zones and bins on the warehouse page ---------------------------------------------------


def test_adding_a_zone_with_htmx_returns_the_refreshed_zones_and_bins(staff_client):
    # given
    warehouse = WarehouseFactory()

    # when
    response = staff_client.post(
        reverse("warehouses:zone-create", args=[warehouse.pk]),
        {"zone-code": "PICK", "zone-name": "Pick faces", "zone-type": "picking"},
        **HTMX,
    )

    # then
    assert response.status_code == 200
    assert response["HX-Trigger"] == "warehouse-structure-changed"
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="structure">')
    assert "Zone PICK added." in html
    assert "Add bin" in html  # the bin form appears once a zone exists
    assert Zone.objects.get(warehouse=warehouse).code == "PICK"


def test_adding_a_duplicate_zone_returns_422_with_the_message(staff_client):
    # given
    zone = ZoneFactory(code="PICK")

    # when
    response = staff_client.post(
        reverse("warehouses:zone-create", args=[zone.warehouse_id]),
        {"zone-code": "PICK", "zone-name": "Again", "zone-type": "picking"},
        **HTMX,
    )

    # then
    assert response.status_code == 422
    assert "already has a zone with code PICK" in response.content.decode()
    assert Zone.objects.count() == 1


def test_adding_a_zone_without_htmx_redirects_to_the_warehouse(staff_client):
    warehouse = WarehouseFactory()

    response = staff_client.post(
        reverse("warehouses:zone-create", args=[warehouse.pk]),
        {"zone-code": "BULK", "zone-name": "Bulk", "zone-type": "storage"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("warehouses:warehouse-detail", args=[warehouse.pk])


def test_adding_a_bin_puts_it_in_the_chosen_zone(staff_client):
    # given
    zone = ZoneFactory(code="PICK")

    # when
    response = staff_client.post(
        reverse("warehouses:bin-create", args=[zone.warehouse_id]),
        {"bin-zone": zone.pk, "bin-code": "A-01-01"},
        **HTMX,
    )

    # then
    assert response.status_code == 200
    assert "A-01-01" in response.content.decode()
    assert Bin.objects.get(code="A-01-01").zone == zone


def test_adding_a_bin_in_a_zone_of_another_warehouse_is_refused(staff_client):
    # given
    warehouse = WarehouseFactory()
    ZoneFactory(warehouse=warehouse)
    foreign_zone = ZoneFactory()

    # when
    response = staff_client.post(
        reverse("warehouses:bin-create", args=[warehouse.pk]),
        {"bin-zone": foreign_zone.pk, "bin-code": "A-01"},
        **HTMX,
    )

    # then
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not Bin.objects.exists()


def test_adding_a_duplicate_bin_is_refused_with_the_message(staff_client, bin_):
    response = staff_client.post(
        reverse("warehouses:bin-create", args=[bin_.warehouse_id]),
        {"bin-zone": bin_.zone_id, "bin-code": "A-01"},
    )

    assert response.status_code == 422
    assert "already has a bin with code A-01" in response.content.decode()
    assert Bin.objects.count() == 1


def test_editing_a_zone_and_a_bin(staff_client, bin_):
    # given
    storage = ZoneFactory(warehouse=bin_.warehouse, code="BULK", type=Zone.Type.STORAGE)

    # when
    zone_response = staff_client.post(
        reverse("warehouses:zone-edit", args=[bin_.zone_id]),
        {"code": "PICK2", "name": "Pick", "type": "picking"},
    )
    bin_response = staff_client.post(
        reverse("warehouses:bin-edit", args=[bin_.pk]), {"zone": storage.pk, "code": "R-01"}
    )

    # then
    assert (zone_response.status_code, bin_response.status_code) == (302, 302)
    bin_.refresh_from_db()
    assert (bin_.code, bin_.zone, bin_.zone.warehouse.zones.get(code="PICK2").type) == (
        "R-01",
        storage,
        "picking",
    )


def test_editing_a_bin_with_a_bad_code_returns_422(staff_client, bin_):
    response = staff_client.post(
        reverse("warehouses:bin-edit", args=[bin_.pk]), {"zone": bin_.zone_id, "code": ""}
    )

    assert response.status_code == 422
    bin_.refresh_from_db()
    assert bin_.code == "A-01"


def test_deactivating_a_bin_returns_to_a_local_next_page_only(staff_client, bin_):
    # given
    lookup = reverse("warehouses:bin-lookup") + "?code=A"

    # when
    response = staff_client.post(
        reverse("warehouses:bin-deactivate", args=[bin_.pk]), {"next": lookup}
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == lookup
    bin_.refresh_from_db()
    assert bin_.is_active is False

    # when: a foreign next is ignored
    for foreign in ["https://evil.example/", "//evil.example/", "/\\evil.example/"]:
        response = staff_client.post(
            reverse("warehouses:bin-reactivate", args=[bin_.pk]), {"next": foreign}
        )

        # then
        detail = reverse("warehouses:warehouse-detail", args=[bin_.warehouse_id])
        assert response["Location"] == detail, foreign
    bin_.refresh_from_db()
    assert bin_.is_active is True


# --- bin lookup -----------------------------------------------------------------------------


def test_bin_lookup_filters_by_code_warehouse_zone_type_and_status(staff_client, bin_):
    # given
    BinFactory(code="A-02", zone=bin_.zone, is_active=False)
    BinFactory(code="R-01", zone=ZoneFactory(warehouse=bin_.warehouse, type=Zone.Type.STORAGE))
    BinFactory(code="A-01")  # another warehouse
    url = reverse("warehouses:bin-lookup")

    def codes(**params):
        response = staff_client.get(url, params)
        assert response.status_code == 200
        return [(b.warehouse_id == bin_.warehouse_id, b.code) for b, _ in response.context["rows"]]

    # then
    assert codes(code="a-0", warehouse=bin_.warehouse_id) == [(True, "A-01"), (True, "A-02")]
    assert codes(warehouse=bin_.warehouse_id, zone_type="storage") == [(True, "R-01")]
    assert codes(warehouse=bin_.warehouse_id, is_active="false") == [(True, "A-02")]


def test_bin_lookup_answers_htmx_with_the_results_only(staff_client, bin_):
    # when
    response = staff_client.get(reverse("warehouses:bin-lookup"), {"code": "a-01"}, **HTMX)

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="results"')
    assert "A-01" in html
    assert "HX-Request" in response["Vary"]


def test_bin_lookup_with_an_unknown_warehouse_filter_returns_422_and_no_rows(staff_client, bin_):
    response = staff_client.get(reverse("warehouses:bin-lookup"), {"warehouse": "999999"})

    assert response.status_code == 422
    assert response.context["rows"] == []
    assert "Select a valid choice" in response.content.decode()
