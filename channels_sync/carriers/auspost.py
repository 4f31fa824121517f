"""Australia Post Shipping and Tracking API (developers.auspost.com.au, base
``https://digitalapi.auspost.com.au/shipping/v1``).

Followed as documented: HTTP Basic authentication with the API key and password, and the
``Account-Number`` header on every call;
- ``POST /shipments`` with ``{"shipments": [{shipment_reference, customer_reference_1,
  customer_reference_2, from, to, items: [{item_reference, product_id, weight, ...}]}]}`` (addresses: ``name, lines[],
  suburb, state, postcode, country, phone, email``); the answer's ``shipments[].shipment_id``
  and ``items[].tracking_details.article_id / consignment_id``;
- ``GET /shipments?offset=0&number_of_shipments=N&sender_reference=<ref>``: the shipments
  already created with our reference (how a retry finds the booking an earlier attempt made).
  The Get Shipments reference (developers.auspost.com.au, Shipping and Tracking, "Get
  shipments"; read here from a public copy of that page, the portal's own page being rendered
  by script) names the filter ``sender_reference`` (singular, comma-separated values) and
  makes ``offset`` with ``number_of_shipments`` required unless ``shipment_ids`` is given; it
  matches the shipment's sender references, which ``customer_reference_1`` / ``_2`` fill
  (the Create Domestic Shipments reference; the answer lists them as ``sender_references``).
  So our reference is sent as ``shipment_reference`` and as ``customer_reference_1``. The
  create is sent once per attempt and the reference looked up again before another, so a
  create whose answer was lost is found, not booked twice;
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
    create_or_find,
    send_once,
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
        params = {"offset": 0, "number_of_shipments": 20, "sender_reference": reference}
        found = self._call("GET", "/shipments", params=params)
        for shipment in found.get("shipments") or []:
            refs = set(shipment.get("sender_references") or [])
            refs.add(shipment.get("customer_reference_1") or "")
            if reference in refs or shipment.get("shipment_reference") == reference:
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

    def _create(self, request: ShipmentRequest) -> dict:
        body = {
            "shipments": [
                {
                    "shipment_reference": request.reference,
                    "customer_reference_1": request.reference[:50],
                    "customer_reference_2": request.order_name[:50],
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
        response = send_once(self.http, "POST", PREFIX + "/shipments", json=body)
        created = response.json().get("shipments") or []
        if not created:
            raise CarrierError("Australia Post returned no shipment", transient=False)
        return created[0]

    def book_shipment(self, request: ShipmentRequest) -> Booking:
        shipment = self._find(request.reference)
        existed = shipment is not None
        if shipment is None:
            shipment, existed = create_or_find(
                lambda: self._create(request), lambda: self._find(request.reference), self.http
            )
        items = shipment.get("items") or [{}]
        details = items[0].get("tracking_details") or {}
        tracking = details.get("article_id") or details.get("consignment_id") or ""
        return Booking(
            carrier_ref=shipment["shipment_id"],
            tracking_number=tracking,
            label_pdf=self._label(shipment["shipment_id"]),
            existed=existed,
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
