"""The interface every carrier adapter implements and the dataclasses it returns.

``book_shipment(request)`` must be idempotent on ``request.reference`` (our idempotency key,
one per order): it first looks the reference up at the carrier and returns the existing booking
(with its label) instead of booking again, so a retry after a lost answer or a dead worker is
never a second parcel. The create call itself is sent once per attempt (``send_once``), never
retried blindly: ``create_or_find`` looks the reference up again before each new attempt. ``tracking_events(numbers)`` returns the carrier's scan events.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal

import httpx

from channels_sync.adapters.http import RETRY_STATUSES, HttpClient, PlatformError
from wms.backoff import retry_after_seconds


class CarrierError(PlatformError):
    """A carrier call that failed after its retries (``transient``: trying later may help)."""

    def __init__(self, message: str, *, status=None, transient=True, retry_after=None):
        super().__init__(message, status=status, transient=transient)
        self.retry_after = retry_after


def send_once(http: HttpClient, method: str, url: str, **kwargs) -> httpx.Response:
    """One attempt, no retry: for the call that creates a shipment, which must not be sent
    again before looking up whether the first one was applied (its answer may be lost)."""
    http.calls += 1
    try:
        response = http.client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise CarrierError(f"timed out: {type(exc).__name__}", transient=True) from exc
    except httpx.TransportError as exc:
        raise CarrierError(f"cannot reach the carrier: {type(exc).__name__}") from exc
    if response.status_code >= 400:
        raise CarrierError(
            f"HTTP {response.status_code}: {response.text[:300]}",
            status=response.status_code,
            transient=response.status_code in RETRY_STATUSES,
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    return response


def create_or_find(create, find, http: HttpClient):
    """Create a shipment at most once per reference: ``find()`` (a look-up by our reference,
    itself retried) runs before every new attempt, so a create whose answer was lost (timeout,
    500 after the carrier applied it, a refusal because the reference exists) is found instead
    of booked twice. Transient failures back off like every call (``Retry-After`` honoured);
    after the last attempt the failure is raised. Returns (shipment, found_by_look_up)."""
    policy = http.retry
    last: CarrierError | None = None
    for attempt in range(policy.attempts):
        try:
            return create(), False
        except CarrierError as exc:
            last = exc
        found = find()
        if found is not None:
            return found, True
        if not last.transient:
            raise last
        if attempt + 1 < policy.attempts:
            http.sleep(policy.delay(attempt, last.retry_after))
    assert last is not None
    raise last


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
