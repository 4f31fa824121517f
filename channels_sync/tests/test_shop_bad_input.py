"""Bad input on the shop's screens is answered with a message, never a 500: "push now" with
goods the shop does not sell, allotments beyond the ledger's maximum (screen, review, import),
a NUL character in the matching search."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from channels_sync.exceptions import ChannelError
from channels_sync.models import BindingChange, OutboxItem
from channels_sync.selectors import BindingState
from channels_sync.services.bindings import binding_change_confirm
from channels_sync.tests.factories import BindingFactory, ListingFactory, ShopFactory
from inventory.models import ImportJob
from inventory.tests.factories import GoodsFactory, receive_stock
from inventory.tests.test_import_support import xlsx_bytes
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def selling_shop():
    """A pushing shop with one matched listing whose goods has stock; no outbox rows left."""
    shop = ShopFactory()
    bin_a = BinFactory()
    BindingFactory(shop=shop, warehouse=bin_a.warehouse)
    listing = ListingFactory(shop=shop)
    receive_stock(listing.goods, bin_a, 10)
    OutboxItem.objects.all().delete()
    return shop, listing


# -- 4. push now with goods the shop does not sell -----------------------------------------------
def test_push_now_with_an_unknown_goods_queues_nothing_and_says_so(client, operator, selling_shop):
    shop, _listing = selling_shop
    not_sold = GoodsFactory()
    client.force_login(operator)

    response = client.post(
        reverse("channels_sync:shop-push", args=[shop.pk]), {"goods": ["999999999", not_sold.pk]}
    )

    assert response.status_code == 302
    assert not OutboxItem.objects.exists()
    assert any("None of the chosen goods" in m for m in _messages(response))


def test_push_now_keeps_only_the_shops_goods(client, operator, selling_shop):
    shop, listing = selling_shop
    client.force_login(operator)

    client.post(
        reverse("channels_sync:shop-push", args=[shop.pk]),
        {"goods": [listing.goods_id, 999999999, "x"]},
    )

    assert list(OutboxItem.objects.values_list("shop_id", "goods_id", "is_manual")) == [
        (shop.pk, listing.goods_id, True)
    ]


# -- 5. allotments beyond the ledger's maximum ---------------------------------------------------
@pytest.fixture
def bound_shop():
    shop = ShopFactory(requires_review=False)
    bin_a = BinFactory()
    BindingFactory(shop=shop, warehouse=bin_a.warehouse)
    return shop, bin_a.warehouse, ListingFactory(shop=shop)


def test_a_huge_allotment_on_the_screen_is_refused_with_a_message(client, operator, bound_shop):
    shop, warehouse, listing = bound_shop
    client.force_login(operator)

    response = client.post(
        reverse("channels_sync:binding-propose", args=[shop.pk]),
        {
            "op": "exception",
            "warehouse": warehouse.pk,
            "goods": listing.goods.sku,
            "mode": "allotment",
            "allotment": "99999999999",
            "confirm": "1",
        },
    )

    assert response.status_code == 302
    assert not BindingChange.objects.exists()
    assert any("100000000" in m.replace(",", "") for m in _messages(response))


def test_confirming_a_stored_huge_allotment_is_refused_not_a_500(operator, supervisor, bound_shop):
    # given: a pending change asking for more than a column holds (stored before the limit)
    shop, warehouse, listing = bound_shop
    after = BindingState(
        warehouses=((warehouse.pk, 1),),
        exceptions=((warehouse.pk, listing.goods_id, None, "allotment", 99999999999),),
    )
    change = BindingChange.objects.create(
        shop=shop,
        action=BindingChange.Action.EXCEPTION,
        summary="huge",
        before=BindingState(warehouses=((warehouse.pk, 1),), exceptions=()).to_json(),
        after=after.to_json(),
        status=BindingChange.Status.PENDING,
        requested_by=operator,
    )

    # when / then
    with pytest.raises(ChannelError, match="may not exceed"):
        binding_change_confirm(change=change, user=supervisor)
    change.refresh_from_db()
    assert change.status == BindingChange.Status.PENDING


def test_a_huge_allotment_in_the_import_is_a_row_error(client, operator, bound_shop):
    shop, warehouse, listing = bound_shop
    client.force_login(operator)
    content = xlsx_bytes(
        [
            ["shop", "warehouse", "sku", "action", "allotment", "priority"],
            [shop.name, warehouse.code, listing.goods.sku, "exception", 99999999999, ""],
        ]
    )

    response = client.post(
        reverse("inventory:import-start"),
        {"resource": "channel_bindings", "file": SimpleUploadedFile("b.xlsx", content)},
        follow=True,
    )

    assert response.status_code == 200
    assert ImportJob.objects.get().status == ImportJob.Status.INVALID
    assert "may not exceed" in response.content.decode()
    assert not BindingChange.objects.exists()


# -- 6. a NUL in the matching search -------------------------------------------------------------
def test_a_nul_in_the_matching_search_shows_the_list_and_a_message(client, operator):
    shop = ShopFactory()
    listing = ListingFactory(shop=shop, goods=None, sku="NUL-TEST-1")
    client.force_login(operator)

    response = client.get(
        reverse("channels_sync:matching", args=[shop.pk]), {"q": "a\x00b", "show": "unmatched"}
    )

    assert response.status_code == 200
    assert listing.sku in response.content.decode()
    assert _messages(response)


def test_the_matching_search_still_filters(client, operator):
    shop = ShopFactory()
    ListingFactory(shop=shop, goods=None, sku="KEEP-ME")
    ListingFactory(shop=shop, goods=None, sku="DROP-ME")
    client.force_login(operator)

    body = client.get(
        reverse("channels_sync:matching", args=[shop.pk]), {"q": "keep"}
    ).content.decode()

    assert "KEEP-ME" in body and "DROP-ME" not in body
