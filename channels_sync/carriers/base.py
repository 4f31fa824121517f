"""The interface every carrier adapter implements and the dataclasses it returns.

``book_shipment(request)`` must be idempotent on ``request.reference`` (our idempotency key,
one per order): it first looks the reference up at the carrier and returns the existing booking
(with its label) instead of booking again, so a retry after a lost answer or a dead worker is
never a second parcel. ``tracking_events(numbers)`` returns the carrier's scan events.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal

from channels_sync.adapters.http import PlatformError


class CarrierError(PlatformError):
    """A carrier call that failed after its retries (``transient``: trying later may help)."""


@dataclass(frozen=True)
class Address:
    name: str
    lines: tuple[str, ...]
    suburb: str
    state: str
    postcode: str
    country: str
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class ShipmentRequest:
    reference: str  # our idempotency key
    order_name: str
    service: str
    sender: Address
    recipient: Address
    weight_kg: Decimal
    value: Decimal
    currency: str
    contents: tuple[tuple[str, str, int], ...] = field(default_factory=tuple)  # sku, title, qty


@dataclass(frozen=True)
class Booking:
    carrier_ref: str
    tracking_number: str
    label_pdf: bytes
    existed: bool = False  # found by reference: booked by an earlier attempt


@dataclass(frozen=True)
class TrackingEvent:
    at: str
    description: str
    location: str = ""
    delivered: bool = False


class CarrierAdapter(ABC):
    @abstractmethod
    def book_shipment(self, request: ShipmentRequest) -> Booking: ...

    @abstractmethod
    def tracking_events(self, tracking_numbers: list[str]) -> dict[str, list[TrackingEvent]]: ...

    def close(self) -> None:
        self.http.close()
