"""eBay orders through the Sell Fulfillment API (REST, ``/sell/fulfillment/v1``, OAuth user
token: the shop's ``oauth_token``).

Docs followed (developer.ebay.com/api-docs/sell/fulfillment, ``order`` and
``shipping_fulfillment`` resources):
- ``getOrders``: ``GET /order?filter=lastmodifieddate:[<ISO 8601 UTC>..]&limit=&offset=``
  ("lastmodifieddate:[2016-05-15T08:25:43.511Z..] identifies orders modified on or after the
  given timestamp"); offset pagination, ``limit`` default 50 (we ask ``PAGE_SIZE``); the
  response (``OrderSearchPagedCollection``) has ``orders``, ``total``, ``offset``, ``limit``
  and ``next`` ("only returned if there is a next page"). Order fields used: ``orderId``,
  ``creationDate``, ``lastModifiedDate``, ``cancelStatus.cancelState`` (``CANCELED``),
  ``buyer.username``, ``pricingSummary.total {value, currency}``,
  ``fulfillmentStartInstructions[0].shippingStep.shipTo {fullName, email, contactAddress
  {addressLine1, addressLine2, city, stateOrProvince, postalCode, countryCode}}``,
  ``lineItems[] {lineItemId, sku, title, quantity, lineItemCost {value}}`` (``lineItemCost``
  is the price of all the line's units: the unit price is it divided by the quantity). An order
  changed while we page may move; the pull's overlap reads it again next time.
- ``getShippingFulfillments`` (``GET /order/{orderId}/shipping_fulfillment``: ``fulfillments[]
  {fulfillmentId, shipmentTrackingNumber}``) is read before ``createShippingFulfillment``
  (``POST /order/{orderId}/shipping_fulfillment`` with ``lineItems [{lineItemId, quantity}]``,
  ``shippedDate``, ``shippingCarrierCode``, ``trackingNumber``; 201 with the fulfilment's URI in
  ``Location``): the call has no idempotency key, so a fulfilment already carrying our tracking
  number is not created again. Carrier codes from the Trading API's ``ShippingCarrierCodeType``
  (``AustraliaPost``, ``FourPX``, ``ARAMEX``; ``Other`` for the rest).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

from channels_sync.adapters.http import HttpClient, PlatformError
from channels_sync.adapters.orders import (
    FulfilmentResult,
    OrderSource,
    PlatformOrder,
    PlatformOrderLine,
    carrier_code,
    parse_time,
)

PAGE_SIZE = 200
CARRIER_CODES = {"australia post": "AustraliaPost", "4px": "FourPX", "aramex": "ARAMEX"}


def _money(amount: dict | None) -> Decimal:
    return Decimal(str((amount or {}).get("value") or "0"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.astimezone(UTC).microsecond // 1000:03d}Z"
    )


def parse_order(node: dict) -> PlatformOrder:
    steps = node.get("fulfillmentStartInstructions") or [{}]
    ship_to = ((steps[0] or {}).get("shippingStep") or {}).get("shipTo") or {}
    address = ship_to.get("contactAddress") or {}
    total = (node.get("pricingSummary") or {}).get("total") or {}
    lines = []
    for item in node.get("lineItems") or []:
        quantity = int(item.get("quantity") or 0)
        cost = _money(item.get("lineItemCost"))
        lines.append(
            PlatformOrderLine(
                line_ref=str(item["lineItemId"]),
                variant_ref="",  # eBay names the listing, not our offer: the SKU matches it
                sku=item.get("sku") or "",
                title=(item.get("title") or "")[:500],
                quantity=quantity,
                price=(cost / quantity).quantize(Decimal("0.01")) if quantity else cost,
            )
        )
    return PlatformOrder(
        order_ref=str(node["orderId"]),
        name=str(node.get("salesRecordReference") or node["orderId"]),
        updated_at=parse_time(node.get("lastModifiedDate") or node.get("creationDate")),
        placed_at=parse_time(node.get("creationDate")),
        cancelled=((node.get("cancelStatus") or {}).get("cancelState") == "CANCELED"),
        customer_name=ship_to.get("fullName") or ((node.get("buyer") or {}).get("username") or ""),
        customer_email=ship_to.get("email") or "",
        ship_name=ship_to.get("fullName") or "",
        address1=address.get("addressLine1") or "",
        address2=address.get("addressLine2") or "",
        city=address.get("city") or "",
        state=address.get("stateOrProvince") or "",
        postcode=address.get("postalCode") or "",
        country=(address.get("countryCode") or "")[:2],
        total=_money(total),
        currency=total.get("currency") or "",
        lines=tuple(lines),
    )


class EbayOrders(OrderSource):
    def __init__(self, shop, **client_options):
        base = shop.api_base_url.rstrip("/") if shop.api_base_url else "https://api.ebay.com"
        token = dict(shop.credentials).get("oauth_token", "")
        self.http = HttpClient(
            f"{base}/sell/fulfillment/v1",
            headers={"Authorization": f"Bearer {token}"},
            **client_options,
        )

    def close(self) -> None:
        self.http.close()

    @property
    def calls(self) -> int:
        return self.http.calls

    def iter_order_pages(self, since: datetime | None) -> Iterator[list[PlatformOrder]]:
        offset = 0
        while True:
            params: dict = {"limit": PAGE_SIZE, "offset": offset}
            if since:
                params["filter"] = f"lastmodifieddate:[{_iso(since)}..]"
            body = self.http.request("GET", "/order", params=params).json()
            orders = body.get("orders") or []
            yield [parse_order(node) for node in orders]
            offset += len(orders)
            if not body.get("next") or not orders:
                return

    def report_fulfilment(
        self, *, order_ref: str, carrier: str, tracking_number: str, tracking_url: str = ""
    ) -> FulfilmentResult:
        path = f"/order/{order_ref}/shipping_fulfillment"
        existing = self.http.request("GET", path).json()
        for fulfilment in existing.get("fulfillments") or []:
            if tracking_number and fulfilment.get("shipmentTrackingNumber") == tracking_number:
                return FulfilmentResult(str(fulfilment["fulfillmentId"]), already_reported=True)
        order = self.http.request("GET", f"/order/{order_ref}").json()
        items = [
            {"lineItemId": item["lineItemId"], "quantity": int(item.get("quantity") or 0)}
            for item in order.get("lineItems") or []
            if item.get("lineItemFulfillmentStatus") != "FULFILLED"
        ]
        if not items:
            raise PlatformError("nothing left to fulfil on the platform", transient=False)
        response = self.http.request(
            "POST",
            path,
            json={
                "lineItems": items,
                "shippedDate": _iso(datetime.now(UTC)),
                "shippingCarrierCode": carrier_code(carrier, CARRIER_CODES, "Other"),
                "trackingNumber": tracking_number,
            },
        )
        location = response.headers.get("Location") or ""
        return FulfilmentResult(location.rstrip("/").rsplit("/", 1)[-1] or tracking_number)
