"""Orders on platforms: what an adapter returns (``PlatformOrder``), and the order half of the
adapter interface (``OrderSource``: ``iter_order_pages(since)``, ``report_fulfilment``).

``order_source_for(shop)`` picks the platform's implementation; platforms without one raise
``ChannelError`` (a clear message on the screen, nothing pulled).
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class PlatformOrderLine:
    line_ref: str
    variant_ref: str
    sku: str
    title: str
    quantity: int
    price: Decimal


@dataclass(frozen=True)
class PlatformOrder:
    order_ref: str
    name: str
    updated_at: datetime
    placed_at: datetime | None
    cancelled: bool
    customer_name: str
    customer_email: str
    ship_name: str
    address1: str
    address2: str
    city: str
    state: str
    postcode: str
    country: str
    total: Decimal
    currency: str
    lines: tuple[PlatformOrderLine, ...] = field(default_factory=tuple)

    def fingerprint(self) -> str:
        """A hash of what the order says (not when): two equal versions hash the same. The
        JSON of ``dataclasses.asdict`` without ``updated_at``, built directly (``asdict``
        deep-copies every value: a pull hashes thousands of orders)."""
        data = {f: getattr(self, f) for f in _ORDER_FIELDS}
        data["lines"] = [{f: getattr(li, f) for f in _LINE_FIELDS} for li in self.lines]
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


_ORDER_FIELDS = tuple(
    f.name for f in fields(PlatformOrder) if f.name not in ("updated_at", "lines")
)
_LINE_FIELDS = tuple(f.name for f in fields(PlatformOrderLine))


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 time as the platforms send it (``Z`` or an offset), or None."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def carrier_code(carrier: str, codes: dict[str, str], default: str) -> str:
    """A platform's code for our carrier label (``Australia Post``, ``4PX``, ``Aramex
    (Fastway)``): the first key found in the lower-cased label, else ``default``."""
    label = (carrier or "").lower()
    return next((code for key, code in codes.items() if key in label), default)


@dataclass(frozen=True)
class FulfilmentResult:
    fulfilment_ref: str
    already_reported: bool = False


class OrderSource(ABC):
    #: True when the platform's order list leaves out orders that stopped being open (Kogan
    #: lists only orders waiting for dispatch): the pull then re-reads, with ``recheck``, the
    #: local open orders it did not see, so a cancellation is not missed.
    rechecks_missing: bool = False

    def recheck(self, order_refs: list[str]) -> Iterator[list[PlatformOrder]]:
        """The current version of each of ``order_refs``, page by page (platforms whose list
        already carries every change return nothing)."""
        return iter(())

    @abstractmethod
    def iter_order_pages(self, since: datetime | None) -> Iterator[list[PlatformOrder]]:
        """Orders created or updated at or after ``since`` (all when None), page by page."""

    @abstractmethod
    def report_fulfilment(
        self, *, order_ref: str, carrier: str, tracking_number: str, tracking_url: str = ""
    ) -> FulfilmentResult:
        """Mark the order fulfilled on the platform with its tracking; safe to call twice (a
        fulfilment already carrying ``tracking_number`` is not created again)."""

    def close(self) -> None:
        self.adapter.close()

    @property
    def calls(self) -> int:
        return self.adapter.calls


def order_source_for(shop, **client_options) -> OrderSource:
    from django.utils.translation import gettext as _

    from channels_sync.exceptions import ChannelError

    if shop.platform == "shopify":
        from channels_sync.adapters.shopify_orders import ShopifyOrders

        return ShopifyOrders(shop, **client_options)
    if shop.platform == "ebay":
        from channels_sync.adapters.ebay_orders import EbayOrders

        return EbayOrders(shop, **client_options)
    if shop.platform == "kogan":
        from channels_sync.adapters.kogan_orders import KoganOrders

        return KoganOrders(shop, **client_options)
    if shop.platform == "rest":
        from channels_sync.adapters.rest_orders import RestOrders

        return RestOrders(shop, **client_options)
    raise ChannelError(
        _("Order pull is not available for %(platform)s shops yet.")
        % {"platform": shop.get_platform_display()}
    )
