"""A fake of the eBay Sell Inventory API calls our adapter makes: bearer token, offset pages of
inventory items, offers by SKU, bulk get, and ``bulk_update_price_quantity`` refusing more than
25 requests (developer.ebay.com bulk-updates page), per-request results; 429 via fail_next."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from channels_sync.fakes.base import FakeBase, json_response

PREFIX = "/sell/inventory/v1"


class FakeEbay(FakeBase):
    def __init__(self, *, token: str = "ebay_test"):  # noqa: S107 - the fake's test token
        super().__init__()
        self.token = token
        self.items: dict[str, dict] = {}
        self.offers: dict[str, str] = {}
        self.update_calls = 0

    def add_item(self, sku: str, *, title: str = "", ean: str = "", quantity: int = 0) -> str:
        offer = f"{len(self.items) + 5000000}"
        self.items[sku] = {"title": title or sku, "ean": ean, "quantity": quantity}
        self.offers[sku] = offer
        return offer

    def handle(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return json_response(
                {"errors": [{"errorId": 1001, "message": "Invalid access token"}]}, 401
            )
        path = request.path.removeprefix(PREFIX)
        with self.lock:
            if path == "/inventory_item" and request.method == "GET":
                limit = min(int(request.args.get("limit", 25)), 200)
                offset = int(request.args.get("offset", 0))
                skus = sorted(self.items)
                return json_response(
                    {
                        "total": len(skus),
                        "inventoryItems": [
                            {
                                "sku": s,
                                "product": {
                                    "title": self.items[s]["title"],
                                    "ean": [self.items[s]["ean"]] if self.items[s]["ean"] else [],
                                },
                                "availability": {
                                    "shipToLocationAvailability": {
                                        "quantity": self.items[s]["quantity"]
                                    }
                                },
                            }
                            for s in skus[offset : offset + limit]
                        ],
                    }
                )
            if path == "/offer" and request.method == "GET":
                sku = request.args.get("sku")
                if sku not in self.offers:
                    return json_response({"offers": [], "total": 0})
                return json_response(
                    {
                        "offers": [
                            {
                                "offerId": self.offers[sku],
                                "sku": sku,
                                "status": "PUBLISHED",
                                "availableQuantity": self.items[sku]["quantity"],
                            }
                        ],
                        "total": 1,
                    }
                )
            if path == "/bulk_get_inventory_item":
                requests = (request.get_json(force=True) or {}).get("requests", [])
                if len(requests) > 25:
                    return json_response({"errors": [{"errorId": 25001, "message": "max 25"}]}, 400)
                return json_response(
                    {
                        "responses": [
                            {
                                "sku": r["sku"],
                                "statusCode": 200,
                                "inventoryItem": {
                                    "availability": {
                                        "shipToLocationAvailability": {
                                            "quantity": self.items[r["sku"]]["quantity"]
                                        }
                                    }
                                },
                            }
                            for r in requests
                            if r["sku"] in self.items
                        ]
                    }
                )
            if path == "/bulk_update_price_quantity":
                requests = (request.get_json(force=True) or {}).get("requests", [])
                if len(requests) > 25:
                    return json_response(
                        {"errors": [{"errorId": 25001, "message": "Up to 25 requests per call"}]},
                        400,
                    )
                self.update_calls += 1
                responses = []
                for r in requests:
                    sku = r.get("sku")
                    if sku not in self.items:
                        responses.append(
                            {
                                "sku": sku,
                                "statusCode": 404,
                                "errors": [{"errorId": 25702, "message": "SKU not found"}],
                            }
                        )
                        continue
                    self.items[sku]["quantity"] = int(r["shipToLocationAvailability"]["quantity"])
                    for offer in r.get("offers", []):
                        responses.append(
                            {"sku": sku, "offerId": offer["offerId"], "statusCode": 200}
                        )
                    if not r.get("offers"):
                        responses.append({"sku": sku, "statusCode": 200})
                return json_response({"responses": responses})
        return json_response({"errors": [{"message": "not found"}]}, 404)
