"""Bulk binding/unbinding from the Excel template through the import engine, and the binding
exceptions screen (per goods and per listing, add and remove, audited)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from channels_sync.models import BindingChange
from channels_sync.selectors import binding_state, listing_sellable
from channels_sync.services.bindings import binding_change_confirm
from channels_sync.tests.factories import BindingFactory, ListingFactory, ShopFactory
from inventory.ledger import MAX_QUANTITY
from inventory.models import ImportJob
from inventory.tests.factories import receive_stock
from inventory.tests.test_import_support import xlsx_bytes
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

HEADER = ["shop", "warehouse", "sku", "action", "allotment", "priority"]


@pytest.fixture
def world():
    shop = ShopFactory(name="Bulk shop", requires_review=True)
    bin_a, bin_b, bin_c = BinFactory(), BinFactory(), BinFactory()
    BindingFactory(shop=shop, warehouse=bin_a.warehouse, priority=1)
    BindingFactory(shop=shop, warehouse=bin_b.warehouse, priority=2)
    listing = ListingFactory(shop=shop)
    other = ListingFactory(shop=shop)
    for bin_, qty in ((bin_a, 10), (bin_b, 4), (bin_c, 7)):
        receive_stock(listing.goods, bin_, qty)
        receive_stock(other.goods, bin_, qty)
    return shop, bin_a.warehouse, bin_b.warehouse, bin_c.warehouse, listing, other


def _upload(client, rows):
    content = xlsx_bytes([HEADER, *rows])
    response = client.post(
        reverse("inventory:import-start"),
        {"resource": "channel_bindings", "file": SimpleUploadedFile("bindings.xlsx", content)},
        follow=True,
    )
    return response, ImportJob.objects.order_by("-pk").first()


def test_the_template_downloads_for_an_operator(client, people):
    client.force_login(people[0])
    response = client.get(reverse("inventory:import-template", args=["channel_bindings"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_a_sheet_makes_one_reviewed_change_confirmed_by_another_user(client, people, world):
    operator, supervisor = people
    shop, wh_a, wh_b, wh_c, listing, other = world
    client.force_login(operator)
    rows = [
        ["Bulk shop", wh_a.code, "", "unbind", "", ""],
        ["bulk shop", wh_c.code, "", "bind", "", 1],
        ["Bulk shop", wh_b.code, other.goods.sku, "exception", 3, ""],
        ["Bulk shop", wh_c.code, other.goods.sku.lower(), "unbind", "", ""],
    ]

    # when: upload (the dry run) then commit
    response, job = _upload(client, rows)
    assert job.status == ImportJob.Status.READY, response.content.decode()[-2000:]
    assert not BindingChange.objects.exists()  # the check wrote nothing
    client.post(reverse("inventory:import-job-commit", args=[job.pk]), follow=True)

    # then: one pending change, requested by the importer; nothing applied yet
    change = BindingChange.objects.get()
    assert (change.action, change.status, change.requested_by) == ("bulk", "pending", operator)
    assert sorted(w for w, _p in binding_state(shop).warehouses) == sorted([wh_a.pk, wh_b.pk])
    binding_change_confirm(change=change, user=supervisor)
    sellable = listing_sellable(shop, [listing, other])
    assert sellable[listing.pk].quantity == 4 + 7  # B and C
    assert sellable[other.pk].quantity == 3  # B capped at 3, unbound at C
    assert dict(binding_state(shop).warehouses) == {wh_b.pk: 2, wh_c.pk: 1}


def test_row_errors_refuse_the_whole_sheet(client, people, world):
    operator, _supervisor = people
    shop, wh_a, _wh_b, _wh_c, listing, _other = world
    client.force_login(operator)
    rows = [
        ["Bulk shop", wh_a.code, "", "unbind", "", ""],
        ["No such shop", wh_a.code, "", "bind", "", ""],
        ["Bulk shop", "NOWH", "", "bind", "", ""],
        ["Bulk shop", wh_a.code, listing.goods.sku, "exception", "", ""],
        ["Bulk shop", wh_a.code, "", "move", "", ""],
    ]
    response, job = _upload(client, rows)
    text = response.content.decode()
    assert job.status == ImportJob.Status.INVALID
    assert "No such shop" in text and "NOWH" in text
    assert "give the allotment" in text and "must be bind, unbind or exception" in text
    assert not BindingChange.objects.exists()


def test_an_allotment_beyond_the_ledger_maximum_is_refused_on_its_own_row(client, people, world):
    # given: a valid first row for the shop, then an allotment no balance could ever hold
    operator, _supervisor = people
    shop, wh_a, wh_b, _wh_c, listing, _other = world
    client.force_login(operator)
    rows = [
        ["Bulk shop", wh_a.code, "", "unbind", "", ""],
        ["Bulk shop", wh_b.code, listing.goods.sku, "exception", MAX_QUANTITY + 1, ""],
    ]

    # when
    response, job = _upload(client, rows)

    # then: the error names the allotment of row 3 (the header is row 1), and nothing is written
    assert job.status == ImportJob.Status.INVALID
    errors = [(e["row"], e["column"]) for e in job.preview["errors"]]
    assert errors == [(3, "allotment")], job.preview["errors"]
    assert f"{MAX_QUANTITY:,}" in response.content.decode()
    assert not BindingChange.objects.exists()


def test_the_service_refusal_shows_in_the_check(client, people, world):
    # an exception on a warehouse the shop does not use
    operator, _supervisor = people
    shop, _wh_a, _wh_b, wh_c, listing, _other = world
    client.force_login(operator)
    response, job = _upload(client, [["Bulk shop", wh_c.code, listing.goods.sku, "unbind", "", ""]])
    assert job.status == ImportJob.Status.INVALID
    assert "not bound" in response.content.decode()
    assert not BindingChange.objects.exists()


def test_a_user_without_the_binding_permission_cannot_import(client, django_user_model, world):
    user = django_user_model.objects.create_user("nobody")
    client.force_login(user)
    response = client.get(reverse("inventory:import-template", args=["channel_bindings"]))
    assert response.status_code in (403, 404)


# -- the exceptions screen ---------------------------------------------------------------------


def test_exceptions_screen_adds_a_listing_exception_and_removes_it_through_review(
    client, people, world
):
    operator, supervisor = people
    shop, wh_a, _wh_b, _wh_c, listing, other = world
    url = reverse("channels_sync:binding-exceptions", args=[shop.pk])
    propose = reverse("channels_sync:binding-propose", args=[shop.pk])
    client.force_login(operator)
    assert client.get(url).status_code == 200

    # add: preview, then request (the shop requires review)
    form = {"op": "exception", "warehouse": wh_a.pk, "listing": listing.variant_ref}
    form |= {"mode": "unbound"}
    preview = client.post(propose, form)
    assert preview.status_code == 200 and "Preview of the change" in preview.content.decode()
    client.post(propose, {**form, "confirm": "1"})
    change = BindingChange.objects.get()
    assert change.status == "pending" and change.requested_by == operator
    binding_change_confirm(change=change, user=supervisor)
    assert listing_sellable(shop, [listing, other])[listing.pk].quantity == 4  # A left out
    assert listing_sellable(shop, [listing, other])[other.pk].quantity == 14  # not this one
    page = client.get(url, {"q": listing.sku}).content.decode()
    assert f'data-exception="{listing.sku}"' in page

    # remove: the same path, audited as a second change
    client.post(propose, {**form, "mode": "", "confirm": "1"})
    removal = BindingChange.objects.order_by("-pk").first()
    assert removal.pk != change.pk and removal.before["exceptions"]
    binding_change_confirm(change=removal, user=supervisor)
    assert binding_state(shop).exceptions == ()
    assert listing_sellable(shop, [listing])[listing.pk].quantity == 14


def test_exception_form_refusals_are_clear_and_write_nothing(client, people, world):
    operator, _supervisor = people
    shop, wh_a, *_rest = world
    propose = reverse("channels_sync:binding-propose", args=[shop.pk])
    client.force_login(operator)
    for form in (
        {"op": "exception", "warehouse": wh_a.pk, "mode": "unbound"},  # neither goods nor listing
        {"op": "exception", "warehouse": wh_a.pk, "listing": "NOPE", "mode": "unbound"},
    ):
        response = client.post(propose, {**form, "confirm": "1"}, follow=True)
        assert response.status_code == 200
    assert not BindingChange.objects.exists()


def test_the_check_previews_each_listings_sellable_before_and_after(client, people, world):
    operator, _supervisor = people
    shop, wh_a, _wh_b, wh_c, listing, other = world
    client.force_login(operator)
    rows = [
        ["Bulk shop", wh_a.code, "", "unbind", "", ""],
        ["Bulk shop", wh_c.code, "", "bind", "", ""],
        ["Bulk shop", wh_c.code, other.goods.sku, "unbind", "", ""],
    ]
    # the check (dry run): before 10 + 4 at A and B; after B and C for one, B only for the other
    response, job = _upload(client, rows)
    text = response.content.decode()
    assert job.status == ImportJob.Status.READY
    assert "Bulk shop: 2 of 2 listings change their sellable quantity" in text
    assert f"{listing.sku} 14 → 11" in text and f"{other.sku} 14 → 4" in text
    assert not BindingChange.objects.exists()
    # the import: the same preview, and the change waits for review
    done = client.post(reverse("inventory:import-job-commit", args=[job.pk]), follow=True)
    change = BindingChange.objects.get()
    assert f"change #{change.pk} waits for a supervisor" in done.content.decode()
