"""Fakes of the order endpoints of eBay (Sell Fulfillment API), Kogan (marketplace seller API)
and the merchant's own REST shop, each on top of that platform's product fake, enforcing what
the adapters rely on (see ``adapters/ebay_orders.py``, ``kogan_orders.py``, ``rest_orders.py``):

- eBay: ``GET /sell/fulfillment/v1/order`` with ``filter=lastmodifieddate:[<time>..]``,
  ``limit`` (at most 200) and ``offset``, ``next`` only when another page exists;
  ``GET /order/{id}``, ``GET|POST /order/{id}/shipping_fulfillment`` (201 + ``Location``;
  ``shippingCarrierCode`` and ``trackingNumber`` both or neither).
- Kogan: ``GET /orders/?status=ReleasedForShipment`` (refuses another status) listing only the
  orders waiting for dispatch, optionally answering ``AsyncResponsePending`` first
  (``pending_first``); ``GET /orders/{ID}/``; ``POST /orders/fulfill/`` checking item ids and
  carrier codes.
- REST: ``GET /orders`` with ``updated_since``, ``cursor`` and ``limit`` (at most 200),
  ``POST /orders/<id>/fulfilments`` requiring ``Idempotency-Key`` (the same key replays).

Orders are added, edited (a line's quantity) and cancelled by the tests; every change moves the
order's modification time (Kogan has none).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from werkzeug.wrappers import Request, Response

from channels_sync.fakes.base import json_response
from channels_sync.fakes.ebay import FakeEbay
from channels_sync.fakes.kogan import FakeKogan
from channels_sync.fakes.rest import FakeRestShop

KOGAN_CARRIERS = {"AUP", "ST", "TIPC", "DHL", "FDX", "UPS", "CP", "ARAMEX", "FW", "TNT"}


@dataclass
class BookOrder:
    number: int
    created_at: datetime
    updated_at: datetime
    address: tuple  # name, line1, city, state, postcode, country
    lines: list[dict]  # {id, sku, quantity, price}
    cancelled: bool = False
    fulfilments: list[dict] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return str(self.number)


class OrderBook:
    """The orders one fake holds, with a clock that moves forward on every change."""

    def __init__(self) -> None:
        self.orders: dict[str, BookOrder] = {}
        self._clock = datetime.now(UTC).replace(microsecond=0)

    def _tick(self) -> datetime:
        self._clock = max(datetime.now(UTC), self._clock + timedelta(milliseconds=5))
        return self._clock

    def add_order(self, lines, *, address, price: str = "10.00") -> BookOrder:
        number = 7001 + len(self.orders)
        now = self._tick()
        order = BookOrder(
            number,
            now,
            now,
            address,
            [
                {"id": f"{number}-{i}", "sku": sku, "quantity": qty, "price": price}
                for i, (sku, qty) in enumerate(lines)
            ],
        )
        self.orders[order.ref] = order
        return order

    def edit_order(self, ref: str, *, sku: str, quantity: int) -> None:
        order = self.orders[str(ref)]
        for line in order.lines:
            if line["sku"] == sku:
                line["quantity"] = quantity
        order.updated_at = self._tick()

    def cancel_order(self, ref: str) -> None:
        order = self.orders[str(ref)]
        order.cancelled = True
        order.updated_at = self._tick()


def _ebay_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class FakeEbayOrders(FakeEbay, OrderBook):
    def __init__(self, **kwargs):
        FakeEbay.__init__(self, **kwargs)
        OrderBook.__init__(self)

    def _node(self, o: BookOrder) -> dict:
        name, line1, city, state, postcode, country = o.address
        total = sum(float(li["price"]) * li["quantity"] for li in o.lines)
        shipped = {li["lineItemId"] for f in o.fulfilments for li in f["lineItems"]}
        return {
            "orderId": o.ref,
            "creationDate": _ebay_time(o.created_at),
            "lastModifiedDate": _ebay_time(o.updated_at),
            "orderFulfillmentStatus": "FULFILLED" if o.fulfilments else "NOT_STARTED",
            "cancelStatus": {"cancelState": "CANCELED" if o.cancelled else "NONE_REQUESTED"},
            "buyer": {"username": "buyer_1"},
            "pricingSummary": {"total": {"value": f"{total:.2f}", "currency": "AUD"}},
            "fulfillmentStartInstructions": [
                {
                    "shippingStep": {
                        "shipTo": {
                            "fullName": name,
                            "email": "buyer@example.com",
                            "contactAddress": {
                                "addressLine1": line1,
                                "city": city,
                                "stateOrProvince": state,
                                "postalCode": postcode,
                                "countryCode": country,
                            },
                        }
                    }
                }
            ],
            "lineItems": [
                {
                    "lineItemId": li["id"],
                    "sku": li["sku"],
                    "title": li["sku"],
                    "quantity": li["quantity"],
                    "lineItemCost": {
                        "value": f"{float(li['price']) * li['quantity']:.2f}",
                        "currency": "AUD",
                    },
                    "lineItemFulfillmentStatus": "FULFILLED"
                    if li["id"] in shipped
                    else "NOT_STARTED",
                }
                for li in o.lines
            ],
        }

    def handle(self, request: Request) -> Response:
        prefix = "/sell/fulfillment/v1"
        if not request.path.startswith(prefix):
            return super().handle(request)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return json_response({"errors": [{"errorId": 1001, "message": "Invalid token"}]}, 401)
        path = request.path.removeprefix(prefix)
        with self.lock:
            if path == "/order" and request.method == "GET":
                limit = int(request.args.get("limit", 50))
                if not 1 <= limit <= 200:
                    return json_response({"errors": [{"errorId": 32100, "message": "limit"}]}, 400)
                offset = int(request.args.get("offset", 0))
                rows = sorted(self.orders.values(), key=lambda o: o.created_at)
                spec = request.args.get("filter") or ""
                if spec:
                    if not (spec.startswith("lastmodifieddate:[") and spec.endswith("..]")):
                        return json_response(
                            {"errors": [{"errorId": 30700, "message": "bad filter"}]}, 400
                        )
                    since = _parse(spec.removeprefix("lastmodifieddate:[").removesuffix("..]"))
                    rows = [o for o in rows if o.updated_at >= since]
                page = rows[offset : offset + limit]
                body = {
                    "total": len(rows),
                    "offset": offset,
                    "limit": limit,
                    "orders": [self._node(o) for o in page],
                }
                if offset + limit < len(rows):
                    body["next"] = f"{prefix}/order?limit={limit}&offset={offset + limit}"
                return json_response(body)
            parts = path.strip("/").split("/")
            order = self.orders.get(parts[1]) if len(parts) >= 2 else None
            if order is None:
                return json_response({"errors": [{"errorId": 32100, "message": "no order"}]}, 404)
            if len(parts) == 2:
                return json_response(self._node(order))
            if parts[2] == "shipping_fulfillment" and request.method == "GET":
                return json_response(
                    {"fulfillments": order.fulfilments, "total": len(order.fulfilments)}
                )
            if parts[2] == "shipping_fulfillment" and request.method == "POST":
                body = request.get_json(force=True) or {}
                if bool(body.get("trackingNumber")) != bool(body.get("shippingCarrierCode")):
                    return json_response({"errors": [{"errorId": 32600, "message": "both"}]}, 400)
                fulfilment = {
                    "fulfillmentId": body.get("trackingNumber") or "999",
                    "shipmentTrackingNumber": body.get("trackingNumber"),
                    "shippingCarrierCode": body.get("shippingCarrierCode"),
                    "lineItems": body.get("lineItems") or [],
                }
                order.fulfilments.append(fulfilment)
                order.updated_at = self._tick()
                location = (
                    f"{request.host_url.rstrip('/')}{request.path}/{fulfilment['fulfillmentId']}"
                )
                return Response(status=201, headers={"Location": location})
        return json_response({"errors": [{"message": "not found"}]}, 404)


class FakeKoganOrders(FakeKogan, OrderBook):
    def __init__(self, *, pending_first: bool = False, **kwargs):
        FakeKogan.__init__(self, **kwargs)
        OrderBook.__init__(self)
        self.pending_first = pending_first
        self.dispatched: dict[str, list[dict]] = {}

    def _node(self, o: BookOrder) -> dict:
        name, line1, city, state, postcode, country = o.address
        first, _sep, last = name.partition(" ")
        address = {
            "FirstName": first,
            "LastName": last,
            "AddressLine1": line1,
            "AddressLine2": "",
            "City": city,
            "StateOrProvince": state,
            "PostalCode": postcode,
            "Country": country,
            "EmailAddress": "buyer@example.com",
        }
        total = sum(float(li["price"]) * li["quantity"] for li in o.lines)
        status = "Canceled" if o.cancelled else "Shipped" if o.ref in self.dispatched else None
        return {
            "ID": o.ref,
            "OrderLabel": f"K{o.number}",
            "OrderDateUtc": o.created_at.isoformat(),
            "OrderStatus": status or "ReleasedForShipment",
            "Currency": "AUD",
            "TotalPrice": round(total, 2),
            "ShippingAddress": address,
            "BuyerAddress": address,
            "Items": [
                {
                    "ID": li["id"],
                    "SellerSku": li["sku"],
                    "ProductTitle": li["sku"],
                    "Quantity": li["quantity"],
                    "UnitPrice": float(li["price"]),
                }
                for li in o.lines
            ],
            "CancelledItems": [],
            "DispatchedItems": self.dispatched.get(o.ref, []),
        }

    def _answer(self, body) -> Response:
        return json_response({"status": "Complete", "pending_url": None, "body": body})

    def handle(self, request: Request) -> Response:
        path = request.path.removeprefix("/api/marketplace/v2")
        if not path.startswith(("/orders", "/task")):
            return super().handle(request)
        if (request.headers.get("SellerID"), request.headers.get("SellerToken")) != (
            self.seller_id,
            self.token,
        ):
            return json_response({"status": "Failed", "error": "authentication failed"}, 401)
        with self.lock:
            if path == "/orders/" and request.method == "GET":
                if request.args.get("status") != "ReleasedForShipment":
                    return json_response(
                        {"status": "Failed", "error": "status must be ReleasedForShipment"}, 400
                    )
                if self.pending_first:
                    self.pending_first = False
                    url = f"{request.host_url.rstrip('/')}/api/marketplace/v2/task/1/"
                    return json_response({"status": "AsyncResponsePending", "pending_url": url})
                return self._open_orders()
            if path == "/task/1/":
                return self._open_orders()
            if path == "/orders/fulfill/" and request.method == "POST":
                return self._fulfil(request.get_json(force=True) or [])
            ref = path.removeprefix("/orders/").strip("/")
            if ref in self.orders and request.method == "GET":
                return self._answer(self._node(self.orders[ref]))
        return json_response({"status": "Failed", "error": "not found"}, 404)

    def _open_orders(self) -> Response:
        return self._answer(
            [
                self._node(o)
                for o in self.orders.values()
                if not o.cancelled and o.ref not in self.dispatched
            ]
        )

    def _fulfil(self, rows: list[dict]) -> Response:
        results = []
        for row in rows:
            order = self.orders.get(str(row.get("ID")))
            errors = []
            if order is None:
                errors.append({"ErrorCode": "OrderNotFound", "Message": "no such order"})
            else:
                ids = {li["id"] for li in order.lines}
                for item in row.get("Items") or []:
                    if item.get("OrderItemID") not in ids:
                        errors.append({"ErrorCode": "ItemNotFound", "Message": "no such item"})
                    if item.get("ShippingCarrier") not in KOGAN_CARRIERS:
                        errors.append({"ErrorCode": "InvalidCarrier", "Message": "unknown carrier"})
                if not errors:
                    self.dispatched.setdefault(order.ref, []).extend(
                        {
                            "ID": item["OrderItemID"],
                            "Quantity": item["Quantity"],
                            "SellerSku": item["SellerSku"],
                            "DispatchDateUtc": item["ShippedDateUtc"],
                            "Carrier": item["ShippingCarrier"],
                            "TrackingNumber": item["TrackingNumber"],
                        }
                        for item in row["Items"]
                    )
            results.append(
                {"ID": row.get("ID"), "Result": "Failed" if errors else "Success", "Errors": errors}
            )
        return self._answer(results)


class FakeRestShopOrders(FakeRestShop, OrderBook):
    def __init__(self, **kwargs):
        FakeRestShop.__init__(self, **kwargs)
        OrderBook.__init__(self)
        self.fulfilments: dict[str, dict] = {}

    def variant_of(self, sku: str) -> str:
        return next(p["variant_id"] for p in self.products if p["sku"] == sku)

    def _node(self, o: BookOrder) -> dict:
        name, line1, city, state, postcode, country = o.address
        return {
            "id": o.ref,
            "number": f"R{o.number}",
            "created_at": o.created_at.isoformat(),
            "updated_at": o.updated_at.isoformat(),
            "status": "cancelled" if o.cancelled else "open",
            "customer": {"name": name, "email": "buyer@example.com"},
            "shipping_address": {
                "name": name,
                "line1": line1,
                "city": city,
                "state": state,
                "postcode": postcode,
                "country": country,
            },
            "total": f"{sum(float(li['price']) * li['quantity'] for li in o.lines):.2f}",
            "currency": "AUD",
            "lines": [
                {
                    "id": li["id"],
                    "variant_id": self.variant_of(li["sku"]),
                    "sku": li["sku"],
                    "title": li["sku"],
                    "quantity": li["quantity"],
                    "price": li["price"],
                }
                for li in o.lines
            ],
        }

    def handle(self, request: Request) -> Response:
        if "/orders" not in request.path:
            return super().handle(request)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return json_response({"error": "unauthorized"}, 401)
        with self.lock:
            if request.path.endswith("/orders") and request.method == "GET":
                limit = int(request.args.get("limit", 50))
                if not 1 <= limit <= 200:
                    return json_response({"error": "limit must be 1 to 200"}, 422)
                rows = sorted(self.orders.values(), key=lambda o: (o.updated_at, o.number))
                since = request.args.get("updated_since")
                if since:
                    rows = [o for o in rows if o.updated_at >= _parse(since)]
                cursor = request.args.get("cursor")
                if cursor:
                    at, number = cursor.split("|")
                    rows = [
                        o for o in rows if (o.updated_at.isoformat(), o.number) > (at, int(number))
                    ]
                page = rows[:limit]
                nxt = (
                    f"{page[-1].updated_at.isoformat()}|{page[-1].number}"
                    if len(rows) > limit
                    else None
                )
                return json_response({"orders": [self._node(o) for o in page], "next_cursor": nxt})
            if request.path.endswith("/fulfilments") and request.method == "POST":
                key = request.headers.get("Idempotency-Key")
                if not key:
                    return json_response({"error": "Idempotency-Key header required"}, 400)
                if key in self.fulfilments:
                    return json_response({**self.fulfilments[key], "replayed": True})
                ref = request.path.rsplit("/orders/", 1)[-1].removesuffix("/fulfilments")
                if ref not in self.orders:
                    return json_response({"error": "no such order"}, 404)
                body = request.get_json(force=True) or {}
                answer = {"id": f"F{len(self.fulfilments) + 1}", "order": ref, **body}
                self.fulfilments[key] = answer
                return json_response({**answer, "replayed": False})
        return json_response({"error": "not found"}, 404)
