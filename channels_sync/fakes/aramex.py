"""A fake of the Aramex Australia (aramexConnect, formerly myFastway) API, the calls
``carriers.aramex`` makes: ``POST /connect/token`` (client credentials; tokens expire, or are
expired on demand with ``expire_tokens``), bearer auth and the ``api-version`` Accept header on
every ``/api/`` call, consignment create with validation, the date-range list a retry looks its
``ExternalRef1`` up in, PDF labels and tracking scans that move on when the test or the demo
says so (``advance``). Injectable failures come from ``FakeBase``."""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, date, datetime

from werkzeug.wrappers import Request, Response

from channels_sync.fakes.auspost import tiny_pdf
from channels_sync.fakes.base import FakeBase, json_response

DEMO_ARAMEX = {"client_id": "arx_client", "client_secret": "arx_secret"}


def _errors(code: str, message: str, status: int = 400) -> Response:
    return json_response({"errors": [{"code": code, "message": message}]}, status)


class FakeAramex(FakeBase):
    def __init__(self, *, client_id="arx_client", client_secret="arx_secret", scope="ac-api-au"):  # noqa: S107
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self.tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        self.token_requests = 0
        self.consignments: dict[int, dict] = {}
        self.status: dict[str, str] = {}  # label -> "transit" | "delivered"
        self.creates = 0
        self.create_delay = 0.0

    def advance(self, label: str, status: str = "delivered") -> None:
        with self.lock:
            self.status[label] = status

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def handle(self, request: Request) -> Response:
        if request.path == "/connect/token" and request.method == "POST":
            return self._token(request)
        if not request.path.startswith("/api/"):
            return _errors("NOT_FOUND", "Not Found", 404)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        with self.lock:
            valid = auth.startswith("Bearer ") and self.tokens.get(token, 0) > time.monotonic()
        if not valid:
            return json_response({"message": "Unauthorized"}, 401)
        if "api-version=1.0" not in request.headers.get("Accept", ""):
            return _errors("API_VERSION", "api-version 1.0 expected in Accept")
        path, method = request.path, request.method
        if path == "/api/consignments" and method == "POST":
            return self._create(request.get_json(force=True, silent=True) or {})
        with self.lock:
            if path == "/api/consignments" and method == "GET":
                return self._list(request)
            match = re.fullmatch(r"/api/consignments/(\d+)", path)
            if match and method == "GET":
                con = self.consignments.get(int(match.group(1)))
                if con is None:
                    return _errors("CON_NOT_FOUND", "consignment not found", 404)
                return json_response({"data": con})
            match = re.fullmatch(r"/api/consignments/(\d+)/labels", path)
            if match and method == "GET":
                con = self.consignments.get(int(match.group(1)))
                if con is None:
                    return _errors("CON_NOT_FOUND", "consignment not found", 404)
                if request.args.get("pageSize") not in {"A4", "4x6"}:
                    return _errors("PAGE_SIZE", "pageSize must be A4 or 4x6")
                return Response(
                    tiny_pdf(f"ARAMEX {con['items'][0]['label']}"), mimetype="application/pdf"
                )
            match = re.fullmatch(r"/api/track/label/(\w+)", path)
            if match and method == "GET":
                return self._track(match.group(1))
        return _errors("NOT_FOUND", "Not Found", 404)

    def _token(self, request: Request) -> Response:
        form = request.form
        if form.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return json_response({"error": "invalid_client"}, 400)
        if form.get("scope") != self.scope:
            return json_response({"error": "invalid_scope"}, 400)
        token = secrets.token_hex(16)
        with self.lock:
            self.token_requests += 1
            self.tokens[token] = time.monotonic() + 3600
        return json_response({"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    def _list(self, request: Request) -> Response:
        args = request.args
        try:
            start = date.fromisoformat(args["fromDate"])
            end = date.fromisoformat(args["toDate"])
            page, size = int(args["pageNumber"]), int(args["pageSize"])
        except (KeyError, ValueError):
            return _errors("LIST_ARGS", "fromDate, toDate, pageNumber and pageSize expected")
        rows = [
            {
                "conId": c["conId"],
                "toContactName": c["to"].get("ContactName", ""),
                "externalRef1": c["externalRef1"],
                "externalRef2": c["externalRef2"],
                "createdOn": c["createdOn"],
                "itemCount": len(c["items"]),
            }
            for c in self.consignments.values()
            if start <= date.fromisoformat(c["createdOn"][:10]) <= end
        ]
        return json_response({"data": rows[page * size : (page + 1) * size]})

    def _create(self, body: dict) -> Response:
        with self.lock:
            to = body.get("To") or {}
            address = to.get("Address") or {}
            missing = [k for k in ("ContactName",) if not to.get(k)]
            missing += [
                f"Address.{k}"
                for k in ("StreetAddress", "Locality", "StateOrProvince", "PostalCode")
                if not address.get(k)
            ]
            items = body.get("Items") or []
            if not items:
                missing.append("Items")
            for item in items:
                if item.get("PackageType") == "S" and not item.get("SatchelSize"):
                    missing.append("Items.SatchelSize")
                if item.get("PackageType") == "P" and not item.get("WeightDead"):
                    missing.append("Items.WeightDead")
            if missing:
                return _errors("CON_VALIDATION", f"missing: {', '.join(missing)}")
            if address.get("Country", "AU") != "AU":
                return _errors("CON_COUNTRY", "domestic consignments only")
            self.creates += 1
            n = self.creates
            con = {
                "conId": 700000 + n,
                "externalRef1": body.get("ExternalRef1", ""),
                "externalRef2": body.get("ExternalRef2", ""),
                "createdOn": datetime.now(UTC).date().isoformat() + "T09:00:00",
                "to": to,
                "items": [
                    {
                        "conItemId": n,
                        "label": f"MP{n:010d}",
                        "packageType": item.get("PackageType"),
                        "reference": item.get("Reference", ""),
                    }
                    for item in items
                ],
            }
            self.consignments[con["conId"]] = con
            self.status[con["items"][0]["label"]] = "transit"
            if self.create_delay:  # applied now, answered late (the caller may be gone)
                self.lock.release()
                try:
                    time.sleep(self.create_delay)
                finally:
                    self.lock.acquire()
            return json_response({"data": con})

    def _track(self, label: str) -> Response:
        status = self.status.get(label)
        if status is None:
            return _errors("TRACK_NOT_FOUND", f"label {label} not found", 404)
        scans = [
            {
                "scanType": "P",
                "description": "Picked up",
                "scannedDateTime": "2026-11-29T10:00:00",
            },
            {
                "scanType": "T",
                "description": "In transit",
                "scannedDateTime": "2026-11-29T18:00:00",
            },
        ]
        if status == "delivered":
            scans.append(
                {
                    "scanType": "D",
                    "description": "Delivered",
                    "scannedDateTime": "2026-11-30T11:00:00",
                }
            )
        return json_response({"data": scans})
