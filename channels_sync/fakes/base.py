"""Shared pieces of the fakes: injectable failures and JSON responses."""

from __future__ import annotations

import json
import threading
import time
from collections import deque

from werkzeug.wrappers import Request, Response


class FakeBase:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.failures: deque = deque()
        self.requests: list[dict] = []

    def fail_next(self, kind: str, *, times: int = 1, **options) -> None:
        """Make the next ``times`` requests fail: ``kind`` "status" (``status=500``), "timeout"
        (sleeps ``seconds``), "throttle" (429 with ``retry_after``), "slow" (sleeps ``seconds``, then answers normally)."""
        for _ in range(times):
            self.failures.append((kind, options))

    def _injected(self) -> Response | None:
        with self.lock:
            if not self.failures:
                return None
            kind, options = self.failures.popleft()
        if kind == "slow":  # answer normally, late (the caller may be gone by then)
            time.sleep(options.get("seconds", 2.0))
            return None
        if kind == "timeout":
            time.sleep(options.get("seconds", 2.0))
            return json_response({"errors": "slow"}, 504)
        if kind == "throttle":
            return json_response(
                {"errors": "Too many requests"},
                429,
                headers={"Retry-After": str(options.get("retry_after", 1))},
            )
        return json_response({"errors": "Internal error"}, options.get("status", 500))

    def __call__(self, environ, start_response):
        request = Request(environ)
        failed = self._injected()
        if failed is not None:
            return failed(environ, start_response)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:  # pragma: no cover - subclasses
        raise NotImplementedError


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers or {}, mimetype="application/json"
    )
