"""Webhook signatures: ``X-WMS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`` where the MAC
is over ``f"{t}.{body}"`` (the exact bytes of the body) with the subscription's secret.

A receiver recomputes the MAC, compares it in constant time, and refuses a timestamp more than
``REPLAY_WINDOW`` seconds from its own clock (see README "Webhooks" for the few lines)."""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-WMS-Signature"
REPLAY_WINDOW = 300  # seconds


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header_value(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: int | None = None) -> bool:
    """What a receiver does; used by our tests and documented in the README."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    now = int(time.time()) if now is None else now
    if abs(now - timestamp) > REPLAY_WINDOW:
        return False
    return hmac.compare_digest(parts.get("v1", ""), signature(secret, timestamp, body))
