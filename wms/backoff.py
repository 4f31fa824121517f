"""Retry delays: exponential backoff with jitter and a ``Retry-After`` floor, in one place.

Used by every retry loop that is not a Celery task retry (those use ``wms.celery.TASK_RETRY``):
the platform and carrier HTTP client's in-call retries, webhook deliveries, and the stock
outbox. ``delay(attempt, base=..., cap=...)`` grows ``base * 2**(attempt-1)`` up to ``cap``;
``jitter="full"`` draws from [0, ceiling] (spreads a thundering herd best), ``"equal"`` from
[ceiling/2, ceiling] (keeps a minimum wait), ``"none"`` returns the ceiling (a schedule a query
can compare against). A server's ``Retry-After`` is a floor, itself capped.
"""

from __future__ import annotations

import email.utils
import random
import time
from typing import Literal

Jitter = Literal["full", "equal", "none"]


def delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    jitter: Jitter = "full",
) -> float:
    """Seconds to wait before try number ``attempt + 1`` (``attempt`` >= 1 failed so far)."""
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    if jitter == "full":
        wait = random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography
    elif jitter == "equal":
        wait = ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311
    else:
        wait = ceiling
    if retry_after is not None:
        wait = max(wait, min(retry_after, cap))
    return wait


def retry_after_seconds(value: str | None) -> float | None:
    """An HTTP ``Retry-After`` header as seconds from now: delta-seconds or an HTTP-date
    (RFC 9110 §10.2.3); ``None`` when absent or unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    return max(0.0, parsed.timestamp() - time.time())
