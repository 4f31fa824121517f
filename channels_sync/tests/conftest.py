import pytest

from channels_sync.fakes import FakeServer
from channels_sync.fakes.shopify import FakeShopify


@pytest.fixture
def fake_shopify():
    fake = FakeShopify()
    with FakeServer(fake) as server:
        fake.url = server.url
        yield fake


def no_sleep(_seconds: float) -> None:
    return None
