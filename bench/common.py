"""Shared pieces of the benchmarks: timing, the report line, a raw psycopg connection.

Each benchmark module in bench/ exposes ``BENCHMARKS = {"name": function}``; a function takes
``scale`` (1.0 = the size the issue names, smaller for the CI smoke run) and prints its lines
with ``report``: ``<name>: app=<s> baseline=<s> ratio=<app/baseline> [extra=value ...]``.

After timing, a benchmark checks its result in the database with ``check(condition, message)``:
a failed check prints ``CHECK FAILED: <name>: <message>`` and makes ``python -m bench`` exit 1
(the run goes on, so one broken benchmark does not hide the figures of the others).
"""

import resource
import time
from collections.abc import Callable
from contextlib import contextmanager

from django.db import connection

FAILURES: list[str] = []
_current: list[str] = ["-"]


def check(condition: object, message: str) -> bool:
    """Record a failed result check of the running benchmark (see the module docstring);
    returns the condition, so a benchmark can skip work that depends on it."""
    if not condition:
        FAILURES.append(f"{_current[0]}: {message}")
        print(f"  CHECK FAILED: {_current[0]}: {message}", flush=True)
    return bool(condition)


def running(name: str) -> None:
    """Name the benchmark the following checks belong to (called by ``bench.__main__``)."""
    _current[0] = name


def scaled(full: int, scale: float, minimum: int = 10) -> int:
    return max(minimum, int(full * scale))


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def report(name: str, app: float, baseline: float, **extra: object) -> str:
    ratio = app / baseline if baseline > 0 else float("inf")
    line = f"{name}: app={app:.4f} baseline={baseline:.4f} ratio={ratio:.2f}"
    if extra:
        line += " " + " ".join(f"{key}={value}" for key, value in extra.items())
    print(line, flush=True)
    return line


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def raw_connection():
    """A plain psycopg2 connection to the benchmark database, for the baselines."""
    import psycopg2

    params = connection.get_connection_params()
    conn = psycopg2.connect(**params)
    try:
        yield conn
    finally:
        conn.close()
