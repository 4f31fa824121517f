"""Suggestions rank exact SKU, then exact barcode, then weak hints; the bulk "link suggested"
action links only a single exact match."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse

from channels_sync.models import Listing, ListingLinkEvent, OutboxItem
from channels_sync.services.products import listing_suggestions
from channels_sync.tests.factories import ListingFactory, ShopFactory
from inventory.tests.factories import GoodsFactory
from wms import roles

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def operator(django_user_model):
    user = django_user_model.objects.create_user("match-op")
    user.groups.add(Group.objects.get(name=roles.CHANNEL_OPERATOR))
    return user


def _unmatched(shop, **fields):
    return ListingFactory(shop=shop, goods=None, matched_by="", **fields)


def _bulk_link(client, shop, listings):
    return client.post(
        reverse("channels_sync:matching-bulk", args=[shop.pk]),
        {"action": "suggested", "listing": [row.pk for row in listings]},
    )


def test_bulk_link_takes_the_barcode_match_not_the_first_sku(client, operator):
    # given: AA-CASE only shares a title word, ZZ-PHONE the barcode
    shop = ShopFactory()
    phone = GoodsFactory(sku="ZZ-PHONE", name="Phone", barcode="9300000000017")
    GoodsFactory(sku="AA-CASE", name="Black leather case")
    listing = _unmatched(shop, sku="X1", barcode="9300000000017", title="Black phone 128GB")
    client.force_login(operator)
    # when
    _bulk_link(client, shop, [listing])
    # then: linked to the phone, audited with the user, its stock queued for a push
    listing.refresh_from_db()
    assert listing.goods_id == phone.pk
    assert listing.matched_by == Listing.MatchedBy.BARCODE
    event = ListingLinkEvent.objects.get(listing=listing)
    assert (event.action, event.goods_after_id, event.user_id) == ("link", phone.pk, operator.pk)
    assert OutboxItem.objects.filter(shop=shop, goods=phone).exists()


def test_bulk_link_skips_a_listing_whose_sku_and_barcode_name_different_goods(client, operator):
    # given: goods barcodes are unique, so two exact candidates means the SKU names one goods
    # and the barcode another
    shop = ShopFactory()
    GoodsFactory(sku="PHONE-A", barcode="9300000000031")
    GoodsFactory(sku="PHONE-B", barcode="9300000000024")
    listing = _unmatched(shop, sku="phone-a", barcode="9300000000024", title="Phone")
    client.force_login(operator)
    # when
    response = _bulk_link(client, shop, [listing])
    # then
    listing.refresh_from_db()
    assert listing.goods_id is None
    assert not ListingLinkEvent.objects.filter(listing=listing).exists()
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert "0 listings linked." in texts
    assert any("Skipped 1 listings with several goods" in t and "and 0 with" in t for t in texts)


def test_bulk_link_skips_a_listing_with_only_weak_suggestions(client, operator):
    # given: similar SKU and a title word, but no goods of the same SKU or barcode
    shop = ShopFactory()
    GoodsFactory(sku="CASE-BLACK-XL", name="Leather case")
    listing = _unmatched(shop, sku="CASE-BLACK", barcode="9399999999999", title="Leather wallet")
    assert listing_suggestions(listing)  # there is a suggestion, only a weak one
    client.force_login(operator)
    # when
    response = _bulk_link(client, shop, [listing])
    # then
    listing.refresh_from_db()
    assert listing.goods_id is None
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("and 1 with no goods of the same SKU or barcode" in t for t in texts)


def test_bulk_link_matches_sku_case_insensitively_and_trimmed(client, operator):
    # given
    shop = ShopFactory()
    cable = GoodsFactory(sku="CABLE-USB-C", name="Cable")
    GoodsFactory(sku="AA-CABLE-USB-C-2M", name="Long cable")
    listing = _unmatched(shop, sku="  cable-usb-c ", barcode="", title="Cable")
    client.force_login(operator)
    # when
    _bulk_link(client, shop, [listing])
    # then
    listing.refresh_from_db()
    assert (listing.goods_id, listing.matched_by) == (cable.pk, Listing.MatchedBy.SKU)


def test_bulk_link_queries_do_not_grow_with_the_listings(
    client, operator, django_assert_max_num_queries
):
    # given
    shop = ShopFactory()
    client.force_login(operator)
    one = [_unmatched(shop, sku=GoodsFactory(sku="ONE-0").sku)]
    many = [_unmatched(shop, sku=GoodsFactory(sku=f"MANY-{i}").sku) for i in range(30)]
    with django_assert_max_num_queries(100) as one_run:
        _bulk_link(client, shop, one)
    # when / then
    with django_assert_max_num_queries(len(one_run.captured_queries)):
        _bulk_link(client, shop, many)
    assert Listing.objects.filter(shop=shop, goods__isnull=False).count() == 31
    assert ListingLinkEvent.objects.filter(listing__shop=shop, action="link").count() == 31


def test_screen_lists_the_exact_match_first_with_its_reason(client, operator):
    # given: AA-CASE sorts first but only shares a title word
    shop = ShopFactory()
    GoodsFactory(sku="ZZ-PHONE", name="Phone", barcode="9300000000017")
    GoodsFactory(sku="AA-CASE", name="Black leather case")
    _unmatched(shop, sku="X1", barcode="9300000000017", title="Black phone 128GB")
    client.force_login(operator)
    # when
    page = client.get(reverse("channels_sync:matching", args=[shop.pk])).content.decode()
    # then
    phone, case = page.index("ZZ-PHONE · Phone (Same barcode)"), page.index("AA-CASE")
    assert phone < case
    assert "AA-CASE · Black leather case (Word of the title in the name)" in page


def test_suggestions_rank_sku_then_barcode_then_weak():
    # given
    shop = ShopFactory()
    by_barcode = GoodsFactory(sku="AAA-1", name="Other", barcode="123")
    by_sku = GoodsFactory(sku="ZZZ-9", name="Other")
    similar = GoodsFactory(sku="ZZZ-9-RED", name="Other")
    by_word = GoodsFactory(sku="AAA-0", name="Shiny things")
    GoodsFactory(sku="ZZZ-9X", name="Gone", is_active=False)
    listing = _unmatched(shop, sku="zzz-9", barcode="123", title="Shiny gadget")
    # when
    found = listing_suggestions(listing)
    # then
    assert [(s.goods.pk, s.reason) for s in found] == [
        (by_sku.pk, "sku"),
        (by_barcode.pk, "barcode"),
        (similar.pk, "similar_sku"),
        (by_word.pk, "name_word"),
    ]
    assert [s.is_strong for s in found] == [True, True, False, False]


def test_bulk_link_says_what_it_skipped_in_chinese(client, operator):
    # given
    shop = ShopFactory()
    listing = _unmatched(shop, sku="NOTHING-LIKE-IT", barcode="", title="x")
    client.force_login(operator)
    client.cookies["django_language"] = "zh-hans"
    # when
    response = _bulk_link(client, shop, [listing])
    # then
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(t.startswith("已跳过 0 个") and "以及 1 个" in t for t in texts)


def test_matching_screen_queries_do_not_grow_with_the_listings(
    client, operator, django_assert_max_num_queries
):
    shop = ShopFactory()
    client.force_login(operator)
    url = reverse("channels_sync:matching", args=[shop.pk])
    _unmatched(shop, sku=GoodsFactory(sku="SCR-0").sku)
    with django_assert_max_num_queries(100) as one_page:
        client.get(url)
    for i in range(1, 30):
        _unmatched(shop, sku=GoodsFactory(sku=f"SCR-{i}").sku)
    with django_assert_max_num_queries(len(one_page.captured_queries)):
        page = client.get(url)
    assert page.content.decode().count('data-reason="sku"') == 30
