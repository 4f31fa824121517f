"""Australia Post Shipping and Tracking API (developers.auspost.com.au, base
``https://digitalapi.auspost.com.au/shipping/v1``).

Followed as documented: HTTP Basic authentication with the API key and password, and the
``Account-Number`` header on every call;
- ``POST /shipments`` with ``{"shipments": [{shipment_reference, customer_reference_1, from,
  to, items: [{item_reference, product_id, weight, ...}]}]}`` (addresses: ``name, lines[],
  suburb, state, postcode, country, phone, email``); the answer's ``shipments[].shipment_id``
  and ``items[].tracking_details.article_id / consignment_id``;
- ``GET /shipments?sender_references=<ref>``: the shipments already created with our reference
  (how a retry finds the booking an earlier attempt made);
- ``POST /labels`` with ``{"wait_for_label_url": true, "preferences": [{"type": "PRINT",
  "format": "PDF", "groups": [...]}], "shipments": [{"shipment_id": ...}]}`` -> ``labels[]
  {request_id, url, status}``; the PDF is downloaded from ``url``;
- ``GET /track?tracking_ids=a,b`` (at most 10 ids a call) -> ``tracking_results[] {tracking_id,
  status, trackable_items[] {events[] {location, description, date}}}``.
Product ids (services) are the merchant's contract codes, e.g. ``7E55`` parcel post, ``7J55``
express post.
"""

from __future__ import annotations

import httpx

from channels_sync.adapters.http import HttpClient, PlatformError
from channels_sync.carriers.base import (
    Address,
    Booking,
    CarrierAdapter,
    CarrierError,
    ShipmentRequest,
    TrackingEvent,
)

BASE = "https://digitalapi.auspost.com.au"
PREFIX = "/shipping/v1"
TRACK_BATCH = 10


def _address(a: Address) -> dict:
    data = {
        "name": a.name[:40],
        "lines": [line[:40] for line in a.lines if line][:3] or ["-"],
        "suburb": a.suburb,
        "state": a.state,
        "postcode": a.postcode,
        "country": a.country or "AU",
    }
    if a.phone:
        data["phone"] = a.phone
    if a.email:
        data["email"] = a.email
    return data


class AusPostCarrier(CarrierAdapter):
    def __init__(self, carrier, **client_options):
        creds = dict(carrier.credentials or {})
        base = (carrier.api_base_url or BASE).rstrip("/")
        self.http = HttpClient(
            base,
            headers={
                "Account-Number": creds.get("account_number", ""),
                "Accept": "application/json",
            },
            **client_options,
        )
        self.http.client.auth = httpx.BasicAuth(creds.get("api_key", ""), creds.get("password", ""))
        self.default_service = carrier.default_service or "7E55"

    def _call(self, method: str, path: str, **kwargs) -> dict:
        try:
            return self.http.request(method, PREFIX + path, **kwargs).json()
        except PlatformError as exc:
            raise CarrierError(str(exc), status=exc.status, transient=exc.transient) from exc

    def _find(self, reference: str) -> dict | None:
        found = self._call("GET", "/shipments", params={"sender_references": reference})
        for shipment in found.get("shipments") or []:
            if shipment.get("shipment_reference") == reference:
                return shipment
        return None

    def _label(self, shipment_id: str) -> bytes:
        body = {
            "wait_for_label_url": True,
            "preferences": [
                {
                    "type": "PRINT",
                    "format": "PDF",
                    "groups": [{"group": "Parcel Post", "layout": "A4-1pp", "branded": True}],
                }
            ],
            "shipments": [{"shipment_id": shipment_id}],
        }
        labels = self._call("POST", "/labels", json=body).get("labels") or []
        if not labels or not labels[0].get("url"):
            raise CarrierError("the label is not ready yet", transient=True)
        try:
            response = self.http.request("GET", labels[0]["url"])
        except PlatformError as exc:
            raise CarrierError(str(exc), status=exc.status, transient=exc.transient) from exc
        return response.content

    def book_shipment(self, request: ShipmentRequest) -> Booking:
        existing = self._find(request.reference)
        shipment = existing
        if shipment is None:
            body = {
                "shipments": [
                    {
                        "shipment_reference": request.reference,
                        "customer_reference_1": request.order_name[:50],
                        "from": _address(request.sender),
                        "to": _address(request.recipient),
                        "items": [
                            {
                                "item_reference": f"{request.reference}-1",
                                "product_id": request.service or self.default_service,
                                "weight": f"{max(request.weight_kg, 0.01):.3f}",
                                "authority_to_leave": False,
                            }
                        ],
                    }
                ]
            }
            created = self._call("POST", "/shipments", json=body).get("shipments") or []
            if not created:
                raise CarrierError("Australia Post returned no shipment", transient=False)
            shipment = created[0]
        items = shipment.get("items") or [{}]
        details = items[0].get("tracking_details") or {}
        tracking = details.get("article_id") or details.get("consignment_id") or ""
        return Booking(
            carrier_ref=shipment["shipment_id"],
            tracking_number=tracking,
            label_pdf=self._label(shipment["shipment_id"]),
            existed=existing is not None,
        )

    def tracking_events(self, tracking_numbers: list[str]) -> dict[str, list[TrackingEvent]]:
        found: dict[str, list[TrackingEvent]] = {}
        for start in range(0, len(tracking_numbers), TRACK_BATCH):
            chunk = tracking_numbers[start : start + TRACK_BATCH]
            body = self._call("GET", "/track", params={"tracking_ids": ",".join(chunk)})
            for result in body.get("tracking_results") or []:
                delivered = (result.get("status") or "").lower() == "delivered"
                events = []
                for item in result.get("trackable_items") or []:
                    for e in item.get("events") or []:
                        events.append(
                            TrackingEvent(
                                at=e.get("date", ""),
                                description=e.get("description", ""),
                                location=e.get("location", ""),
                            )
                        )
                if delivered and events:
                    events[0] = TrackingEvent(
                        events[0].at, events[0].description, events[0].location, delivered=True
                    )
                found[result.get("tracking_id", "")] = events
        return found
