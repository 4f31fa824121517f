"""The store picker: the pickers' endpoint offers stores by code or name prefix, scoped to the
stores the user may see, with keyset pages; the forms that take goods, batches and bins as
typed codes search as you type too."""

import pytest
from django.urls import reverse

from allocation.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def _codes(client, **params):
    response = client.get(reverse("inventory:lookup", args=["store"]), params)
    assert response.status_code == 200
    return [option["value"] for option in response.json()["results"]], response.json()["after"]


def test_a_store_manager_is_offered_only_his_stores(client, world):
    client.force_login(world.alice)
    assert _codes(client)[0] == ["A01"]
    assert _codes(client, q="b")[0] == []


def test_a_warehouse_manager_finds_stores_by_code_or_name_in_pages(client, world):
    StoreFactory(code="A02", name="Harbour Street")
    StoreFactory(code="Z99", name="Archway", is_active=False)
    client.force_login(world.manager)
    assert _codes(client, q="a")[0] == ["A01", "A02"]
    assert _codes(client, q="harb")[0] == ["A02"]
    first, after = _codes(client, limit=2)
    rest, end = _codes(client, limit=2, after=after)
    assert first == ["A01", "A02"] and rest == ["B01", "C01"] and end is None


def test_garbage_typed_into_the_store_picker_finds_nothing_and_never_fails(client, world):
    client.force_login(world.manager)
    for params in ({"q": "A\x00"}, {"after": "\x00"}, {"q": "x" * 500}, {"limit": "-3"}):
        response = client.get(reverse("inventory:lookup", args=["store"]), params)
        assert response.status_code == 200


def test_the_store_picker_needs_the_permission(client, make_user):
    client.force_login(make_user("qc"))
    assert client.get(reverse("inventory:lookup", args=["store"])).status_code == 403


def test_freeze_and_link_forms_search_as_you_type():
    from channels_sync.forms import ExceptionForm, LinkForm
    from freezes.forms import FreezeForm, InspectionForm

    freeze = FreezeForm()
    assert freeze["goods"].field.widget.kind == "goods"
    assert freeze["batch"].field.widget.params == {"sku": freeze["goods"].auto_id}
    assert freeze["bin"].field.widget.params == {"warehouse": freeze["warehouse"].auto_id}
    assert 'data-picker="/inventory/lookup/bin/"' in str(freeze["bin"])
    assert InspectionForm(for_batch=True)["batch"].field.widget.kind == "batch"
    assert LinkForm()["goods"].field.widget.kind == "goods"
    assert ExceptionForm()["goods"].field.widget.kind == "goods"
    from inventory.forms_goods import ComboComponentForm

    assert ComboComponentForm()["component_sku"].field.widget.kind == "goods"


def test_goods_and_bins_in_allocation_forms_are_typed_codes_not_catalogue_dropdowns(world):
    from allocation.forms import RankingForm, ReceiveReturnForm, WindowForm
    from inventory.tests.factories import GoodsFactory

    form = WindowForm()
    assert form["goods_0"].field.widget.kind == "goods"
    assert "<option" not in str(form["goods_0"])  # no drop-down of every goods
    combo = GoodsFactory(sku="TEA-SET", is_combo=True)
    data = {"goods_0": "tea", "quantity_0": "5", "goods_1": combo.sku, "quantity_1": "1"}
    form = WindowForm(data)
    form.is_valid()
    assert form.cleaned_data["goods_0"] == world.goods  # SKU in any case
    assert "No goods TEA-SET that can be chosen here." in form.errors["goods_1"]
    ranking = RankingForm({"goods": "NOPE"})
    assert not ranking.is_valid() and "No goods NOPE" in ranking.errors["goods"][0]
    receive = ReceiveReturnForm({"bin": world.bin.code}, warehouse_id=world.warehouse.pk)
    assert receive.is_valid() and receive.cleaned_data["bin"] == world.bin
    assert receive["bin"].field.widget.params == {"warehouse": world.warehouse.pk}
    elsewhere = ReceiveReturnForm({"bin": world.bin.code}, warehouse_id=world.warehouse.pk + 999)
    assert not elsewhere.is_valid()


def test_the_sales_form_searches_stores_when_there_are_many(world):
    from allocation.forms import SHORT_LIST, SalesEntryForm
    from allocation.models import Store

    few = SalesEntryForm(stores=Store.objects.filter(pk=world.store_a.pk))
    assert "<option" in str(few["store"])  # a manager's own few stores: a drop-down
    for n in range(SHORT_LIST):
        StoreFactory(code=f"M{n:03d}")
    many = SalesEntryForm(
        {"store": "m007", "goods": world.goods.sku, "day": "2026-01-05", "units_sold": 3},
        stores=Store.objects.all(),
    )
    assert many["store"].field.widget.kind == "store"
    assert not many.is_valid()  # codes are exact: M007, not m007
    assert "No store with this code that you run." in many.errors["store"]
    many = SalesEntryForm(
        {"store": "M007", "goods": world.goods.sku, "day": "2026-01-05", "units_sold": 3},
        stores=Store.objects.all(),
    )
    assert many.is_valid(), many.errors
    assert many.cleaned_data["store"].code == "M007"
