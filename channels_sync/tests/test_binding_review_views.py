"""The supervisor reviews a pending binding change, and anyone rolling back sees, before saving,
what it does to each listing's sellable quantity (the unbinding guide's preview)."""

import pytest
from django.urls import reverse

from channels_sync.models import BindingChange
from channels_sync.selectors import binding_state
from channels_sync.services.bindings import binding_change_request, state_with
from channels_sync.tests.factories import ShopFactory
from channels_sync.tests.test_bindings import _shop_two_warehouses

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _shop(**kwargs):
    """A listing with 10 units in warehouse A and 4 in B, both bound: sellable 14."""
    shop, bin_a, _bin_b, listing = _shop_two_warehouses(**kwargs)
    return shop, bin_a, listing


def _unbind_a(shop, bin_a, user):
    after = state_with(binding_state(shop), unbind=bin_a.warehouse_id)
    return binding_change_request(
        shop=shop, after=after, action="unbind", summary="Unbind A", user=user
    )


def _row(html: str, sku: str) -> str:
    start = html.index(f'data-listing="{sku}"')
    return html[start : html.index("</tr>", start)]


def test_the_supervisor_reviews_the_effect_then_confirms(client, people):
    operator, supervisor = people
    shop, bin_a, listing = _shop(requires_review=True)
    change = _unbind_a(shop, bin_a, operator)
    client.force_login(supervisor)
    # the change log links the review; the review shows sellable now and after, per listing
    log = client.get(reverse("channels_sync:bindings", args=[shop.pk])).content.decode()
    review_url = reverse("channels_sync:binding-change", args=[shop.pk, change.pk])
    assert review_url in log
    page = client.get(review_url)
    assert page.status_code == 200
    row = _row(page.content.decode(), listing.sku)
    assert ">14<" in row and "<strong>4</strong>" in row
    assert 'value="confirm"' in page.content.decode()
    # confirming from it applies the change
    client.post(
        reverse("channels_sync:binding-decide", args=[shop.pk, change.pk]), {"decision": "confirm"}
    )
    change.refresh_from_db()
    assert change.status == BindingChange.Status.APPLIED
    assert shop.bindings.count() == 1


def test_the_requester_sees_the_review_without_the_decision(client, people):
    operator, _supervisor = people
    shop, bin_a, listing = _shop(requires_review=True)
    change = _unbind_a(shop, bin_a, operator)
    client.force_login(operator)
    page = client.get(reverse("channels_sync:binding-change", args=[shop.pk, change.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and ">14<" in _row(html, listing.sku)
    assert 'value="confirm"' not in html
    assert "cannot confirm" in html


def test_a_review_of_bindings_that_moved_since_says_confirming_will_be_refused(client, people):
    operator, supervisor = people
    shop, bin_a, _listing = _shop(requires_review=True)
    change = _unbind_a(shop, bin_a, operator)
    shop.bindings.filter(priority=2).update(priority=3)  # someone moved the bindings since
    client.force_login(supervisor)
    html = client.get(
        reverse("channels_sync:binding-change", args=[shop.pk, change.pk])
    ).content.decode()
    assert "confirming it will be refused" in html


def test_a_decided_change_goes_back_to_the_log(client, people):
    operator, supervisor = people
    shop, bin_a, _listing = _shop(requires_review=False)
    change = _unbind_a(shop, bin_a, operator)  # applied at once
    client.force_login(supervisor)
    response = client.get(reverse("channels_sync:binding-change", args=[shop.pk, change.pk]))
    assert response.status_code == 302
    assert response.url == reverse("channels_sync:bindings", args=[shop.pk])


def test_rollback_shows_its_preview_first_and_changes_nothing_until_posted(client, people):
    operator, _supervisor = people
    shop, bin_a, listing = _shop(requires_review=False)
    change = _unbind_a(shop, bin_a, operator)  # applied: sellable 4 now
    client.force_login(operator)
    url = reverse("channels_sync:binding-rollback", args=[shop.pk, change.pk])
    log = client.get(reverse("channels_sync:bindings", args=[shop.pk])).content.decode()
    assert url in log
    page = client.get(url)
    assert page.status_code == 200
    row = _row(page.content.decode(), listing.sku)
    assert ">4<" in row and "<strong>14</strong>" in row
    assert BindingChange.objects.filter(shop=shop).count() == 1
    assert shop.bindings.count() == 1
    # posting it rolls back
    client.post(url)
    assert shop.bindings.count() == 2
    assert BindingChange.objects.get(rollback_of=change).status == BindingChange.Status.APPLIED


def test_rollback_preview_of_a_change_not_applied_is_refused(client, people):
    operator, _supervisor = people
    shop, bin_a, _listing = _shop(requires_review=True)
    change = _unbind_a(shop, bin_a, operator)  # pending
    client.force_login(operator)
    response = client.get(reverse("channels_sync:binding-rollback", args=[shop.pk, change.pk]))
    assert response.status_code == 302
    assert BindingChange.objects.filter(shop=shop).count() == 1


def test_review_and_rollback_pages_need_their_permissions(client, people, django_user_model):
    operator, _supervisor = people
    shop, bin_a, _listing = _shop(requires_review=False)
    change = _unbind_a(shop, bin_a, operator)
    nobody = django_user_model.objects.create_user("nobody")
    client.force_login(nobody)
    assert (
        client.get(reverse("channels_sync:binding-change", args=[shop.pk, change.pk])).status_code
        == 403
    )
    url = reverse("channels_sync:binding-rollback", args=[shop.pk, change.pk])
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert shop.bindings.count() == 1


def test_a_change_of_another_shop_is_not_found(client, people):
    operator, supervisor = people
    shop, bin_a, _listing = _shop(requires_review=True)
    other = ShopFactory()
    change = _unbind_a(shop, bin_a, operator)
    client.force_login(supervisor)
    url = reverse("channels_sync:binding-change", args=[other.pk, change.pk])
    assert client.get(url).status_code == 404


def test_review_and_rollback_pages_in_chinese(client, people):
    operator, supervisor = people
    shop, bin_a, _listing = _shop(requires_review=True)
    change = _unbind_a(shop, bin_a, operator)
    client.force_login(supervisor)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(
        reverse("channels_sync:binding-change", args=[shop.pk, change.pk])
    ).content.decode()
    assert f"复核变更 #{change.pk}" in html and "数量按当前库存计算" in html
    applied = _shop(requires_review=False)
    done = _unbind_a(applied[0], applied[1], operator)
    client.force_login(operator)
    html = client.get(
        reverse("channels_sync:binding-rollback", args=[applied[0].pk, done.pk])
    ).content.decode()
    assert "回滚预览" in html and "回滚" in html
