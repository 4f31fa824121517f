"""A fake of the Australia Post Shipping and Tracking API (the calls ``carriers.auspost``
makes), enforcing Basic auth and the ``Account-Number`` header, one shipment per
``shipment_reference`` lookup, labels served as real (tiny) PDFs, and tracking events that the
test or demo moves on (``advance``). Injectable failures come from ``FakeBase``."""

from __future__ import annotations

import base64
import re
import time
from datetime import UTC, datetime

from werkzeug.wrappers import Request, Response

from channels_sync.fakes.base import FakeBase, json_response

DEMO_AUSPOST = {"api_key": "ap_key", "password": "ap_pass", "account_number": "1234567890"}


def tiny_pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` (ASCII), built by hand: a label a printer accepts."""
    safe = re.sub(r"[^A-Za-z0-9 #:/.-]", "", text)[:60]
    stream = f"BT /F1 18 Tf 40 200 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out


class FakeAusPost(FakeBase):
    def __init__(self, *, api_key="ap_key", password="ap_pass", account="1234567890"):  # noqa: S107
        super().__init__()
        self.auth = "Basic " + base64.b64encode(f"{api_key}:{password}".encode()).decode()
        self.account = account
        self.shipments: dict[str, dict] = {}
        self.status: dict[str, str] = {}
        self.creates = 0
        self.create_delay = 0.0  # a create is applied at once and answered this many s later

    def advance(self, tracking_id: str, status: str = "Delivered") -> None:
        with self.lock:
            self.status[tracking_id] = status

    def handle(self, request: Request) -> Response:
        if request.headers.get("Authorization") != self.auth:
            return json_response({"errors": [{"code": "401", "name": "UNAUTHORISED"}]}, 401)
        if request.headers.get("Account-Number") != self.account:
            return json_response({"errors": [{"code": "403", "name": "ACCOUNT_INVALID"}]}, 403)
        path = request.path
        with self.lock:
            if path == "/shipping/v1/shipments" and request.method == "POST":
                return self._create(request.get_json(force=True, silent=True) or {})
            if path == "/shipping/v1/shipments" and request.method == "GET":
                return self._list(request)
            if path == "/shipping/v1/labels" and request.method == "POST":
                body = request.get_json(force=True, silent=True) or {}
                ids = [s.get("shipment_id") for s in body.get("shipments") or []]
                if not ids or any(i not in self.shipments for i in ids):
                    return json_response({"errors": [{"code": "44013", "name": "NOT_FOUND"}]}, 404)
                return json_response(
                    {
                        "labels": [
                            {
                                "request_id": f"req-{ids[0]}",
                                "status": "AVAILABLE",
                                "url": f"{request.host_url}_files/label-{ids[0]}.pdf",
                            }
                        ]
                    }
                )
            match = re.fullmatch(r"/_files/label-(.+)\.pdf", path)
            if match and match.group(1) in self.shipments:
                shipment = self.shipments[match.group(1)]
                article = shipment["items"][0]["tracking_details"]["article_id"]
                return Response(tiny_pdf(f"AUSPOST {article}"), mimetype="application/pdf")
            if path == "/shipping/v1/track":
                ids = [i for i in (request.args.get("tracking_ids") or "").split(",") if i]
                if len(ids) > 10:
                    return json_response({"errors": [{"message": "at most 10 ids"}]}, 400)
                return json_response({"tracking_results": [self._track(i) for i in ids]})
        return json_response({"errors": [{"message": "Not Found"}]}, 404)

    def _list(self, request: Request) -> Response:
        """Get Shipments: by ``shipment_ids``, or a page (``offset`` and ``number_of_shipments``
        both required) optionally filtered by ``sender_reference`` (comma-separated)."""
        args = request.args
        if args.get("shipment_ids"):
            ids = set(args["shipment_ids"].split(","))
            return json_response({"shipments": [s for i, s in self.shipments.items() if i in ids]})
        try:
            offset, number = int(args["offset"]), int(args["number_of_shipments"])
        except (KeyError, ValueError):
            return json_response(
                {"errors": [{"code": "400", "message": "offset and number_of_shipments"}]}, 400
            )
        rows = list(self.shipments.values())
        if args.get("sender_reference"):
            wanted = set(args["sender_reference"].split(","))
            rows = [s for s in rows if wanted & set(s["sender_references"])]
        return json_response({"shipments": rows[offset : offset + number]})

    def _create(self, body: dict) -> Response:
        out = []
        for s in body.get("shipments") or []:
            missing = [k for k in ("from", "to", "items") if not s.get(k)]
            to = s.get("to") or {}
            missing += [
                k for k in ("name", "lines", "suburb", "state", "postcode") if not to.get(k)
            ]
            if missing:
                return json_response(
                    {"errors": [{"code": "40002", "message": f"missing: {', '.join(missing)}"}]},
                    400,
                )
            self.creates += 1
            number = self.creates
            shipment = {
                "shipment_id": f"SHP{number:08d}",
                "shipment_reference": s.get("shipment_reference", ""),
                "customer_reference_1": s.get("customer_reference_1", ""),
                "customer_reference_2": s.get("customer_reference_2", ""),
                "sender_references": [
                    r for r in (s.get("customer_reference_1"), s.get("customer_reference_2")) if r
                ],
                "shipment_creation_date": datetime.now(UTC).isoformat(),
                "items": [
                    {
                        "item_id": f"ITM{number:08d}",
                        "item_reference": s["items"][0].get("item_reference", ""),
                        "tracking_details": {
                            "article_id": f"33AB{number:08d}01000931509",
                            "consignment_id": f"33AB{number:08d}",
                        },
                        "product_id": s["items"][0].get("product_id", ""),
                    }
                ],
            }
            self.shipments[shipment["shipment_id"]] = shipment
            self.status[shipment["items"][0]["tracking_details"]["article_id"]] = "Initiated"
            out.append(shipment)
        if self.create_delay:  # applied now, answered late: the caller may be gone by then
            self.lock.release()  # let lookups through while this answer is "in flight"
            try:
                time.sleep(self.create_delay)
            finally:
                self.lock.acquire()
        return json_response({"shipments": out}, 201)

    def _track(self, tracking_id: str) -> dict:
        status = self.status.get(tracking_id)
        if status is None:
            return {
                "tracking_id": tracking_id,
                "errors": [{"code": "ESB-10001", "name": "Invalid"}],
            }
        events = [
            {
                "location": "SYDNEY NSW",
                "description": "Shipping information received",
                "date": "2026-11-29T09:00:00+11:00",
            }
        ]
        if status == "Delivered":
            events.insert(
                0,
                {
                    "location": "SYDNEY NSW",
                    "description": "Delivered",
                    "date": "2026-11-30T10:00:00+11:00",
                },
            )
        return {
            "tracking_id": tracking_id,
            "status": status,
            "trackable_items": [{"article_id": tracking_id, "events": events}],
        }
