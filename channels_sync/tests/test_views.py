import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from channels_sync.models import SyncRecord
from channels_sync.tests.factories import BindingFactory, ListingFactory, ShopFactory
from wms import roles

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def operator(django_user_model):
    user = django_user_model.objects.create_user("op2")
    user.groups.add(Group.objects.get(name=roles.CHANNEL_OPERATOR))
    return user


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_every_channel_screen_renders_and_never_shows_a_secret(client, operator, lang):
    shop = ShopFactory(credentials={"access_token": "shpat_secret_value_1234"})
    BindingFactory(shop=shop)
    listing = ListingFactory(shop=shop)
    ListingFactory(shop=shop, goods=None, matched_by="")
    SyncRecord.objects.create(
        shop=shop,
        listing=listing,
        goods=listing.goods,
        quantity=3,
        previous_quantity=1,
        inputs={"warehouses": [], "share_percent": 100, "safety_stock": 0},
        trigger="auto",
        status="failure",
        message="HTTP 500",
    )
    client.force_login(operator)
    client.cookies["django_language"] = lang
    urls = [
        reverse("channels_sync:shop-list"),
        reverse("channels_sync:shop-detail", args=[shop.pk]),
        reverse("channels_sync:shop-edit", args=[shop.pk]),
        reverse("channels_sync:matching", args=[shop.pk]),
        reverse("channels_sync:matching", args=[shop.pk]) + "?show=matched",
        reverse("channels_sync:bindings", args=[shop.pk]),
        reverse("channels_sync:binding-exceptions", args=[shop.pk]),
        reverse("channels_sync:sync-log"),
        reverse("channels_sync:sync-log") + "?status=failure&shop=" + str(shop.pk),
        reverse("channels_sync:bindings-export", args=[shop.pk]),
        reverse("home"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"shpat_secret_value_1234" not in body
    page = client.get(urls[1]).content.decode()
    assert "1234" in page
    if lang == "zh-hans":
        assert "全量同步" in page and "仓库绑定" in page


def test_unbind_preview_then_request_waits_for_review(client, operator):
    shop = ShopFactory(requires_review=True)
    binding = BindingFactory(shop=shop)
    client.force_login(operator)
    url = reverse("channels_sync:binding-propose", args=[shop.pk])
    preview = client.post(url, {"op": "unbind", "warehouse": binding.warehouse_id})
    assert preview.status_code == 200 and b"Preview" in preview.content
    client.post(url, {"op": "unbind", "warehouse": binding.warehouse_id, "confirm": "1"})
    assert shop.bindings.count() == 1
    assert shop.binding_changes.get().status == "pending"


def test_views_need_permissions(client, django_user_model):
    user = django_user_model.objects.create_user("nobody")
    client.force_login(user)
    assert client.get(reverse("channels_sync:shop-list")).status_code == 403
    assert client.get(reverse("channels_sync:sync-log")).status_code == 403
