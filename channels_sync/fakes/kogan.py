"""A fake of the Kogan marketplace calls our adapter makes: SellerID/SellerToken headers,
paged product lists with a ``next`` link, ``POST /products/stockprice/`` refusing more than 500
products, per-product errors for unknown SKUs; 429 via fail_next."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from channels_sync.fakes.base import FakeBase, json_response

PREFIX = "/api/marketplace/v2"


class FakeKogan(FakeBase):
    def __init__(self, *, seller_id: str = "seller-1", token: str = "kogan_test"):  # noqa: S107
        super().__init__()
        self.seller_id, self.token = seller_id, token
        self.products: dict[str, dict] = {}
        self.update_calls = 0

    def add_product(self, sku: str, *, title: str = "", gtin: str = "", stock: int = 0) -> None:
        self.products[sku] = {
            "product_sku": sku,
            "product_title": title or sku,
            "product_gtin": gtin,
            "stock": stock,
            "enabled": True,
        }

    def handle(self, request: Request) -> Response:
        if (request.headers.get("SellerID"), request.headers.get("SellerToken")) != (
            self.seller_id,
            self.token,
        ):
            return json_response({"status": "Failed", "error": "authentication failed"}, 401)
        path = request.path.removeprefix(PREFIX)
        with self.lock:
            if path == "/products/" and request.method == "GET":
                size = min(int(request.args.get("size", 100)), 100)
                after = request.args.get("after") or ""
                wanted = [s for s in (request.args.get("sku") or "").split(",") if s]
                skus = sorted(s for s in self.products if s > after and (not wanted or s in wanted))
                page = skus[:size]
                nxt = (
                    f"{request.host_url.rstrip('/')}{PREFIX}/products/?size={size}&after={page[-1]}"
                    if len(skus) > size
                    else None
                )
                return json_response(
                    {
                        "status": "Complete",
                        "body": {"results": [self.products[s] for s in page], "next": nxt},
                    }
                )
            if path == "/products/stockprice/" and request.method == "POST":
                rows = request.get_json(force=True) or []
                if len(rows) > 500:
                    return json_response(
                        {"status": "Failed", "error": "batch of up to 500 products"}, 400
                    )
                self.update_calls += 1
                errors = []
                for row in rows:
                    if row.get("product_sku") not in self.products:
                        errors.append(
                            {"product_sku": row.get("product_sku"), "error": "Unknown SKU"}
                        )
                    else:
                        self.products[row["product_sku"]]["stock"] = int(row["stock"])
                return json_response({"status": "Complete", "body": {"errors": errors}})
        return json_response({"status": "Failed", "error": "not found"}, 404)
