"""Orders of the merchant's own shop (the generic REST contract of ``rest.py``).

The order half of the contract a merchant's shop implements (JSON, ``Authorization: Bearer
<token>``):
- ``GET /orders?updated_since=<iso>&cursor=<c>&limit=<n>`` (at most 200) -> ``{"orders":
  [{"id", "number", "created_at", "updated_at", "status" ("open" | "cancelled"), "customer":
  {"name", "email"}, "shipping_address": {"name", "line1", "line2", "city", "state",
  "postcode", "country"}, "total", "currency", "lines": [{"id", "variant_id", "sku",
  "title", "quantity", "price"}]}], "next_cursor": c | null}``, oldest update first; the
  cursor is opaque.
- ``POST /orders/<id>/fulfilments`` with ``Idempotency-Key`` and ``{"carrier",
  "tracking_number", "tracking_url"}`` -> ``{"id", "replayed": bool}``: the same key returns
  the first answer, so a retry never fulfils twice.
- 429 with ``Retry-After`` when the shop wants us to slow down.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from channels_sync.adapters.http import HttpClient
from channels_sync.adapters.orders import (
    FulfilmentResult,
    OrderSource,
    PlatformOrder,
    PlatformOrderLine,
    parse_time,
)

PAGE_SIZE = 200


def parse_order(node: dict) -> PlatformOrder:
    address = node.get("shipping_address") or {}
    customer = node.get("customer") or {}
    return PlatformOrder(
        order_ref=str(node["id"]),
        name=str(node.get("number") or node["id"]),
        updated_at=parse_time(node["updated_at"]),
        placed_at=parse_time(node.get("created_at")),
        cancelled=node.get("status") == "cancelled",
        customer_name=customer.get("name") or "",
        customer_email=customer.get("email") or "",
        ship_name=address.get("name") or "",
        address1=address.get("line1") or "",
        address2=address.get("line2") or "",
        city=address.get("city") or "",
        state=address.get("state") or "",
        postcode=address.get("postcode") or "",
        country=(address.get("country") or "")[:2],
        total=Decimal(str(node.get("total") or "0")),
        currency=node.get("currency") or "",
        lines=tuple(
            PlatformOrderLine(
                line_ref=str(line["id"]),
                variant_ref=str(line.get("variant_id") or ""),
                sku=line.get("sku") or "",
                title=(line.get("title") or "")[:500],
                quantity=int(line.get("quantity") or 0),
                price=Decimal(str(line.get("price") or "0")),
            )
            for line in node.get("lines") or []
        ),
    )


class RestOrders(OrderSource):
    def __init__(self, shop, **client_options):
        base = shop.api_base_url.rstrip("/") if shop.api_base_url else f"https://{shop.domain}/api"
        token = dict(shop.credentials).get("api_token", "")
        self.http = HttpClient(base, headers={"Authorization": f"Bearer {token}"}, **client_options)

    def close(self) -> None:
        self.http.close()

    @property
    def calls(self) -> int:
        return self.http.calls

    def iter_order_pages(self, since: datetime | None) -> Iterator[list[PlatformOrder]]:
        cursor = None
        while True:
            params: dict = {"limit": PAGE_SIZE}
            if since:
                params["updated_since"] = since.isoformat()
            if cursor:
                params["cursor"] = cursor
            body = self.http.request("GET", "/orders", params=params).json()
            yield [parse_order(node) for node in body.get("orders") or []]
            cursor = body.get("next_cursor")
            if not cursor:
                return

    def report_fulfilment(
        self, *, order_ref: str, carrier: str, tracking_number: str, tracking_url: str = ""
    ) -> FulfilmentResult:
        body = self.http.request(
            "POST",
            f"/orders/{order_ref}/fulfilments",
            headers={"Idempotency-Key": f"fulfil-{order_ref}-{tracking_number}"[:80]},
            json={
                "carrier": carrier,
                "tracking_number": tracking_number,
                "tracking_url": tracking_url,
            },
        ).json()
        return FulfilmentResult(
            str(body.get("id") or ""), already_reported=bool(body.get("replayed"))
        )
