"""The one HTTP client of the platform adapters (httpx): timeouts on every call, retries with
exponential backoff and full jitter honouring ``Retry-After``, capped; secrets never logged.

A call that still fails after its retries raises ``PlatformError`` with ``transient`` telling
whether trying later may help (5xx, 429, timeouts, connection errors) or not (4xx).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import httpx

from wms import backoff

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class PlatformError(Exception):
    def __init__(self, message: str, *, status: int | None = None, transient: bool = True):
        super().__init__(message)
        self.status = status
        self.transient = transient


@dataclass
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Full jitter over an exponential ceiling (``attempt`` counts from 0); a platform's
        Retry-After is a floor (``wms.backoff``)."""
        return backoff.delay(
            attempt + 1, base=self.base_delay, cap=self.max_delay, retry_after=retry_after
        )


parse_retry_after = backoff.retry_after_seconds


class HttpClient:
    """Wraps one ``httpx.Client`` per adapter. ``sleep`` is injectable for tests."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        sleep=time.sleep,
        transport: httpx.BaseTransport | None = None,
    ):
        from urllib.parse import urlsplit

        from django.conf import settings

        if getattr(settings, "CHANNELS_LOCAL_ONLY", False) and urlsplit(base_url).hostname not in {
            "127.0.0.1",
            "localhost",
        }:
            raise PlatformError(
                f"refusing a non-local platform address {base_url!r}", transient=False
            )
        self.client = httpx.Client(
            base_url=base_url,
            headers=headers or {},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport,
        )
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.calls = 0

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        """Send with retries; return the final 2xx response or raise ``PlatformError``."""
        last: PlatformError | None = None
        for attempt in range(self.retry.attempts):
            retry_after = None
            try:
                self.calls += 1
                response = self.client.request(method, url, **kwargs)
            except httpx.TimeoutException as exc:
                last = PlatformError(f"timed out: {type(exc).__name__}", transient=True)
            except httpx.TransportError as exc:
                last = PlatformError(f"cannot reach the platform: {type(exc).__name__}")
            else:
                if response.status_code < 400:
                    return response
                text = response.text[:300]
                last = PlatformError(
                    f"HTTP {response.status_code}: {text}",
                    status=response.status_code,
                    transient=response.status_code in RETRY_STATUSES,
                )
                if not last.transient:
                    raise last
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if attempt + 1 < self.retry.attempts:
                wait = self.retry.delay(attempt, retry_after)
                logger.info(
                    "platform call retried",
                    extra={"method": method, "path": url, "error": str(last), "wait": wait},
                )
                self.sleep(wait)
        assert last is not None
        raise last
