"""A fake of the 4PX open platform (the calls ``carriers.fourpx`` makes): every call is
``POST /router/api/service`` whose query carries the common parameters and an MD5 ``sign`` the
fake recomputes with the app secret (a wrong key, secret, body or a stale timestamp is refused
as 4PX does, ``result: "0"``); a second create with the same ``ref_no`` is refused (a
conservative model: the adapter never relies on it); labels are tiny real PDFs; tracking events move on when the test or
the demo says so (``advance``). Injectable failures come from ``FakeBase``."""

from __future__ import annotations

import json
import re
import time

from werkzeug.wrappers import Request, Response

from channels_sync.carriers.fourpx import sign
from channels_sync.fakes.auspost import tiny_pdf
from channels_sync.fakes.base import FakeBase, json_response

DEMO_FOURPX = {"app_key": "fpx_key", "app_secret": "fpx_secret"}
MAX_CLOCK_SKEW_MS = 10 * 60 * 1000


def _refused(code: str, message: str) -> Response:
    return json_response(
        {"result": "0", "msg": message, "errors": [{"error_code": code, "error_msg": message}]}
    )


def _ok(data) -> Response:
    return json_response({"result": "1", "msg": "success", "errors": [], "data": data})


class FakeFourPX(FakeBase):
    def __init__(self, *, app_key="fpx_key", app_secret="fpx_secret"):  # noqa: S107
        super().__init__()
        self.app_key = app_key
        self.app_secret = app_secret
        self.orders: dict[str, dict] = {}  # by ref_no
        self.status: dict[str, str] = {}  # tracking no -> "transit" | "delivered"
        self.creates = 0
        self.create_delay = 0.0

    def advance(self, tracking_no: str, status: str = "delivered") -> None:
        with self.lock:
            self.status[tracking_no] = status

    def handle(self, request: Request) -> Response:
        match = re.fullmatch(r"/_fpx/label-(.+)\.pdf", request.path)
        if match:
            with self.lock:
                order = next(
                    (o for o in self.orders.values() if o["4px_tracking_no"] == match.group(1)),
                    None,
                )
            if order is None:
                return json_response({"errors": "not found"}, 404)
            return Response(tiny_pdf(f"4PX {order['4px_tracking_no']}"), mimetype="application/pdf")
        if request.path != "/router/api/service" or request.method != "POST":
            return json_response({"errors": "Not Found"}, 404)
        args = request.args
        body = request.get_data(as_text=True)
        method = args.get("method", "")
        if args.get("app_key") != self.app_key:
            return _refused("10001", "invalid app_key")
        if args.get("v") != "1.0.0" or args.get("format") != "json":
            return _refused("10002", "invalid v or format")
        try:
            skew = abs(int(args.get("timestamp", "")) - int(time.time() * 1000))
        except ValueError:
            return _refused("10003", "invalid timestamp")
        if skew > MAX_CLOCK_SKEW_MS:
            return _refused("10003", "timestamp expired")
        expected = sign(self.app_key, self.app_secret, method, args["timestamp"], body)
        if args.get("sign") != expected:
            return _refused("10004", "sign check failed")
        try:
            data = json.loads(body or "{}")
        except ValueError:
            return _refused("10005", "body is not JSON")
        if method == "ds.xms.order.create":
            return self._create(data, request.host_url)
        with self.lock:
            if method == "ds.xms.order.get":
                no = data.get("request_no") or ""
                rows = [
                    {"consignment_info": dict(o)}
                    for o in self.orders.values()
                    if no in {o["ref_no"], o["4px_tracking_no"], o["ds_consignment_no"]}
                ]
                return _ok(rows)
            if method == "ds.xms.label.get":
                no = data.get("request_no") or ""
                order = next(
                    (
                        o
                        for o in self.orders.values()
                        if no in {o["ref_no"], o["4px_tracking_no"], o["ds_consignment_no"]}
                    ),
                    None,
                )
                if order is None:
                    return _refused("20001", f"order {no} not found")
                return _ok(
                    {
                        "label_barcode": order["4px_tracking_no"],
                        "label_url_info": {
                            "logistics_label": (
                                f"{request.host_url}_fpx/label-{order['4px_tracking_no']}.pdf"
                            )
                        },
                    }
                )
            if method == "tr.order.tracking.get":
                return self._track(data.get("deliveryOrderNo") or "")
        return _refused("10006", f"unknown method {method}")

    def _create(self, data: dict, host_url: str) -> Response:
        with self.lock:
            missing = [
                k
                for k in ("ref_no", "logistics_service_info", "sender", "recipient_info")
                if not data.get(k)
            ]
            to = data.get("recipient_info") or {}
            missing += [
                f"recipient_info.{k}"
                for k in ("first_name", "country", "city", "street", "post_code")
                if not to.get(k)
            ]
            parcels = data.get("parcel_list") or []
            if not parcels or not parcels[0].get("weight"):
                missing.append("parcel_list.weight")
            if not (data.get("logistics_service_info") or {}).get("logistics_product_code"):
                missing.append("logistics_product_code")
            if missing:
                return _refused("30001", f"missing: {', '.join(missing)}")
            if data["ref_no"] in self.orders:
                return _refused("30002", f"ref_no {data['ref_no']} already exists")
            self.creates += 1
            n = self.creates
            order = {
                "ds_consignment_no": f"DS{n:010d}",
                "4px_tracking_no": f"4PX30{n:010d}CN",
                "ref_no": data["ref_no"],
                "logistics_channel_no": "",
                "logistics_product_code": data["logistics_service_info"]["logistics_product_code"],
                "consignment_status": "P",
                "consignment_create_date": int(time.time() * 1000),
            }
            self.orders[data["ref_no"]] = order
            self.status[order["4px_tracking_no"]] = "transit"
            if self.create_delay:  # applied now, answered late (the caller may be gone)
                self.lock.release()
                try:
                    time.sleep(self.create_delay)
                finally:
                    self.lock.acquire()
            return _ok(
                {
                    "ds_consignment_no": order["ds_consignment_no"],
                    "4px_tracking_no": order["4px_tracking_no"],
                    "ref_no": order["ref_no"],
                    "logistics_channel_no": "",
                }
            )

    def _track(self, number: str) -> Response:
        status = self.status.get(number)
        if status is None:
            return _refused("40001", f"no tracking for {number}")
        rows = [
            {
                "businessLinkCode": "FPX_L_RPIF",
                "occurDatetime": "2026-11-29 09:00:00",
                "occurLocation": "Shenzhen",
                "trackingContent": "Parcel information received",
            }
        ]
        if status == "delivered":
            rows.insert(
                0,
                {
                    "businessLinkCode": "FPX_S_OK",
                    "occurDatetime": "2026-12-03 14:20:00",
                    "occurLocation": "Sydney",
                    "trackingContent": "Delivered",
                },
            )
        return _ok({"deliveryOrderNo": number, "destinationCountry": "AU", "trackingList": rows})
