"""eBay Sell Inventory API adapter (REST, ``/sell/inventory/v1``, OAuth user token).

Docs followed (developer.ebay.com/api-docs/sell/inventory): ``getInventoryItems``
(``GET /inventory_item?limit&offset``, pages with ``total``/``next``), ``getOffers``
(``GET /offer?sku=`` — the offer ids a quantity is set on), ``bulkGetInventoryItem``
(``POST /bulk_get_inventory_item``) and ``bulkUpdatePriceQuantity``
(``POST /bulk_update_price_quantity``): "Up to 25 inventory item records (and the active offers
associated with them) may be updated with one bulkUpdatePriceQuantity call"; the quantity is
set on the inventory item (``shipToLocationAvailability.quantity``) and on each offer
(``availableQuantity``); per-request results come back in ``responses[]`` with ``statusCode``
and ``errors``. eBay has no compare-and-set: ``expected`` is ignored (the per-shop push lock and
the outbox order keep an older quantity from overwriting a newer one). HTTP 429 carries
Retry-After. A listing's ``item_ref`` is ``<sku>#<offerId>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from channels_sync.adapters.base import LevelResult, LevelUpdate, PlatformAdapter, PlatformProduct
from channels_sync.adapters.http import HttpClient

# developer.ebay.com/api-docs/sell/static/inventory/bulk-updates.html: up to 25 per call.
MAX_ITEMS_PER_CALL = 25
PAGE_SIZE = 100


def _split(item_ref: str) -> tuple[str, str]:
    sku, _sep, offer = item_ref.partition("#")
    return sku, offer


class EbayAdapter(PlatformAdapter):
    batch_size = MAX_ITEMS_PER_CALL

    def __init__(self, shop, **client_options):
        base = shop.api_base_url.rstrip("/") if shop.api_base_url else "https://api.ebay.com"
        token = dict(shop.credentials).get("oauth_token", "")
        self.http = HttpClient(
            f"{base}/sell/inventory/v1",
            headers={"Authorization": f"Bearer {token}", "Content-Language": "en-US"},
            **client_options,
        )

    def iter_product_pages(self, since: datetime | None) -> Iterator[list[PlatformProduct]]:
        # getInventoryItems has no "changed since" filter: every sync reads every item.
        offset = 0
        while True:
            body = self.http.request(
                "GET", "/inventory_item", params={"limit": PAGE_SIZE, "offset": offset}
            ).json()
            page = []
            for item in body.get("inventoryItems", []):
                sku = item["sku"]
                offers = self.http.request("GET", "/offer", params={"sku": sku}).json()
                product = item.get("product") or {}
                barcode = (product.get("ean") or product.get("upc") or [""])[0]
                for offer in offers.get("offers", []) or [{"offerId": ""}]:
                    page.append(
                        PlatformProduct(
                            product_ref=sku,
                            variant_ref=f"{sku}#{offer.get('offerId', '')}",
                            item_ref=f"{sku}#{offer.get('offerId', '')}",
                            sku=sku,
                            barcode=barcode,
                            title=(product.get("title") or "")[:500],
                            status="active"
                            if offer.get("status", "PUBLISHED") == "PUBLISHED"
                            else "draft",
                            updated_at=None,
                        )
                    )
            yield page
            offset += PAGE_SIZE
            if offset >= int(body.get("total", 0)):
                return

    def get_levels(self, item_refs: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(item_refs), MAX_ITEMS_PER_CALL):
            chunk = item_refs[start : start + MAX_ITEMS_PER_CALL]
            by_sku = {_split(ref)[0]: ref for ref in chunk}
            body = self.http.request(
                "POST", "/bulk_get_inventory_item", json={"requests": [{"sku": s} for s in by_sku]}
            ).json()
            for row in body.get("responses", []):
                item = row.get("inventoryItem") or {}
                quantity = (
                    (item.get("availability") or {}).get("shipToLocationAvailability") or {}
                ).get("quantity")
                if row.get("sku") in by_sku and quantity is not None:
                    found[by_sku[row["sku"]]] = int(quantity)
        return found

    def set_levels(self, updates: list[LevelUpdate], *, idempotency_key: str) -> list[LevelResult]:
        if len(updates) > MAX_ITEMS_PER_CALL:
            raise ValueError(f"at most {MAX_ITEMS_PER_CALL} items per call")
        requests = []
        for u in updates:
            sku, offer = _split(u.item_ref)
            request = {"sku": sku, "shipToLocationAvailability": {"quantity": u.quantity}}
            if offer:
                request["offers"] = [{"offerId": offer, "availableQuantity": u.quantity}]
            requests.append(request)
        body = self.http.request(
            "POST", "/bulk_update_price_quantity", json={"requests": requests}
        ).json()
        by_sku: dict[str, list[dict]] = {}
        for row in body.get("responses", []):
            by_sku.setdefault(row.get("sku", ""), []).append(row)
        results = []
        for u in updates:
            rows = by_sku.get(_split(u.item_ref)[0], [])
            errors = [e.get("message", "") for r in rows for e in r.get("errors") or []]
            ok = bool(rows) and all(200 <= int(r.get("statusCode", 500)) < 300 for r in rows)
            results.append(
                LevelResult(
                    u.item_ref, ok, u.expected, "; ".join(errors) or ("" if ok else "no answer")
                )
            )
        return results
