"""A fake of the merchant's own shop (the generic REST contract of ``adapters/rest.py``):
bearer token, cursor pages, at most 100 levels per POST, ``expected`` compare-and-set per row,
``Idempotency-Key`` replayed (same body) or refused (409, other body), 429 with Retry-After."""

from __future__ import annotations

import hashlib
import json

from werkzeug.wrappers import Request, Response

from channels_sync.fakes.base import FakeBase, json_response


class FakeRestShop(FakeBase):
    def __init__(self, *, token: str = "rest_test"):  # noqa: S107 - the fake's test token
        super().__init__()
        self.token = token
        self.products: list[dict] = []
        self.levels: dict[str, int] = {}
        self.keys: dict[str, tuple[str, dict]] = {}
        self.post_calls = 0

    def add_product(self, sku: str, *, barcode: str = "", title: str = "", quantity: int = 0):
        number = len(self.products) + 1
        self.products.append(
            {
                "id": number,
                "variant_id": f"v{number}",
                "sku": sku,
                "barcode": barcode,
                "title": title or sku,
                "status": "active",
                "updated_at": "2026-01-01T00:00:00+00:00",
            }
        )
        self.levels[sku] = quantity

    def delete_product(self, sku: str) -> None:
        """Soft-delete as the contract says: ``status`` "deleted" and a new ``updated_at``."""
        from datetime import UTC, datetime

        with self.lock:
            for p in self.products:
                if p["sku"] == sku:
                    p["status"] = "deleted"
                    p["updated_at"] = datetime.now(UTC).isoformat()

    def handle(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return json_response({"error": "unauthorized"}, 401)
        with self.lock:
            if request.path.endswith("/products") and request.method == "GET":
                limit = min(int(request.args.get("limit", 50)), 200)
                after = int(request.args.get("cursor") or 0)
                rows = [p for p in self.products if p["id"] > after]
                since = request.args.get("updated_since")
                if since:
                    rows = [p for p in rows if p["updated_at"] >= since]
                page = rows[:limit]
                nxt = str(page[-1]["id"]) if len(rows) > limit else None
                return json_response({"products": page, "next_cursor": nxt})
            if request.path.endswith("/inventory") and request.method == "GET":
                skus = [s for s in (request.args.get("skus") or "").split(",") if s]
                return json_response(
                    {
                        "levels": [
                            {"sku": s, "quantity": self.levels[s]} for s in skus if s in self.levels
                        ]
                    }
                )
            if request.path.endswith("/inventory") and request.method == "POST":
                return self._post(request)
        return json_response({"error": "not found"}, 404)

    def _post(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key")
        if not key:
            return json_response({"error": "Idempotency-Key header required"}, 400)
        body = request.get_json(force=True, silent=True) or {}
        fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        if key in self.keys:
            seen, answer = self.keys[key]
            if seen != fingerprint:
                return json_response({"error": "idempotency key reused with another body"}, 409)
            return json_response(answer)
        levels = body.get("levels") or []
        if len(levels) > 100:
            return json_response({"error": "at most 100 levels per request"}, 422)
        self.post_calls += 1
        results = []
        for row in levels:
            sku = row.get("sku")
            if sku not in self.levels:
                results.append({"sku": sku, "ok": False, "error": "unknown sku"})
            elif row.get("expected") is not None and row["expected"] != self.levels[sku]:
                results.append(
                    {"sku": sku, "ok": False, "error": "stale", "previous": self.levels[sku]}
                )
            else:
                previous = self.levels[sku]
                self.levels[sku] = int(row["quantity"])
                results.append({"sku": sku, "ok": True, "previous": previous})
        answer = {"results": results}
        self.keys[key] = (fingerprint, answer)
        return json_response(answer)
