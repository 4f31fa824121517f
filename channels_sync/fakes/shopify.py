"""A fake of the Shopify Admin GraphQL API (2026-04) for the operations our adapter uses.

Enforced as shopify.dev documents it: the access token header; connections of at most 250
nodes with cursors; ``inventorySetQuantities`` with at most 250 quantities, ``changeFromQuantity``
present on every quantity and compared with the stored quantity (``CHANGE_FROM_QUANTITY_STALE``,
nothing applied), the ``@idempotent(key:)`` directive required, a repeated key with the same
variables replays the first answer and with other variables is refused
(``IDEMPOTENCY_KEY_PARAMETER_MISMATCH``); a cost leaky bucket reported in
``extensions.cost.throttleStatus`` and a ``THROTTLED`` error when a request costs more than is
left. Operations are told apart by their operation name, not by a full GraphQL parser.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from werkzeug.wrappers import Request, Response

from channels_sync.fakes.base import FakeBase, json_response

LOCATION_ID = "gid://shopify/Location/1"


@dataclass
class FakeVariant:
    number: int
    sku: str
    barcode: str
    title: str
    product_title: str
    status: str = "ACTIVE"
    updated_at: str = ""

    @property
    def id(self) -> str:
        return f"gid://shopify/ProductVariant/{self.number}"

    @property
    def item_id(self) -> str:
        return f"gid://shopify/InventoryItem/{self.number}"

    @property
    def product_id(self) -> str:
        return f"gid://shopify/Product/{self.number}"


class FakeShopify(FakeBase):
    def __init__(
        self,
        *,
        token: str = "shpat_test",  # noqa: S107 - the fake's test token
        bucket_max: float = 2000.0,
        restore_rate: float = 100.0,
        clock=time.monotonic,
    ):
        super().__init__()
        self.token = token
        self.variants: dict[int, FakeVariant] = {}
        self.levels: dict[str, int] = {}
        self.idempotency: dict[str, tuple[str, dict]] = {}
        self.bucket_max = bucket_max
        self.restore_rate = restore_rate
        self.available = bucket_max
        self.clock = clock
        self.last = clock()
        self.set_calls = 0
        self.events: list[dict] = []  # BasicEvent nodes (deletions), oldest first
        self.graphql_calls = 0
        self.throttled = 0

    # -- seeding -----------------------------------------------------------------------------
    def add_variant(
        self, sku: str, *, barcode: str = "", title: str = "", quantity: int = 0
    ) -> FakeVariant:
        with self.lock:
            number = len(self.variants) + 1001
            variant = FakeVariant(
                number, sku, barcode, "Default Title", title or sku, updated_at=_now()
            )
            self.variants[number] = variant
            self.levels[variant.item_id] = quantity
            return variant

    def delete_variant(self, sku: str) -> None:
        """Delete the product of the variant (the fake's products have one variant each), as
        the admin would: it disappears and a ``destroy`` event is recorded."""
        with self.lock:
            for number, v in list(self.variants.items()):
                if v.sku == sku:
                    del self.variants[number]
                    self.events.append(
                        {
                            "id": f"gid://shopify/BasicEvent/{len(self.events) + 1}",
                            "createdAt": _now(),
                            "action": "destroy",
                            "subjectId": v.product_id,
                            "subjectType": "PRODUCT",
                        }
                    )

    def quantity_of(self, sku: str) -> int | None:
        for v in self.variants.values():
            if v.sku == sku:
                return self.levels.get(v.item_id)
        return None

    # -- bucket ------------------------------------------------------------------------------
    def _charge(self, cost: float) -> dict | None:
        now = self.clock()
        self.available = min(
            self.bucket_max, self.available + (now - self.last) * self.restore_rate
        )
        self.last = now
        if cost > self.available:
            self.throttled += 1
            return None
        self.available -= cost
        return self._cost(cost)

    def _cost(self, cost: float) -> dict:
        return {
            "cost": {
                "requestedQueryCost": cost,
                "actualQueryCost": cost,
                "throttleStatus": {
                    "maximumAvailable": self.bucket_max,
                    "currentlyAvailable": self.available,
                    "restoreRate": self.restore_rate,
                },
            }
        }

    # -- HTTP --------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if not re.fullmatch(r"/admin/api/[0-9]{4}-[0-9]{2}/graphql\.json", request.path):
            return json_response({"errors": "Not Found"}, 404)
        if request.headers.get("X-Shopify-Access-Token") != self.token:
            return json_response(
                {"errors": "[API] Invalid API key or access token (unrecognized login)"}, 401
            )
        body = request.get_json(force=True, silent=True) or {}
        query = body.get("query") or ""
        variables = body.get("variables") or {}
        with self.lock:
            self.graphql_calls += 1
            if "query Variants" in query:
                first = min(int(variables.get("first") or 50), 250)
                return self._answer(self._variants(first, variables), cost=first * 2 + 2)
            if "query Deleted" in query:
                first = min(int(variables.get("first") or 50), 250)
                return self._answer(self._events(first, variables), cost=first + 2)
            if "locations" in query and "query Levels" not in query:
                return self._answer(
                    lambda: {"locations": {"nodes": [{"id": LOCATION_ID, "name": "Main"}]}}, 2
                )
            if "query Levels" in query:
                ids = variables.get("ids") or []
                if len(ids) > 250:
                    return _error("The ids argument accepts at most 250 values")
                return self._answer(lambda: self._levels(ids), cost=len(ids) * 2 or 1)
            if "inventorySetQuantities" in query:
                return self._set(query, variables)
        return _error("Unknown operation")

    def _answer(self, produce, cost: float) -> Response:
        extensions = self._charge(cost)
        if extensions is None:
            return json_response(
                {
                    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": self._cost(cost),
                }
            )
        return json_response({"data": produce(), "extensions": extensions})

    def _variants(self, first: int, variables: dict):
        def produce():
            after = int(variables.get("after") or 0)
            since = None
            match = re.search(r"updated_at:>='?([^']+)'?", variables.get("query") or "")
            if match:
                since = match.group(1)
            rows = [
                v
                for n, v in sorted(self.variants.items())
                if n > after and (since is None or v.updated_at >= since)
            ]
            page = rows[:first]
            return {
                "productVariants": {
                    "nodes": [
                        {
                            "id": v.id,
                            "sku": v.sku,
                            "barcode": v.barcode,
                            "title": v.title,
                            "updatedAt": v.updated_at,
                            "inventoryItem": {"id": v.item_id},
                            "product": {
                                "id": v.product_id,
                                "title": v.product_title,
                                "status": v.status,
                            },
                        }
                        for v in page
                    ],
                    "pageInfo": {
                        "hasNextPage": len(rows) > first,
                        "endCursor": str(page[-1].number) if page else None,
                    },
                }
            }

        return produce

    def _events(self, first: int, variables: dict):
        """``events(query:)`` with the filters our adapter sends: action, subject_type and
        ``created_at:>=``; cursor = the index of the last event returned."""

        def produce():
            search = variables.get("query") or ""
            after = int(variables.get("after") or 0)
            rows = list(enumerate(self.events, start=1))[after:]
            for name, field in (("action", "action"), ("subject_type", "subjectType")):
                match = re.search(rf"{name}:'?([A-Za-z_]+)'?", search)
                if match:
                    rows = [(n, e) for n, e in rows if e[field] == match.group(1)]
            match = re.search(r"created_at:>='?([^' ]+)'?", search)
            if match:
                since = datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
                rows = [
                    (n, e)
                    for n, e in rows
                    if datetime.fromisoformat(e["createdAt"].replace("Z", "+00:00")) >= since
                ]
            page = rows[:first]
            return {
                "events": {
                    "nodes": [e for _n, e in page],
                    "pageInfo": {
                        "hasNextPage": len(rows) > first,
                        "endCursor": str(page[-1][0]) if page else None,
                    },
                }
            }

        return produce

    def _levels(self, ids: list[str]) -> dict:
        return {
            "nodes": [
                {
                    "id": item,
                    "inventoryLevel": {
                        "quantities": [{"name": "available", "quantity": self.levels[item]}]
                    },
                }
                if item in self.levels
                else None
                for item in ids
            ]
        }

    def _set(self, query: str, variables: dict) -> Response:
        key_match = re.search(r"@idempotent\(key:\s*(\$\w+|\"[^\"]*\")\)", query)
        if not key_match:
            return _error("The @idempotent directive is required for this mutation")
        raw = key_match.group(1)
        key = variables.get(raw[1:]) if raw.startswith("$") else raw.strip('"')
        if not key:
            return _error("The idempotency key must not be empty")
        data_input = variables.get("input") or {}
        fingerprint = hashlib.sha256(json.dumps(data_input, sort_keys=True).encode()).hexdigest()
        if key in self.idempotency:
            seen_fingerprint, answer = self.idempotency[key]
            if seen_fingerprint != fingerprint:
                return self._answer(
                    lambda: _user_errors(
                        [
                            (
                                "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                                ["input"],
                                "The same idempotency key cannot be used with different "
                                "operation parameters.",
                            )
                        ]
                    ),
                    10,
                )
            return self._answer(lambda: answer, 10)
        quantities = data_input.get("quantities") or []
        if len(quantities) > 250:
            return self._answer(
                lambda: _user_errors(
                    [("INVALID_QUANTITY", ["input", "quantities"], "at most 250 quantities")]
                ),
                10,
            )
        errors = []
        for index, q in enumerate(quantities):
            where = ["input", "quantities", str(index), "changeFromQuantity"]
            if "changeFromQuantity" not in q:
                errors.append(
                    ("CHANGE_FROM_QUANTITY_REQUIRED", where, "changeFromQuantity is required")
                )
                continue
            if q.get("locationId") != LOCATION_ID:
                errors.append(("INVALID_LOCATION", where[:3] + ["locationId"], "no such location"))
                continue
            item = q.get("inventoryItemId")
            if item not in self.levels:
                errors.append(
                    ("INVALID_INVENTORY_ITEM", where[:3] + ["inventoryItemId"], "no item")
                )
                continue
            expected = q["changeFromQuantity"]
            if expected is not None and expected != self.levels[item]:
                errors.append(
                    (
                        "CHANGE_FROM_QUANTITY_STALE",
                        where,
                        "The changeFromQuantity value does not match persisted value.",
                    )
                )
        extensions = self._charge(10)
        if extensions is None:
            return json_response(
                {
                    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": self._cost(10),
                }
            )
        self.set_calls += 1
        if errors:
            answer = _user_errors(errors)
        else:
            for q in quantities:
                self.levels[q["inventoryItemId"]] = int(q["quantity"])
            answer = {
                "inventorySetQuantities": {
                    "inventoryAdjustmentGroup": {
                        "id": f"gid://shopify/InventoryAdjustmentGroup/{self.set_calls}"
                    },
                    "userErrors": [],
                }
            }
        self.idempotency[key] = (fingerprint, answer)
        return json_response({"data": answer, "extensions": extensions})


def _user_errors(errors: list[tuple[str, list, str]]) -> dict:
    return {
        "inventorySetQuantities": {
            "inventoryAdjustmentGroup": None,
            "userErrors": [{"code": c, "field": f, "message": m} for c, f, m in errors],
        }
    }


def _error(message: str) -> Response:
    return json_response({"errors": [{"message": message}]})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
