"""Shopify Admin GraphQL API adapter (API version 2026-04).

Docs followed (shopify.dev):
- productVariants connection (``first`` <= 250 per page, ``query: "updated_at:>=..."``), each
  variant with ``sku``, ``barcode``, ``inventoryItem { id }`` and its ``product``;
- ``locations`` for the location the stock is set at;
- ``inventorySetQuantities``: at most 250 quantities per call; compare-and-set through
  ``changeFromQuantity`` (mandatory from 2026-04; a mismatch is the user error
  ``CHANGE_FROM_QUANTITY_STALE``: re-read and retry, never overwrite blindly); the
  ``@idempotent(key:)`` directive (mandatory from 2026-04, "Making idempotency mandatory for
  inventory adjustments", shopify.dev/changelog) — the same key for a duplicate of the same
  request, a new key for a different request;
- deletions for an incremental sync: the ``events`` connection (since 2024-10; the older
  ``deletionEvents`` query is deprecated "Use events instead"), filtered with the search syntax
  its docs show, ``action:'destroy' AND subject_type:'PRODUCT'``, plus ``created_at:>=...``
  (event data is kept one year); each ``BasicEvent`` carries ``subjectId`` (the deleted
  product's gid). A variant deleted from a product that lives on has no documented destroy event
  there: the periodic full reconcile (``services.products``) catches it;
- rate limits (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits): a leaky bucket of
  cost points reported in each response's ``extensions.cost.throttleStatus``
  (``maximumAvailable``, ``currentlyAvailable``, ``restoreRate``); a throttled request answers
  ``errors[].extensions.code == "THROTTLED"``. The client paces itself from the last status.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

from channels_sync.adapters.base import (
    Deletions,
    LevelResult,
    LevelUpdate,
    PlatformAdapter,
    PlatformProduct,
)
from channels_sync.adapters.http import HttpClient, PlatformError

API_VERSION = "2026-04"
# shopify.dev/docs/api/admin-graphql/latest/mutations/inventorySetQuantities: "quantities"
# accepts at most 250 items per call.
MAX_QUANTITIES_PER_CALL = 250
PAGE_SIZE = 250  # connections return at most 250 nodes per page
SET_COST_ESTIMATE = 10.0
ENDPOINT = f"/admin/api/{API_VERSION}/graphql.json"

PRODUCTS_QUERY = """
query Variants($first: Int!, $after: String, $query: String) {
  productVariants(first: $first, after: $after, query: $query, sortKey: ID) {
    nodes {
      id sku barcode title updatedAt
      inventoryItem { id }
      product { id title status }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

DELETIONS_QUERY = """
query Deleted($first: Int!, $after: String, $query: String) {
  events(first: $first, after: $after, query: $query) {
    nodes {
      id createdAt
      ... on BasicEvent { action subjectId subjectType }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

LOCATIONS_QUERY = "query { locations(first: 1) { nodes { id name } } }"

LEVELS_QUERY = """
query Levels($ids: [ID!]!, $location: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } }
    }
  }
}
"""

SET_MUTATION = """
mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}
"""


class ShopifyAdapter(PlatformAdapter):
    batch_size = MAX_QUANTITIES_PER_CALL
    safe_replay = True  # @idempotent key + changeFromQuantity

    def __init__(self, shop, *, sleep=time.sleep, clock=time.monotonic, **client_options):
        base = shop.api_base_url.rstrip("/") if shop.api_base_url else f"https://{shop.domain}"
        token = dict(shop.credentials).get("access_token", "")
        self.http = HttpClient(
            base,
            headers={"X-Shopify-Access-Token": token, "Content-Type": "application/json"},
            sleep=sleep,
            **client_options,
        )
        self.sleep = sleep
        self.clock = clock
        self.location = shop.location_ref
        self.configured_location = shop.location_ref
        self._bucket: tuple[float, float, float, float] | None = None  # avail, max, rate, at

    # -- pacing ------------------------------------------------------------------------------
    def _pace(self, cost: float) -> None:
        if self._bucket is None:
            return
        available, maximum, rate, at = self._bucket
        now = self.clock()
        available = min(maximum, available + (now - at) * rate)
        if available < cost and rate > 0:
            self.sleep((cost - available) / rate)

    def _remember_cost(self, body: dict) -> None:
        status = (body.get("extensions") or {}).get("cost", {}).get("throttleStatus")
        if status:
            self._bucket = (
                float(status["currentlyAvailable"]),
                float(status["maximumAvailable"]),
                float(status["restoreRate"]),
                self.clock(),
            )

    def graphql(self, query: str, variables: dict, *, cost: float = 1.0) -> dict:
        for _attempt in range(6):
            self._pace(cost)
            response = self.http.request(
                "POST", ENDPOINT, json={"query": query, "variables": variables}
            )
            body = response.json()
            self._remember_cost(body)
            errors = body.get("errors") or []
            if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
                requested = (body.get("extensions") or {}).get("cost", {}).get("requestedQueryCost")
                cost = float(requested or cost)
                continue
            if errors:
                raise PlatformError(
                    "; ".join(str(e.get("message")) for e in errors)[:500], transient=False
                )
            return body["data"]
        raise PlatformError("Shopify kept throttling the request", status=429)

    # -- interface ---------------------------------------------------------------------------
    def location_id(self) -> str:
        if not self.location:
            nodes = self.graphql(LOCATIONS_QUERY, {})["locations"]["nodes"]
            if not nodes:
                raise PlatformError("the shop has no location", transient=False)
            self.location = nodes[0]["id"]
        return self.location

    def learned(self) -> dict[str, str]:
        if self.location and not self.configured_location:
            return {"location_ref": self.location}
        return {}

    def iter_product_pages(self, since: datetime | None) -> Iterator[list[PlatformProduct]]:
        after = None
        search = f"updated_at:>='{since.isoformat()}'" if since else None
        while True:
            data = self.graphql(
                PRODUCTS_QUERY,
                {"first": PAGE_SIZE, "after": after, "query": search},
                cost=PAGE_SIZE * 2 + 2,
            )["productVariants"]
            page = []
            for node in data["nodes"]:
                product = node.get("product") or {}
                title = product.get("title") or ""
                if node.get("title") and node["title"] != "Default Title":
                    title = f"{title} - {node['title']}"
                page.append(
                    PlatformProduct(
                        product_ref=product.get("id", ""),
                        variant_ref=node["id"],
                        item_ref=(node.get("inventoryItem") or {}).get("id", ""),
                        sku=node.get("sku") or "",
                        barcode=node.get("barcode") or "",
                        title=title[:500],
                        status=(product.get("status") or "ACTIVE").lower(),
                        updated_at=_parse_time(node.get("updatedAt")),
                    )
                )
            yield page
            if not data["pageInfo"]["hasNextPage"]:
                return
            after = data["pageInfo"]["endCursor"]

    def deleted_since(self, since: datetime) -> Deletions:
        products: set[str] = set()
        after = None
        search = (
            f"action:'destroy' AND subject_type:'PRODUCT' AND created_at:>='{since.isoformat()}'"
        )
        while True:
            data = self.graphql(
                DELETIONS_QUERY,
                {"first": PAGE_SIZE, "after": after, "query": search},
                cost=PAGE_SIZE + 2,
            )["events"]
            for node in data["nodes"]:
                if node.get("action") == "destroy" and node.get("subjectType") == "PRODUCT":
                    products.add(node["subjectId"])
            if not data["pageInfo"]["hasNextPage"]:
                return Deletions(product_refs=frozenset(products))
            after = data["pageInfo"]["endCursor"]

    def get_levels(self, item_refs: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        location = self.location_id()
        for start in range(0, len(item_refs), PAGE_SIZE):
            chunk = item_refs[start : start + PAGE_SIZE]
            nodes = self.graphql(
                LEVELS_QUERY, {"ids": chunk, "location": location}, cost=len(chunk) * 2
            )["nodes"]
            for node in nodes:
                if not node:
                    continue
                level = node.get("inventoryLevel") or {}
                for q in level.get("quantities") or []:
                    if q["name"] == "available":
                        found[node["id"]] = int(q["quantity"])
        return found

    def set_levels(self, updates: list[LevelUpdate], *, idempotency_key: str) -> list[LevelResult]:
        if len(updates) > MAX_QUANTITIES_PER_CALL:
            raise ValueError(f"at most {MAX_QUANTITIES_PER_CALL} quantities per call")
        location = self.location_id()
        variables = {
            "key": idempotency_key,
            "input": {
                "name": "available",
                "reason": "correction",
                "referenceDocumentUri": f"wms://stock-push/{idempotency_key}",
                "quantities": [
                    {
                        "inventoryItemId": u.item_ref,
                        "locationId": location,
                        "quantity": u.quantity,
                        "changeFromQuantity": u.expected,
                    }
                    for u in updates
                ],
            },
        }
        payload = self.graphql(SET_MUTATION, variables, cost=SET_COST_ESTIMATE)
        errors = payload["inventorySetQuantities"]["userErrors"]
        if not errors:
            return [LevelResult(u.item_ref, True, u.expected) for u in updates]
        # The mutation applies all quantities or none: every update fails, stale ones say so.
        stale: set[int] = set()
        messages: dict[int, str] = {}
        general = []
        for error in errors:
            index = _quantity_index(error.get("field"))
            if index is None:
                general.append(error.get("message", ""))
                continue
            messages[index] = f"{error.get('code')}: {error.get('message')}"
            if error.get("code") == "CHANGE_FROM_QUANTITY_STALE":
                stale.add(index)
        if general and not messages:
            codes = {e.get("code") for e in errors}
            raise PlatformError(
                "; ".join(general)[:500],
                transient=bool(codes & {"IDEMPOTENCY_CONCURRENT_REQUEST"}),
            )
        return [
            LevelResult(
                u.item_ref,
                False,
                None,
                messages.get(i, "not applied: another quantity of the call was refused"),
                stale=i in stale or i not in messages,
            )
            for i, u in enumerate(updates)
        ]


def _quantity_index(field: list | None) -> int | None:
    if field and len(field) >= 3 and field[1] == "quantities":
        try:
            return int(field[2])
        except (TypeError, ValueError):
            return None
    return None


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
