"""The interface every platform adapter implements, and the dataclasses it returns.

Adapters never return raw JSON: products come back as ``PlatformProduct``, stock levels as
``int`` per ``item_ref``, set results as ``LevelResult``. Issue 12 adds ``list_orders_since`` and
``report_fulfilment`` to this interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PlatformProduct:
    product_ref: str
    variant_ref: str
    item_ref: str
    sku: str
    barcode: str
    title: str
    status: str  # active / draft / archived / deleted
    updated_at: datetime | None


@dataclass(frozen=True)
class LevelUpdate:
    """Set ``item_ref`` to ``quantity``; ``expected`` is what we believe the platform holds
    (compare-and-set where the platform has it; None: unknown, read it first)."""

    item_ref: str
    quantity: int
    expected: int | None


@dataclass(frozen=True)
class LevelResult:
    item_ref: str
    ok: bool
    previous: int | None
    message: str = ""
    stale: bool = False  # the platform's value was not ``expected``: re-read and retry


@dataclass(frozen=True)
class Deletions:
    """What a platform's deletion feed says was deleted: whole products and single variants."""

    product_refs: frozenset[str] = frozenset()
    variant_refs: frozenset[str] = frozenset()


class PlatformAdapter(ABC):
    #: how many quantities one set_levels call may carry (the platform's documented limit)
    batch_size: int = 1
    #: a stored ``set_levels`` request may be sent again after a worker died mid-call: the
    #: platform replays a key it has seen (idempotency) and refuses a quantity whose
    #: ``expected`` no longer holds (compare-and-set), so an old request never overwrites a
    #: newer quantity. Without both, the push recomputes the goods instead (services.push).
    safe_replay: bool = False

    @abstractmethod
    def iter_product_pages(self, since: datetime | None) -> Iterator[list[PlatformProduct]]:
        """Products changed since ``since`` (all when None), page by page."""

    def deleted_since(self, since: datetime) -> Deletions | None:
        """Products/variants deleted on the platform since ``since``, for an incremental sync,
        where the platform documents a way to see them; ``None`` where it has none (a deleted
        product then simply stops appearing, and only a full reconcile notices: see
        ``services.products``)."""
        return None

    @abstractmethod
    def get_levels(self, item_refs: list[str]) -> dict[str, int]:
        """Current sellable quantity on the platform per item."""

    @abstractmethod
    def set_levels(self, updates: list[LevelUpdate], *, idempotency_key: str) -> list[LevelResult]:
        """Set at most ``batch_size`` quantities in one call."""

    def learned(self) -> dict[str, str]:
        """Shop settings this adapter had to look up on the platform because the shop left
        them empty (Shopify's location): the push keeps them on the shop, so the next run does
        not ask again."""
        return {}

    def close(self) -> None:
        client = getattr(self, "http", None)
        if client is not None:
            client.close()

    @property
    def calls(self) -> int:
        return self.http.calls
