import pytest

from channels_sync.fakes import FakeServer
from channels_sync.fakes.shopify import FakeShopify


@pytest.fixture(autouse=True)
def _local_platforms_only(settings):
    """Tests never talk to a real platform; pushes run when a test calls them, not after every
    posting's commit (``push_after_commit`` turns that back on)."""
    from django.utils import translation

    from channels_sync import hooks as channel_hooks
    from inventory import hooks

    settings.CHANNELS_LOCAL_ONLY = True
    hooks.unregister_after_commit(channel_hooks.push_soon_after_posting)
    yield
    translation.activate(settings.LANGUAGE_CODE)  # a zh-hans page must not leak into later tests


@pytest.fixture
def fake_shopify():
    fake = FakeShopify()
    with FakeServer(fake) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def people(django_user_model):
    """A channel operator (requests binding changes) and a warehouse manager (confirms them)."""
    from django.contrib.auth.models import Group

    from wms import roles

    operator = django_user_model.objects.create_user("op")
    operator.groups.add(Group.objects.get(name=roles.CHANNEL_OPERATOR))
    supervisor = django_user_model.objects.create_user("sup")
    supervisor.groups.add(Group.objects.get(name=roles.WAREHOUSE_MANAGER))
    return operator, supervisor


@pytest.fixture
def operator(people):
    return people[0]


@pytest.fixture
def supervisor(people):
    return people[1]


def no_sleep(_seconds: float) -> None:
    return None


@pytest.fixture
def fake_shop_orders():
    from channels_sync.fakes.shopify_orders import FakeShopifyOrders

    fake = FakeShopifyOrders(restore_rate=1_000_000.0)
    with FakeServer(fake) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def fake_auspost():
    from channels_sync.fakes.auspost import FakeAusPost

    fake = FakeAusPost()
    with FakeServer(fake) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def auspost_carrier(fake_auspost):
    from channels_sync.models import Carrier

    return Carrier.objects.create(
        kind="auspost",
        name="Australia Post eParcel",
        api_base_url=fake_auspost.url,
        credentials={"api_key": "ap_key", "password": "ap_pass", "account_number": "1234567890"},
        default_service="7E55",
    )


@pytest.fixture
def fake_fourpx():
    from channels_sync.fakes.fourpx import FakeFourPX

    fake = FakeFourPX()
    with FakeServer(fake) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def fourpx_carrier(fake_fourpx):
    from channels_sync.models import Carrier

    return Carrier.objects.create(
        kind="fourpx",
        name="4PX direct express",
        api_base_url=fake_fourpx.url,
        credentials={"app_key": "fpx_key", "app_secret": "fpx_secret"},
        default_service="A1",
    )


@pytest.fixture
def fake_aramex():
    from channels_sync.fakes.aramex import FakeAramex

    fake = FakeAramex()
    with FakeServer(fake) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def aramex_carrier(fake_aramex):
    from channels_sync.models import Carrier

    return Carrier.objects.create(
        kind="aramex",
        name="Aramex Australia",
        api_base_url=fake_aramex.url,
        credentials={"client_id": "arx_client", "client_secret": "arx_secret"},
        default_service="P",
    )
