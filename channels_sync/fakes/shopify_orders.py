"""The Shopify fake with orders: the ``orders`` connection (sorted by ``updatedAt``, opaque
cursors, the ``updated_at:>=`` search), ``order { fulfillmentOrders fulfillments }`` and
``fulfillmentCreate`` (one fulfilment per open fulfilment order; closing it), as shopify.dev
documents them; orders can be edited and cancelled while a client pages (a moved order shows up
again on a later page, as on the real platform). ``demo_orders_per_pull`` makes each first page
of a pull create that many new orders of the demo variants (``make run``)."""

from __future__ import annotations

import base64
import json
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from werkzeug.wrappers import Request, Response

from channels_sync.fakes.base import json_response
from channels_sync.fakes.shopify import FakeShopify

DEMO_ADDRESSES = [
    ("Mia Chen", "12 George St", "Sydney", "NSW", "2000", "AU"),
    ("Liam Smith", "5 Collins St", "Melbourne", "VIC", "3000", "AU"),
    ("Ava Brown", "88 Queen St", "Brisbane", "QLD", "4000", "AU"),
    ("王芳", "中山路 1 号", "上海", "SH", "200001", "CN"),
]


@dataclass
class FakeOrder:
    number: int
    name: str
    updated_at: datetime
    created_at: datetime
    address: dict
    lines: list[dict]  # {number, variant, sku, title, quantity, current, price}
    email: str = "buyer@example.com"
    customer: str = "A buyer"
    cancelled_at: datetime | None = None
    fulfillments: list[dict] = field(default_factory=list)
    fulfillment_order_status: str = "OPEN"

    @property
    def id(self) -> str:
        return f"gid://shopify/Order/{self.number}"


MAX_QUERY_COST = 1000  # shopify.dev: the maximum cost of a single query


def _cost_exceeded(cost: int) -> Response:
    return json_response(
        {
            "errors": [
                {
                    "message": f"Query cost is {cost}, which exceeds the single query max cost "
                    f"limit ({MAX_QUERY_COST}).",
                    "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost},
                }
            ]
        }
    )


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeShopifyOrders(FakeShopify):
    def __init__(self, *args, demo_orders_per_pull: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.orders: dict[int, FakeOrder] = {}
        self.demo_orders_per_pull = demo_orders_per_pull
        self.fulfillment_creates = 0
        self._clock_at = datetime.now(UTC)

    def _tick(self) -> datetime:
        now = datetime.now(UTC)
        self._clock_at = max(now, self._clock_at + timedelta(microseconds=1000))
        return self._clock_at

    # -- seeding -----------------------------------------------------------------------------
    def add_order(
        self,
        lines: list[tuple[str, int]],
        *,
        address: tuple = DEMO_ADDRESSES[0],
        price: str = "10.00",
        customer: str = "A buyer",
    ) -> FakeOrder:
        """``lines``: (sku, quantity); the sku must be a variant's."""
        with self.lock:
            number = 5001 + len(self.orders)
            by_sku = {v.sku: v for v in self.variants.values() if v.sku}
            now = self._tick()
            name, address1, city, province, zip_code, country = address
            order = FakeOrder(
                number=number,
                name=f"#{number}",
                updated_at=now,
                created_at=now,
                customer=customer,
                address={
                    "name": name,
                    "address1": address1,
                    "address2": None,
                    "city": city,
                    "province": province,
                    "provinceCode": province,
                    "zip": zip_code,
                    "countryCodeV2": country,
                },
                lines=[
                    {
                        "number": number * 10 + i,
                        "variant": by_sku[sku].id if sku in by_sku else None,
                        "sku": sku,
                        "title": by_sku[sku].product_title if sku in by_sku else sku,
                        "quantity": qty,
                        "current": qty,
                        "price": price,
                    }
                    for i, (sku, qty) in enumerate(lines)
                ],
            )
            self.orders[number] = order
            return order

    def edit_order(self, number: int, *, sku: str, quantity: int) -> None:
        with self.lock:
            order = self.orders[number]
            for line in order.lines:
                if line["sku"] == sku:
                    line["current"] = quantity
            order.updated_at = self._tick()

    def cancel_order(self, number: int) -> None:
        with self.lock:
            order = self.orders[number]
            order.cancelled_at = order.updated_at = self._tick()

    def demo_generate(self, count: int) -> None:
        skus = [v.sku for v in self.variants.values() if v.sku and v.sku != "HB-LAGER-SINGLE"]
        for _ in range(count):
            picks = random.sample(skus, k=min(len(skus), random.randint(1, 2)))  # noqa: S311
            self.add_order(
                [(sku, random.randint(1, 3)) for sku in picks],  # noqa: S311
                address=random.choice(DEMO_ADDRESSES),  # noqa: S311
            )

    # -- HTTP --------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        body = request.get_json(force=True, silent=True) or {}
        query = body.get("query") or ""
        if not any(
            k in query
            for k in ("query Orders", "query OrderLines", "OrderFulfillment", "fulfillmentCreate")
        ):
            return super().handle(request)
        if not re.fullmatch(r"/admin/api/[0-9]{4}-[0-9]{2}/graphql\.json", request.path):
            return json_response({"errors": "Not Found"}, 404)
        if request.headers.get("X-Shopify-Access-Token") != self.token:
            return json_response({"errors": "[API] Invalid API key or access token"}, 401)
        variables = body.get("variables") or {}
        with self.lock:
            self.graphql_calls += 1
            if "query Orders" in query:
                first = min(int(variables.get("first") or 50), 250)
                match = re.search(r"lineItems\(first:\s*(\d+)", query)
                cost = first * (4 + 2 + 3 * int(match.group(1) if match else 10)) + 2
                if cost > MAX_QUERY_COST:
                    return _cost_exceeded(cost)
                if not variables.get("after") and self.demo_orders_per_pull:
                    self.demo_generate(self.demo_orders_per_pull)
                lines = int(match.group(1)) if match else 10
                return self._answer(lambda: self._orders(first, variables, lines), cost=cost)
            if "query OrderLines" in query:
                first = min(int(variables.get("first") or 50), 250)
                cost = 4 + 2 + 3 * first + 2
                if cost > MAX_QUERY_COST:
                    return _cost_exceeded(cost)
                return self._answer(lambda: self._order_lines(variables, first), cost=cost)
            if "OrderFulfillment" in query:
                return self._answer(lambda: self._fulfilment_state(variables.get("id")), 30)
            return self._fulfil(variables)

    def _order_lines(self, variables: dict, first: int) -> dict:
        order = self._find(variables.get("id"))
        if order is None:
            return {"order": None}
        start = int(variables.get("after") or 0)
        items = self._line_nodes(order)[start : start + first]
        return {
            "order": {
                "lineItems": {
                    "nodes": items,
                    "pageInfo": {
                        "hasNextPage": start + first < len(order.lines),
                        "endCursor": str(start + len(items)),
                    },
                }
            }
        }

    def _orders(self, first: int, variables: dict, lines: int = 10) -> dict:
        match = re.search(r"updated_at:>='?([^']+)'?", variables.get("query") or "")
        since = datetime.fromisoformat(match.group(1)) if match else None
        rows = sorted(self.orders.values(), key=lambda o: (o.updated_at, o.number))
        if since is not None:
            rows = [o for o in rows if o.updated_at >= since]
        after = variables.get("after")
        if after:
            at, number = json.loads(base64.b64decode(after))
            key = (datetime.fromisoformat(at), number)
            rows = [o for o in rows if (o.updated_at, o.number) > key]
        page = rows[:first]
        end = page[-1] if page else None
        return {
            "orders": {
                "nodes": [self._node(o, lines) for o in page],
                "pageInfo": {
                    "hasNextPage": len(rows) > first,
                    "endCursor": base64.b64encode(
                        json.dumps([end.updated_at.isoformat(), end.number]).encode()
                    ).decode()
                    if end
                    else None,
                },
            }
        }

    def _line_nodes(self, o: FakeOrder) -> list[dict]:
        return [
            {
                "id": f"gid://shopify/LineItem/{line['number']}",
                "sku": line["sku"],
                "title": line["title"],
                "quantity": line["quantity"],
                "currentQuantity": line["current"],
                "variant": {"id": line["variant"]} if line["variant"] else None,
                "originalUnitPriceSet": {"shopMoney": {"amount": line["price"]}},
            }
            for line in o.lines
        ]

    def _node(self, o: FakeOrder, lines: int = 10) -> dict:
        total = sum(float(line["price"]) * line["current"] for line in o.lines)
        return {
            "id": o.id,
            "name": o.name,
            "createdAt": _iso(o.created_at),
            "updatedAt": _iso(o.updated_at),
            "cancelledAt": _iso(o.cancelled_at) if o.cancelled_at else None,
            "email": o.email,
            "customer": {"displayName": o.customer},
            "shippingAddress": dict(o.address),
            "totalPriceSet": {"shopMoney": {"amount": f"{total:.2f}", "currencyCode": "AUD"}},
            "lineItems": {
                "nodes": self._line_nodes(o)[:lines],
                "pageInfo": {
                    "hasNextPage": len(o.lines) > lines,
                    "endCursor": str(min(lines, len(o.lines))),
                },
            },
        }

    def _find(self, gid: str | None) -> FakeOrder | None:
        match = re.fullmatch(r"gid://shopify/Order/(\d+)", gid or "")
        return self.orders.get(int(match.group(1))) if match else None

    def _fulfilment_state(self, gid: str | None) -> dict:
        order = self._find(gid)
        if order is None:
            return {"order": None}
        return {
            "order": {
                "id": order.id,
                "fulfillmentOrders": {
                    "nodes": [
                        {
                            "id": f"gid://shopify/FulfillmentOrder/{order.number}",
                            "status": order.fulfillment_order_status,
                        }
                    ]
                },
                "fulfillments": [
                    {"id": f["id"], "trackingInfo": [f["tracking"]]} for f in order.fulfillments
                ],
            }
        }

    def _fulfil(self, variables: dict) -> Response:
        data = variables.get("fulfillment") or {}
        groups = data.get("lineItemsByFulfillmentOrder") or []
        errors = []
        order = None
        if not groups:
            errors.append("lineItemsByFulfillmentOrder is required")
        for group in groups:
            match = re.fullmatch(
                r"gid://shopify/FulfillmentOrder/(\d+)", group.get("fulfillmentOrderId") or ""
            )
            order = self.orders.get(int(match.group(1))) if match else None
            if order is None:
                errors.append("Fulfillment order does not exist.")
            elif order.fulfillment_order_status != "OPEN":
                errors.append("Fulfillment order is not in a fulfillable state.")
        if errors or order is None:
            return self._answer(
                lambda: {
                    "fulfillmentCreate": {
                        "fulfillment": None,
                        "userErrors": [{"field": ["fulfillment"], "message": m} for m in errors],
                    }
                },
                10,
            )
        self.fulfillment_creates += 1
        tracking = data.get("trackingInfo") or {}
        fulfilment = {
            "id": f"gid://shopify/Fulfillment/{self.fulfillment_creates}",
            "tracking": {"company": tracking.get("company"), "number": tracking.get("number")},
        }
        order.fulfillments.append(fulfilment)
        order.fulfillment_order_status = "CLOSED"
        order.updated_at = self._tick()
        return self._answer(
            lambda: {
                "fulfillmentCreate": {
                    "fulfillment": {"id": fulfilment["id"], "status": "SUCCESS"},
                    "userErrors": [],
                }
            },
            10,
        )

    def fulfilled(self, number: int) -> list[dict]:
        return list(self.orders[number].fulfillments)
