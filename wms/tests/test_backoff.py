import email.utils
import time

import pytest

from wms import backoff


@pytest.mark.parametrize("jitter", ["full", "equal", "none"])
def test_delay_grows_exponentially_and_is_capped(jitter):
    for attempt in range(1, 20):
        ceiling = min(300, 10 * 2 ** (attempt - 1))
        for _ in range(50):
            wait = backoff.delay(attempt, base=10, cap=300, jitter=jitter)
            assert 0 <= wait <= ceiling
            if jitter == "equal":
                assert wait >= ceiling / 2
            if jitter == "none":
                assert wait == ceiling


def test_full_jitter_spreads_the_waits():
    waits = {round(backoff.delay(5, base=1, cap=60), 3) for _ in range(50)}
    assert len(waits) > 10


def test_retry_after_is_a_floor_but_still_capped():
    assert backoff.delay(1, base=1, cap=60, retry_after=30, jitter="full") >= 30
    assert backoff.delay(1, base=1, cap=60, retry_after=3600) == 60


def test_retry_after_header_in_seconds_or_as_an_http_date():
    assert backoff.retry_after_seconds("120") == 120
    assert backoff.retry_after_seconds(" 1.5 ") == 1.5
    assert backoff.retry_after_seconds("-4") == 0
    later = email.utils.formatdate(time.time() + 90, usegmt=True)
    assert 85 <= backoff.retry_after_seconds(later) <= 91
    for unreadable in (None, "", "soon", "Mon, 99 Foo 2026"):
        assert backoff.retry_after_seconds(unreadable) is None
