"""Changing a window after its creation: an upcoming one freely (times, stores, goods and
quantities; nothing is reserved until it opens), an open one only its closing time and more
quantity (the extra reserved), a closed or cancelled one not at all."""

import datetime

import pytest
from django.utils import timezone

from allocation.exceptions import AllocationError, InvalidState
from allocation.models import GrabPool, GrabPoolLine, GrabWindow
from allocation.services import close, grabs, windows
from inventory.exceptions import InsufficientStock
from inventory.models import StockBalance

pytestmark = pytest.mark.django_db


def _upcoming(world, **kw):
    now = timezone.now()
    return windows.window_create(
        name="Later tea",
        warehouse=world.warehouse,
        policy=world.policy,
        mode=GrabWindow.Mode.FIRST_COME,
        opens_at=now + datetime.timedelta(hours=1),
        closes_at=now + datetime.timedelta(hours=2),
        scope=GrabWindow.Scope.ALL,
        offers=kw.pop("offers", [windows.Offer(world.goods, 50)]),
        user=world.manager,
        **kw,
    )


def _reserved(goods):
    return sum(StockBalance.objects.filter(goods=goods).values_list("reserved", flat=True))


def test_an_upcoming_window_changes_its_times_stores_and_goods(world):
    window = _upcoming(world)
    later = window.opens_at + datetime.timedelta(hours=1)
    # when
    windows.window_edit(
        window_id=window.pk,
        user=world.manager,
        name="Tea and coffee",
        opens_at=later,
        closes_at=later + datetime.timedelta(minutes=30),
        scope=GrabWindow.Scope.LIST,
        stores=[world.store_a, world.store_b],
        offers=[windows.Offer(world.goods, 80), windows.Offer(world.other_goods, 20)],
    )
    # then
    window.refresh_from_db()
    assert (window.name, window.opens_at, window.status) == (
        "Tea and coffee",
        later,
        GrabWindow.Status.SCHEDULED,
    )
    assert set(window.stores.all()) == {world.store_a, world.store_b}
    pools = dict(GrabPool.objects.filter(window=window).values_list("goods__sku", "offered"))
    assert pools == {"TEA": 80, "COFFEE": 20}
    assert _reserved(world.goods) == 0  # nothing reserved before the opening
    # and: dropping a goods removes its pool
    windows.window_edit(
        window_id=window.pk,
        user=world.manager,
        closes_at=window.closes_at,
        offers=[windows.Offer(world.other_goods, 10)],
    )
    assert list(GrabPool.objects.filter(window=window).values_list("goods__sku", "offered")) == [
        ("COFFEE", 10)
    ]


def test_an_upcoming_window_moved_to_now_opens_and_reserves_the_new_quantities(world):
    window = _upcoming(world)
    now = timezone.now()
    windows.window_edit(
        window_id=window.pk,
        user=world.manager,
        opens_at=now - datetime.timedelta(seconds=1),
        closes_at=now + datetime.timedelta(minutes=10),
        offers=[windows.Offer(world.goods, 70)],
    )
    window.refresh_from_db()
    assert window.status == GrabWindow.Status.OPEN
    assert _reserved(world.goods) == 70


def test_bad_changes_to_an_upcoming_window_are_refused_and_change_nothing(world):
    window = _upcoming(world)
    with pytest.raises(AllocationError):
        windows.window_edit(
            window_id=window.pk,
            user=world.manager,
            closes_at=window.opens_at - datetime.timedelta(minutes=1),
            offers=[windows.Offer(world.goods, 10)],
        )
    with pytest.raises(AllocationError):
        windows.window_edit(
            window_id=window.pk, user=world.manager, closes_at=window.closes_at, offers=[]
        )
    window.refresh_from_db()
    assert GrabPool.objects.get(window=window).offered == 50


def test_an_open_window_extends_its_close_and_reserves_more(world):
    window = world.open_window(offers=[windows.Offer(world.goods, 100)])
    grabs.grab_request_submit(
        user=world.alice, store=world.store_a, window=window, goods_id=world.goods.pk, quantity=100
    )
    later = window.closes_at + datetime.timedelta(minutes=15)
    # when: more of the exhausted goods, and fifteen minutes more
    windows.window_edit(
        window_id=window.pk,
        user=world.manager,
        closes_at=later,
        offers=[windows.Offer(world.goods, 130)],
    )
    # then
    window.refresh_from_db()
    pool = GrabPool.objects.get(window=window)
    assert (window.closes_at, pool.offered, pool.granted) == (later, 130, 100)
    assert _reserved(world.goods) == 130
    assert sum(GrabPoolLine.objects.filter(pool=pool).values_list("quantity", flat=True)) == 130
    second = grabs.grab_request_submit(
        user=world.bob, store=world.store_b, window=window, goods_id=world.goods.pk, quantity=40
    )
    assert second.granted == 30
    close.window_close(window_id=window.pk)
    assert _reserved(world.goods) == 130  # all granted, held by the orders


def test_an_open_window_may_close_earlier_but_not_in_the_past(world):
    window = world.open_window()
    sooner = timezone.now() + datetime.timedelta(minutes=5)
    windows.window_edit(
        window_id=window.pk,
        user=world.manager,
        closes_at=sooner,
        offers=[windows.Offer(world.goods, 100)],
    )
    window.refresh_from_db()
    assert window.closes_at == sooner
    with pytest.raises(AllocationError, match="passed"):
        windows.window_edit(
            window_id=window.pk,
            user=world.manager,
            closes_at=timezone.now() - datetime.timedelta(minutes=1),
            offers=[windows.Offer(world.goods, 100)],
        )


@pytest.mark.parametrize(
    "change",
    [
        "opens_at",
        "scope",
        "less",
        "new_goods",
        "drop_goods",
    ],
)
def test_other_changes_to_an_open_window_are_refused_with_the_reason(world, change):
    window = world.open_window(offers=[windows.Offer(world.goods, 100)])
    kwargs = {"closes_at": window.closes_at, "offers": [windows.Offer(world.goods, 100)]}
    if change == "opens_at":
        kwargs["opens_at"] = window.opens_at - datetime.timedelta(minutes=5)
    elif change == "scope":
        kwargs["scope"] = GrabWindow.Scope.GROUP
    elif change == "less":
        kwargs["offers"] = [windows.Offer(world.goods, 90)]
    elif change == "new_goods":
        kwargs["offers"].append(windows.Offer(world.other_goods, 5))
    else:
        kwargs["offers"] = [windows.Offer(world.other_goods, 5)]
    with pytest.raises(InvalidState) as refused:
        windows.window_edit(window_id=window.pk, user=world.manager, **kwargs)
    assert str(refused.value)
    window.refresh_from_db()
    pool = GrabPool.objects.get(window=window)
    assert (pool.offered, window.opens_at < window.closes_at) == (100, True)
    assert _reserved(world.goods) == 100
    assert _reserved(world.other_goods) == 0


def test_more_than_the_warehouse_holds_is_refused_and_reserves_nothing(world):
    window = world.open_window(offers=[windows.Offer(world.goods, 100)])
    with pytest.raises(InsufficientStock):
        windows.window_edit(
            window_id=window.pk,
            user=world.manager,
            closes_at=window.closes_at,
            offers=[windows.Offer(world.goods, 500)],
        )
    assert GrabPool.objects.get(window=window).offered == 100
    assert _reserved(world.goods) == 100


def test_a_closed_or_cancelled_window_cannot_be_changed(world):
    window = world.open_window()
    close.window_close(window_id=window.pk)
    with pytest.raises(InvalidState, match="closed or cancelled"):
        windows.window_edit(
            window_id=window.pk,
            user=world.manager,
            closes_at=timezone.now() + datetime.timedelta(hours=1),
            offers=[windows.Offer(world.goods, 100)],
        )


def test_the_change_screen_edits_an_open_window_and_shows_refusals(client, world):
    from django.urls import reverse

    window = world.open_window(offers=[windows.Offer(world.goods, 100)])
    url = reverse("allocation:window-edit", args=[window.pk])
    client.force_login(world.alice)
    assert client.get(url).status_code in (302, 403)
    client.force_login(world.manager)
    page = client.get(url)
    assert page.status_code == 200
    assert b"only its closing time" in page.content
    later = timezone.localtime(window.closes_at) + datetime.timedelta(hours=1)
    data = {
        "name": "Monday tea, longer",
        "closes_at": later.strftime("%Y-%m-%dT%H:%M"),
        "quantity_0": "90",
    }
    refused = client.post(url, data)
    assert refused.status_code == 422
    assert b"less than 100" in refused.content
    data["quantity_0"] = "120"
    assert client.post(url, data).status_code == 302
    window.refresh_from_db()
    assert window.name == "Monday tea, longer"
    assert timezone.localtime(window.closes_at).strftime("%H:%M") == later.strftime("%H:%M")
    assert GrabPool.objects.get(window=window).offered == 120
    assert _reserved(world.goods) == 120


def _six_goods_upcoming(world):
    from inventory.tests.factories import GoodsFactory

    extra = [GoodsFactory(sku=f"HERB{i}") for i in range(4)]
    offers = [windows.Offer(g, 5) for g in [world.goods, world.other_goods, *extra]]
    return _upcoming(world, offers=offers)


def test_renaming_an_upcoming_window_of_six_goods_on_the_screen_keeps_all_six(client, world):
    from django.urls import reverse

    # given an upcoming window offering six goods (the API takes up to 200)
    window = _six_goods_upcoming(world)
    url = reverse("allocation:window-edit", args=[window.pk])
    client.force_login(world.manager)
    form = client.get(url).context["form"]
    # when the manager changes only its name and saves what the screen shows
    data = {"name": "Herbal tea", "scope": "all", "store_group": ""}
    for key in ("opens_at", "closes_at"):
        data[key] = timezone.localtime(window.__dict__[key]).strftime("%Y-%m-%dT%H:%M")
    for i, (goods, quantity) in enumerate(form.offer_rows()):
        if goods.initial is not None:
            data[f"goods_{i}"] = goods.initial.sku
            data[f"quantity_{i}"] = str(quantity.initial)
    response = client.post(url, data)
    # then the name changed and no goods was dropped
    assert response.status_code == 302
    window.refresh_from_db()
    assert window.name == "Herbal tea"
    assert window.pools.count() == 6


def test_an_open_window_of_six_goods_can_have_its_closing_time_moved_on_the_screen(client, world):
    from django.urls import reverse

    from inventory.tests.factories import GoodsFactory, receive_stock

    # given an open window offering six goods
    extra = [GoodsFactory(sku=f"HERB{i}") for i in range(4)]
    for goods in extra:
        receive_stock(goods, world.bin, 10)
    window = world.open_window(
        offers=[windows.Offer(g, 5) for g in [world.goods, world.other_goods, *extra]]
    )
    url = reverse("allocation:window-edit", args=[window.pk])
    client.force_login(world.manager)
    form = client.get(url).context["form"]
    later = timezone.localtime(window.closes_at) + datetime.timedelta(hours=1)
    data = {"name": window.name, "closes_at": later.strftime("%Y-%m-%dT%H:%M")}
    for i, (_goods, quantity) in enumerate(form.offer_rows()):
        if quantity.initial is not None:
            data[f"quantity_{i}"] = str(quantity.initial)
    # when the manager gives it an hour more
    response = client.post(url, data)
    # then it is saved
    assert response.status_code == 302
    window.refresh_from_db()
    assert timezone.localtime(window.closes_at).strftime("%H:%M") == later.strftime("%H:%M")
    assert window.pools.count() == 6
