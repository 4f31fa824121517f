"""The goods screens: list with filters and keyset pages, detail, edit, combo editor, batches."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from inventory.models import Batch, ComboComponent, Goods
from inventory.tests.factories import (
    BatchFactory,
    BrandFactory,
    CategoryFactory,
    ComboComponentFactory,
    GoodsFactory,
)

pytestmark = pytest.mark.django_db

LIST = reverse("inventory:goods-list")


@pytest.fixture
def manager_client(client, make_user):
    client.force_login(make_user("manager"))
    return client


def _skus(response) -> list[str]:
    return [goods.sku for goods in response.context["goods_list"]]


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_user_without_the_view_permission_gets_403(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))
    assert client.get(LIST).status_code == 403


def test_list_filters_by_category_with_its_sub_categories(manager_client):
    # given
    drinks = CategoryFactory(name="Drinks", parent=None)
    beer = CategoryFactory(name="Beer", parent=drinks)
    lager = CategoryFactory(name="Lager", parent=beer)
    food = CategoryFactory(name="Food", parent=None)
    GoodsFactory(sku="D-1", category=drinks)
    GoodsFactory(sku="B-1", category=beer)
    GoodsFactory(sku="L-1", category=lager)
    GoodsFactory(sku="F-1", category=food)
    # when
    response = manager_client.get(LIST, {"category": beer.pk})
    # then
    assert _skus(response) == ["B-1", "L-1"]
    assert _skus(manager_client.get(LIST, {"category": drinks.pk})) == ["B-1", "D-1", "L-1"]


def test_list_filters_by_brand_active_and_barcode(manager_client):
    acme = BrandFactory(name="Acme")
    GoodsFactory(sku="A-1", brand=acme, barcode="111")
    GoodsFactory(sku="A-2", brand=acme, barcode="", is_active=False)
    GoodsFactory(sku="O-1", barcode="222")
    assert _skus(manager_client.get(LIST, {"brand": acme.pk})) == ["A-1", "A-2"]
    assert _skus(manager_client.get(LIST, {"active": "no"})) == ["A-2"]
    assert _skus(manager_client.get(LIST, {"has_barcode": "yes"})) == ["A-1", "O-1"]
    assert _skus(manager_client.get(LIST, {"has_barcode": "no", "active": "yes"})) == []


def test_list_searches_sku_name_and_exact_barcode(manager_client):
    GoodsFactory(sku="BEER-330", name="Lager can")
    GoodsFactory(sku="COLA-330", name="Cola can", barcode="6901234")
    GoodsFactory(sku="WATER", name="Spring water")
    assert _skus(manager_client.get(LIST, {"q": "beer"})) == ["BEER-330"]
    assert _skus(manager_client.get(LIST, {"q": "CAN"})) == ["BEER-330", "COLA-330"]
    assert _skus(manager_client.get(LIST, {"q": "6901234"})) == ["COLA-330"]
    assert _skus(manager_client.get(LIST, {"q": "690123"})) == []


def test_an_invalid_filter_answers_422(manager_client):
    response = manager_client.get(LIST, {"category": "999999"})
    assert response.status_code == 422
    assert _skus(response) == []


def test_list_pages_by_sku_without_offset(manager_client):
    # given
    for index in range(120):
        GoodsFactory(sku=f"G-{index:03d}")
    # when
    first = manager_client.get(LIST)
    page = first.context["page"]
    second = manager_client.get(LIST, {"cursor": page.next_cursor})
    third = manager_client.get(LIST, {"cursor": second.context["page"].next_cursor})
    back = manager_client.get(LIST, {"cursor": third.context["page"].previous_cursor})
    # then
    assert _skus(first)[0] == "G-000" and len(_skus(first)) == 50
    assert _skus(second)[0] == "G-050"
    assert _skus(third) == [f"G-{index:03d}" for index in range(100, 120)]
    assert third.context["page"].next_cursor is None
    assert _skus(back) == _skus(second)
    assert first.context["page"].previous_cursor is None


def test_pagination_links_keep_the_filters(manager_client):
    acme = BrandFactory(name="Acme")
    for index in range(60):
        GoodsFactory(sku=f"G-{index:03d}", brand=acme)
    response = manager_client.get(LIST, {"brand": acme.pk})
    next_cursor = response.context["page"].next_cursor
    assert f"brand={acme.pk}&amp;cursor={next_cursor}" in response.content.decode()


def test_list_runs_the_same_number_of_queries_for_any_page_size(
    client, make_user, django_assert_num_queries
):
    # given
    user = make_user("manager")
    client.force_login(user)
    drinks = CategoryFactory(name="Drinks", parent=None)
    for index in range(5):
        GoodsFactory(sku=f"S-{index}", category=drinks)
    client.get(LIST)  # warm the session and permission caches of this test client
    # when / then: session, user, permissions, categories, brands, the page
    with django_assert_num_queries(7):
        small = client.get(LIST)
    for index in range(45):
        GoodsFactory(sku=f"T-{index:02d}", category=CategoryFactory(parent=drinks))
    with django_assert_num_queries(7):
        large = client.get(LIST)
    assert len(_skus(small)) == 5 and len(_skus(large)) == 50


def test_htmx_gets_only_the_results_partial(manager_client):
    GoodsFactory(sku="H-1")
    response = manager_client.get(LIST, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="results"' in body and "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_detail_shows_components_combos_and_batches(manager_client):
    case = GoodsFactory(sku="CASE", is_combo=True)
    dozen = GoodsFactory(sku="DOZEN", is_combo=True)
    can = GoodsFactory(sku="CAN")
    ComboComponentFactory(combo=case, component=dozen, quantity=4)
    ComboComponentFactory(combo=dozen, component=can, quantity=12)
    BatchFactory(goods=dozen, batch_no="LOT-7", expiry_date=dt.date(2025, 1, 1))
    response = manager_client.get(reverse("inventory:goods-detail", args=[dozen.pk]))
    assert response.status_code == 200
    assert [line.component.sku for line in response.context["components"]] == ["CAN"]
    assert [line.combo.sku for line in response.context["part_of"]] == ["CASE"]
    assert "LOT-7" in response.content.decode()


def test_detail_hides_batch_numbers_and_expiry_dates_from_roles_without_view_batch(
    client, make_user
):
    # given: a store manager may see goods but not batches (the batch page refuses him)
    goods = GoodsFactory(sku="JAM")
    BatchFactory(goods=goods, batch_no="LOT-SECRET", expiry_date=dt.date(2031, 7, 9))
    client.force_login(make_user("store"))

    # when
    response = client.get(reverse("inventory:goods-detail", args=[goods.pk]))
    batches = client.get(reverse("inventory:goods-batches", args=[goods.pk]))

    # then
    assert response.status_code == 200
    text = response.content.decode()
    assert "JAM" in text
    assert "LOT-SECRET" not in text and "2031-07-09" not in text
    assert "batches" not in response.context
    assert batches.status_code == 403


def test_detail_of_unknown_goods_is_404(manager_client):
    assert manager_client.get(reverse("inventory:goods-detail", args=[424242])).status_code == 404


def test_create_goods_and_refuse_a_duplicate_sku(manager_client):
    brand = BrandFactory(name="Acme")
    data = {"sku": "NEW-1", "name": "New", "unit": "pcs", "brand": brand.pk, "is_active": "on"}
    response = manager_client.post(reverse("inventory:goods-create"), data)
    goods = Goods.objects.get(sku="NEW-1")
    assert response.status_code == 302 and goods.brand == brand and goods.is_active
    again = manager_client.post(reverse("inventory:goods-create"), {**data, "sku": "new-1"})
    assert again.status_code == 422
    assert "already used by goods NEW-1" in again.content.decode()
    assert Goods.objects.count() == 1


def test_qc_inspectors_may_look_but_not_create(client, make_user):
    client.force_login(make_user("qc"))
    assert client.get(LIST).status_code == 200
    assert client.get(reverse("inventory:goods-create")).status_code == 403


def test_edit_and_deactivate(manager_client):
    goods = GoodsFactory(sku="E-1", name="Before")
    response = manager_client.post(
        reverse("inventory:goods-edit", args=[goods.pk]),
        {"sku": "E-1", "name": "After", "unit": "box", "is_active": "on"},
    )
    assert response.status_code == 302
    assert Goods.objects.get(pk=goods.pk).name == "After"
    assert (
        manager_client.get(reverse("inventory:goods-deactivate", args=[goods.pk])).status_code
        == 405
    )
    manager_client.post(reverse("inventory:goods-deactivate", args=[goods.pk]))
    assert not Goods.objects.get(pk=goods.pk).is_active
    manager_client.post(reverse("inventory:goods-activate", args=[goods.pk]))
    assert Goods.objects.get(pk=goods.pk).is_active


def test_combo_editor_adds_changes_and_removes_components(manager_client):
    box, lipstick = GoodsFactory(sku="GIFT-BOX"), GoodsFactory(sku="LIPSTICK")
    url = reverse("inventory:goods-combo", args=[box.pk])
    response = manager_client.post(url, {"component_sku": "lipstick", "quantity": 1})
    assert response.status_code == 200
    assert ComboComponent.objects.get(combo=box).component == lipstick
    manager_client.post(url, {"component_sku": "LIPSTICK", "quantity": 2})
    assert ComboComponent.objects.get(combo=box).quantity == 2
    manager_client.post(url, {"action": "remove", "component": lipstick.pk})
    assert not ComboComponent.objects.exists()
    assert not Goods.objects.get(pk=box.pk).is_combo


def test_combo_editor_refuses_a_loop_with_a_clear_message(manager_client):
    case, dozen = GoodsFactory(sku="CASE"), GoodsFactory(sku="DOZEN")
    ComboComponentFactory(combo=case, component=dozen, quantity=4)
    response = manager_client.post(
        reverse("inventory:goods-combo", args=[dozen.pk]),
        {"component_sku": "CASE", "quantity": 1},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "the combo would contain itself" in response.content.decode()
    assert not ComboComponent.objects.filter(combo=dozen).exists()


def test_combo_editor_reports_an_unknown_sku(manager_client):
    box = GoodsFactory(sku="BOX")
    response = manager_client.post(
        reverse("inventory:goods-combo", args=[box.pk]), {"component_sku": "NOPE", "quantity": 1}
    )
    assert response.status_code == 422
    assert "No goods has the SKU NOPE" in response.content.decode()


def test_batches_page_adds_a_batch_with_expiry_from_shelf_life(client, make_user):
    client.force_login(make_user("staff"))
    goods = GoodsFactory(shelf_life_days=7)
    url = reverse("inventory:goods-batches", args=[goods.pk])
    response = client.post(url, {"batch_no": "L-1", "production_date": "2024-02-01"})
    assert response.status_code == 302
    assert Batch.objects.get(goods=goods).expiry_date == dt.date(2024, 2, 8)
    again = client.post(url, {"batch_no": "L-1"})
    assert again.status_code == 422


def test_qc_may_see_batches_but_not_add_them(client, make_user):
    client.force_login(make_user("qc"))
    goods = GoodsFactory()
    url = reverse("inventory:goods-batches", args=[goods.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"batch_no": "L-1"}).status_code == 403
    assert not Batch.objects.exists()


def test_batch_edit(client, make_user):
    client.force_login(make_user("staff"))
    batch = BatchFactory(batch_no="L-1")
    url = reverse("inventory:batch-edit", args=[batch.goods_id, batch.pk])
    response = client.post(url, {"batch_no": "L-2", "expiry_date": "2026-01-01"})
    assert response.status_code == 302
    batch.refresh_from_db()
    assert (batch.batch_no, batch.expiry_date) == ("L-2", dt.date(2026, 1, 1))
    other = GoodsFactory()
    assert client.get(reverse("inventory:batch-edit", args=[other.pk, batch.pk])).status_code == 404
