"""Generic REST adapter for the merchant's own shop (the Pisell shop of the manual).

The contract a merchant's shop implements (JSON over HTTPS, ``Authorization: Bearer <token>``):
- ``GET  /products?updated_since=<iso>&cursor=<c>&limit=<n>`` -> ``{"products": [{"id",
  "variant_id", "sku", "barcode", "title", "status", "updated_at"}], "next_cursor": c|null}``;
  a product deleted in the shop stays in this list with ``"status": "deleted"`` and a new
  ``updated_at`` (a soft delete), so an incremental sync sees it like any change — a shop that
  drops deleted rows instead is caught by the periodic full reconcile
- ``GET  /inventory?skus=a,b`` -> ``{"levels": [{"sku", "quantity"}]}``
- ``POST /inventory`` with ``Idempotency-Key`` and ``{"levels": [{"sku", "quantity",
  "expected"}]}`` (at most 100) -> ``{"results": [{"sku", "ok", "previous", "error"}]}``; an
  ``expected`` that is not the stored quantity fails that row with error ``stale``.
- 429 with ``Retry-After`` when the shop wants us to slow down.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from channels_sync.adapters.base import LevelResult, LevelUpdate, PlatformAdapter, PlatformProduct
from channels_sync.adapters.http import HttpClient

MAX_LEVELS_PER_CALL = 100
PAGE_SIZE = 200


class RestAdapter(PlatformAdapter):
    batch_size = MAX_LEVELS_PER_CALL
    safe_replay = True  # Idempotency-Key + per-row ``expected`` (contract above)

    def __init__(self, shop, **client_options):
        base = shop.api_base_url.rstrip("/") if shop.api_base_url else f"https://{shop.domain}/api"
        token = dict(shop.credentials).get("api_token", "")
        self.http = HttpClient(base, headers={"Authorization": f"Bearer {token}"}, **client_options)

    def iter_product_pages(self, since: datetime | None) -> Iterator[list[PlatformProduct]]:
        cursor = None
        while True:
            params = {"limit": PAGE_SIZE}
            if since:
                params["updated_since"] = since.isoformat()
            if cursor:
                params["cursor"] = cursor
            body = self.http.request("GET", "/products", params=params).json()
            yield [
                PlatformProduct(
                    product_ref=str(p["id"]),
                    variant_ref=str(p.get("variant_id") or p["id"]),
                    item_ref=p.get("sku") or "",
                    sku=p.get("sku") or "",
                    barcode=p.get("barcode") or "",
                    title=(p.get("title") or "")[:500],
                    status=p.get("status") or "active",
                    updated_at=datetime.fromisoformat(p["updated_at"])
                    if p.get("updated_at")
                    else None,
                )
                for p in body.get("products", [])
            ]
            cursor = body.get("next_cursor")
            if not cursor:
                return

    def get_levels(self, item_refs: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(item_refs), MAX_LEVELS_PER_CALL):
            chunk = item_refs[start : start + MAX_LEVELS_PER_CALL]
            body = self.http.request("GET", "/inventory", params={"skus": ",".join(chunk)}).json()
            for row in body.get("levels", []):
                found[row["sku"]] = int(row["quantity"])
        return found

    def set_levels(self, updates: list[LevelUpdate], *, idempotency_key: str) -> list[LevelResult]:
        if len(updates) > MAX_LEVELS_PER_CALL:
            raise ValueError(f"at most {MAX_LEVELS_PER_CALL} levels per call")
        body = self.http.request(
            "POST",
            "/inventory",
            headers={"Idempotency-Key": idempotency_key},
            json={
                "levels": [
                    {"sku": u.item_ref, "quantity": u.quantity, "expected": u.expected}
                    for u in updates
                ]
            },
        ).json()
        by_sku = {row["sku"]: row for row in body.get("results", [])}
        results = []
        for u in updates:
            row = by_sku.get(u.item_ref, {"ok": False, "error": "no answer for this SKU"})
            results.append(
                LevelResult(
                    u.item_ref,
                    bool(row.get("ok")),
                    row.get("previous"),
                    str(row.get("error") or ""),
                    stale=row.get("error") == "stale",
                )
            )
        return results
