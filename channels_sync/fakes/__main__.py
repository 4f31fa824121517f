"""Run a platform fake as a process: ``python -m channels_sync.fakes shopify --port 8765 --demo``.
Binds 127.0.0.1 only. ``GET /_fake/state`` shows what the fake holds (for people and tests)."""

from __future__ import annotations

import argparse
import json
import sys

from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m channels_sync.fakes")
    parser.add_argument("platform", choices=["shopify"])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--demo", action="store_true", help="seed the demo shop's products")
    args = parser.parse_args(argv)
    from channels_sync.fakes.aramex import FakeAramex
    from channels_sync.fakes.auspost import FakeAusPost
    from channels_sync.fakes.demo import DEMO_TOKEN, seed
    from channels_sync.fakes.fourpx import FakeFourPX
    from channels_sync.fakes.shopify_orders import FakeShopifyOrders

    # The demo shop makes two new orders on every order pull; the same process answers the
    # demo carriers' APIs: Australia Post (/shipping/v1/..., /_files/...), 4PX
    # (/router/api/service, /_fpx/...) and Aramex Australia (/connect/token, /api/...).
    fake = FakeShopifyOrders(
        token=DEMO_TOKEN if args.demo else "shpat_test",
        demo_orders_per_pull=2 if args.demo else 0,
    )
    carrier = FakeAusPost()
    fourpx = FakeFourPX()
    aramex = FakeAramex()
    if args.demo:
        seed(fake)

    def app(environ, start_response):
        request = Request(environ)
        if request.path == "/_fake/state":
            body = {v.sku or v.barcode: fake.levels.get(v.item_id) for v in fake.variants.values()}
            return Response(json.dumps(body), mimetype="application/json")(environ, start_response)
        if request.path.startswith(("/shipping/", "/_files/")):
            return carrier(environ, start_response)
        if request.path.startswith(("/router/", "/_fpx/")):
            return fourpx(environ, start_response)
        if request.path.startswith(("/connect/", "/api/")):
            return aramex(environ, start_response)
        if request.path == "/_fake/orders":
            body = {
                o.name: {"fulfilled": [f["tracking"] for f in o.fulfillments]}
                for o in fake.orders.values()
            }
            return Response(json.dumps(body), mimetype="application/json")(environ, start_response)
        return fake(environ, start_response)

    run_simple("127.0.0.1", args.port, app, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
