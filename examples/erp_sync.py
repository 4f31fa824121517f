#!/usr/bin/env python3
"""An ERP talking to the WMS API: create goods, receive stock, freeze a batch, read balances.

Standard library only. Usage::

    export WMS_API_TOKEN=wms_...          # from /api/tokens/ (a warehouse manager's token)
    python examples/erp_sync.py --base-url http://127.0.0.1:8000 --warehouse SYD --bin A-01-01

Every posting carries an ``Idempotency-Key`` derived from the ERP's own document number, so
running the script twice posts nothing twice (the WMS answers the first result again).
Errors come back as ``{"code", "message", "fields"}``; the script prints them and exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


class ApiError(Exception):
    def __init__(self, status: int, body: dict) -> None:
        super().__init__(f"HTTP {status} {body.get('code')}: {body.get('message')}")
        self.status = status
        self.body = body


class Wms:
    def __init__(self, base_url: str, token: str) -> None:
        self.base = base_url.rstrip("/") + "/api/v1/"
        self.token = token

    def call(self, method: str, path: str, body: dict | None = None, *, key: str = "", **query):
        url = self.base + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raise ApiError(error.code, json.loads(error.read() or b"{}")) from None

    def one(self, path: str, **query) -> dict:
        results = self.call("GET", path, **query)["results"]
        if not results:
            raise SystemExit(f"Nothing found at {path} for {query}")
        return results[0]


def sync(wms: Wms, *, warehouse_code: str, bin_code: str, sku: str, po: str) -> list[dict]:
    warehouse = wms.one("warehouses/", q=warehouse_code)
    bin_ = wms.one("bins/", code=bin_code, warehouse=warehouse["id"])

    # 1. The goods: create it, or find it when the ERP created it before (409 duplicate_sku).
    try:
        goods = wms.call(
            "POST", "goods/", {"sku": sku, "name": "Velvet lipstick, ruby", "shelf_life_days": 730}
        )
        print(f"created goods {goods['sku']} (id {goods['id']})")
    except ApiError as error:
        if error.body.get("code") != "duplicate_sku":
            raise
        goods = wms.one("goods/", q=sku)
        print(f"goods {sku} exists (id {goods['id']})")

    # 2. Receive 120 units of a new batch against the ERP's purchase order, in one request.
    sheet = wms.call(
        "POST",
        "receipts/",
        {
            "warehouse": warehouse["id"],
            "type": "purchase",
            "reference": po,
            "lines": [
                {"goods": goods["id"], "bin": bin_["id"], "quantity": 120, "batch_no": f"{po}-B1"}
            ],
        },
        key=f"erp-receipt-{po}",
    )
    print(f"received {sheet['number']} ({sheet['status']})")

    # 3. Freeze that batch for QC: released automatically when QC passes.
    detail = wms.call("GET", f"goods/{goods['id']}/")
    batch = next(b for b in detail["batches"] if b["batch_no"] == f"{po}-B1")
    freeze = wms.call(
        "POST",
        "freezes/",
        {
            "scope": {"goods": goods["id"], "batch": batch["id"]},
            "reason": "qc_hold",
            "release_on_qc_pass": True,
            "note": f"QC of {po}",
        },
        key=f"erp-freeze-{po}",
    )
    print(f"froze batch {batch['batch_no']}: {freeze['number']}")

    # 4. Read the balances of the goods (cursor pages: follow "next" until it is null).
    rows, page = [], wms.call("GET", "balances/", q=sku, limit=100)
    while True:
        rows += page["results"]
        if not page["next"]:
            break
        cursor = urllib.parse.parse_qs(urllib.parse.urlsplit(page["next"]).query)["cursor"][0]
        page = wms.call("GET", "balances/", q=sku, limit=100, cursor=cursor)
    for row in rows:
        print(
            f"{row['sku']} {row['warehouse_code']}/{row['bin_code']} batch {row['batch_no']}: "
            f"on hand {row['on_hand']}, frozen {row['frozen']}, available {row['available']}"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("WMS_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--warehouse", required=True, help="warehouse code")
    parser.add_argument("--bin", required=True, help="bin code in that warehouse")
    parser.add_argument("--sku", default="ERP-LIP-001")
    parser.add_argument("--po", default="PO-20261129")
    args = parser.parse_args(argv)
    token = os.environ.get("WMS_API_TOKEN")
    if not token:
        print("Set WMS_API_TOKEN (create one at /api/tokens/).", file=sys.stderr)
        return 2
    try:
        sync(
            Wms(args.base_url, token),
            warehouse_code=args.warehouse,
            bin_code=args.bin,
            sku=args.sku,
            po=args.po,
        )
    except ApiError as error:
        print(f"refused: {error} {error.body.get('fields') or ''}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
