"""Shopify orders through the Admin GraphQL API (the same client, pacing and version as
``shopify.ShopifyAdapter``).

Docs followed (shopify.dev, Admin GraphQL):
- ``orders(first:, after:, query:, sortKey: UPDATED_AT)``: a connection of at most 250 nodes
  with ``pageInfo { hasNextPage endCursor }``; ``query: "updated_at:>='<ISO time>'"`` filters by
  the order's last update. Order fields used: ``id name createdAt updatedAt cancelledAt email
  customer { displayName } shippingAddress { name address1 address2 city province provinceCode
  zip countryCodeV2 } totalPriceSet { shopMoney { amount currencyCode } } lineItems { nodes { id
  sku title quantity currentQuantity variant { id } originalUnitPriceSet { shopMoney { amount }
  } } }``. ``currentQuantity`` is the quantity after removals (an edited order).
- ``fulfillmentCreate(fulfillment: FulfillmentInput!)`` (``fulfillmentCreateV2`` is deprecated):
  ``lineItemsByFulfillmentOrder [{ fulfillmentOrderId }]`` (no line items: the whole fulfilment
  order), ``notifyCustomer``, ``trackingInfo { company number url }``; the order's open
  ``fulfillmentOrders`` are read first. The mutation has no idempotency key, so before creating
  we read the order's ``fulfillments { trackingInfo { number } }`` and skip when one already
  carries our tracking number (a retry after a lost answer is not a second fulfilment).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from channels_sync.adapters.http import PlatformError
from channels_sync.adapters.orders import (
    FulfilmentResult,
    OrderSource,
    PlatformOrder,
    PlatformOrderLine,
)
from channels_sync.adapters.shopify import ShopifyAdapter, _parse_time

# shopify.dev rate limits: "the maximum cost of a single query is 1,000 points" (requested
# cost). An order node costs 4 here (customer, address, total, money) plus its line-item
# connection (2 + 3 per line asked for), so 25 orders x 10 lines = 902 points per page; an order
# with more lines has the rest read by ``ORDER_LINES_QUERY`` (100 a page, 302 points).
PAGE_SIZE = 25
LINES_PER_ORDER = 10
LINES_PAGE = 100


def page_cost(orders: int, lines: int) -> int:
    return orders * (4 + 2 + 3 * lines) + 2


ORDERS_QUERY = """
query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes {
      id name createdAt updatedAt cancelledAt email
      customer { displayName }
      shippingAddress { name address1 address2 city province provinceCode zip countryCodeV2 }
      totalPriceSet { shopMoney { amount currencyCode } }
      lineItems(first: 10) {
        nodes {
          id sku title quantity currentQuantity
          variant { id }
          originalUnitPriceSet { shopMoney { amount } }
        }
        pageInfo { hasNextPage endCursor }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

ORDER_LINES_QUERY = """
query OrderLines($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    lineItems(first: $first, after: $after) {
      nodes {
        id sku title quantity currentQuantity
        variant { id }
        originalUnitPriceSet { shopMoney { amount } }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

FULFILMENT_STATE_QUERY = """
query OrderFulfillment($id: ID!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: 10) { nodes { id status } }
    fulfillments(first: 20) { id trackingInfo { company number } }
  }
}
"""

FULFILMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}
"""

OPEN_FULFILMENT_ORDER = {"OPEN", "IN_PROGRESS", "SCHEDULED"}


def parse_order(node: dict) -> PlatformOrder:
    address = node.get("shippingAddress") or {}
    money = ((node.get("totalPriceSet") or {}).get("shopMoney")) or {}
    lines = []
    for item in (node.get("lineItems") or {}).get("nodes") or []:
        quantity = item.get("currentQuantity")
        if quantity is None:
            quantity = item.get("quantity") or 0
        price = (((item.get("originalUnitPriceSet") or {}).get("shopMoney")) or {}).get("amount")
        lines.append(
            PlatformOrderLine(
                line_ref=item["id"],
                variant_ref=((item.get("variant") or {}).get("id")) or "",
                sku=item.get("sku") or "",
                title=(item.get("title") or "")[:500],
                quantity=int(quantity),
                price=Decimal(str(price or "0")),
            )
        )
    return PlatformOrder(
        order_ref=node["id"],
        name=node.get("name") or "",
        updated_at=_parse_time(node["updatedAt"]),
        placed_at=_parse_time(node.get("createdAt")),
        cancelled=bool(node.get("cancelledAt")),
        customer_name=((node.get("customer") or {}).get("displayName")) or "",
        customer_email=node.get("email") or "",
        ship_name=address.get("name") or "",
        address1=address.get("address1") or "",
        address2=address.get("address2") or "",
        city=address.get("city") or "",
        state=address.get("provinceCode") or address.get("province") or "",
        postcode=address.get("zip") or "",
        country=(address.get("countryCodeV2") or "")[:2],
        total=Decimal(str(money.get("amount") or "0")),
        currency=money.get("currencyCode") or "",
        lines=tuple(lines),
    )


def parse_webhook_order(body: dict) -> PlatformOrder:
    """An ``orders/create|updated|cancelled`` webhook body (the REST order resource) as the same
    ``PlatformOrder`` a pull returns (ids as GraphQL global ids, so both paths upsert one row)."""
    address = body.get("shipping_address") or {}
    customer = body.get("customer") or {}
    lines = []
    for item in body.get("line_items") or []:
        quantity = item.get("current_quantity")
        if quantity is None:
            quantity = item.get("quantity") or 0
        variant = item.get("variant_id")
        lines.append(
            PlatformOrderLine(
                line_ref=item.get("admin_graphql_api_id") or f"gid://shopify/LineItem/{item['id']}",
                variant_ref=f"gid://shopify/ProductVariant/{variant}" if variant else "",
                sku=item.get("sku") or "",
                title=(item.get("title") or "")[:500],
                quantity=int(quantity),
                price=Decimal(str(item.get("price") or "0")),
            )
        )
    name = " ".join(p for p in [customer.get("first_name"), customer.get("last_name")] if p)
    return PlatformOrder(
        order_ref=body.get("admin_graphql_api_id") or f"gid://shopify/Order/{body['id']}",
        name=body.get("name") or "",
        updated_at=_parse_time(body["updated_at"]),
        placed_at=_parse_time(body.get("created_at")),
        cancelled=bool(body.get("cancelled_at")),
        customer_name=name,
        customer_email=body.get("email") or "",
        ship_name=address.get("name") or "",
        address1=address.get("address1") or "",
        address2=address.get("address2") or "",
        city=address.get("city") or "",
        state=address.get("province_code") or address.get("province") or "",
        postcode=address.get("zip") or "",
        country=(address.get("country_code") or "")[:2],
        total=Decimal(str(body.get("total_price") or "0")),
        currency=body.get("currency") or "",
        lines=tuple(lines),
    )


class ShopifyOrders(OrderSource):
    def __init__(self, shop, **client_options):
        self.adapter = ShopifyAdapter(shop, **client_options)

    def iter_order_pages(self, since: datetime | None) -> Iterator[list[PlatformOrder]]:
        after = None
        search = f"updated_at:>='{since.isoformat()}'" if since else None
        while True:
            data = self.adapter.graphql(
                ORDERS_QUERY,
                {"first": PAGE_SIZE, "after": after, "query": search},
                cost=page_cost(PAGE_SIZE, LINES_PER_ORDER),
            )["orders"]
            for node in data["nodes"]:
                self._complete_lines(node)
            yield [parse_order(node) for node in data["nodes"]]
            if not data["pageInfo"]["hasNextPage"]:
                return
            after = data["pageInfo"]["endCursor"]

    def _complete_lines(self, node: dict) -> None:
        """Read the rest of an order's line items when the page held only the first ones."""
        items = node.get("lineItems") or {}
        info = items.get("pageInfo") or {}
        while info.get("hasNextPage"):
            more = self.adapter.graphql(
                ORDER_LINES_QUERY,
                {"id": node["id"], "first": LINES_PAGE, "after": info.get("endCursor")},
                cost=page_cost(1, LINES_PAGE),
            )["order"]["lineItems"]
            items.setdefault("nodes", []).extend(more["nodes"])
            info = more["pageInfo"]

    def report_fulfilment(
        self, *, order_ref: str, carrier: str, tracking_number: str, tracking_url: str = ""
    ) -> FulfilmentResult:
        state = self.adapter.graphql(FULFILMENT_STATE_QUERY, {"id": order_ref}, cost=30)["order"]
        if state is None:
            raise PlatformError(f"order {order_ref} not found on the platform", transient=False)
        for existing in state.get("fulfillments") or []:
            numbers = {(t or {}).get("number") for t in existing.get("trackingInfo") or []}
            if tracking_number and tracking_number in numbers:
                return FulfilmentResult(existing["id"], already_reported=True)
        open_orders = [
            f["id"]
            for f in (state.get("fulfillmentOrders") or {}).get("nodes") or []
            if f.get("status") in OPEN_FULFILMENT_ORDER
        ]
        if not open_orders:
            raise PlatformError("nothing left to fulfil on the platform", transient=False)
        tracking = {"company": carrier, "number": tracking_number}
        if tracking_url:
            tracking["url"] = tracking_url
        payload = self.adapter.graphql(
            FULFILMENT_CREATE,
            {
                "fulfillment": {
                    "lineItemsByFulfillmentOrder": [
                        {"fulfillmentOrderId": ref} for ref in open_orders
                    ],
                    "notifyCustomer": True,
                    "trackingInfo": tracking,
                }
            },
            cost=10,
        )["fulfillmentCreate"]
        if payload["userErrors"]:
            raise PlatformError(
                "; ".join(e.get("message", "") for e in payload["userErrors"])[:500],
                transient=False,
            )
        return FulfilmentResult(payload["fulfillment"]["id"])
