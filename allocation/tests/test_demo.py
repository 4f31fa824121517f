"""The demo: stores, managers (``store`` runs two), a year of sales, one open window a store
manager can grab from at once; a second run adds nothing."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from allocation.models import GrabWindow, Store, StoreSales

pytestmark = pytest.mark.django_db


def test_the_demo_gives_a_store_manager_an_open_window_to_grab_from(client):
    call_command("wms_demo", stdout=io.StringIO())
    counts = (Store.objects.count(), StoreSales.objects.count(), GrabWindow.objects.count())
    call_command("wms_demo", stdout=io.StringIO())
    assert (Store.objects.count(), StoreSales.objects.count(), GrabWindow.objects.count()) == counts
    assert Store.objects.filter(managers__username="store").count() == 2
    assert StoreSales.objects.dates("day", "day").count() == 365
    window = GrabWindow.objects.get(status=GrabWindow.Status.OPEN)
    store = Store.objects.filter(managers__username="store").first().managers.get()
    assert store.check_password("wms-demo")
    client.force_login(store)
    page = client.get(reverse("allocation:grab-home"))
    assert window.name.encode() in page.content
    assert client.get(reverse("allocation:grab", args=[window.pk])).status_code == 200


@pytest.fixture
def back_in_english():
    """The locale middleware activates Chinese in this thread: give the next tests English."""
    yield
    translation.deactivate()


def test_the_store_screens_render_in_chinese(client, world, back_in_english):
    window = world.open_window()
    client.force_login(world.alice)
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("allocation:grab-home"))
    assert "抢单时段".encode() in page.content
    page = client.get(reverse("allocation:grab", args=[window.pk]))
    assert "建议数量".encode() in page.content
