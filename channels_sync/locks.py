"""Advisory locks of the channels app (one push per shop at a time; one run per periodic job).

Same shape as the shared ``wms.locks.advisory_lock`` helper the ``worker`` branch is building;
switch the import when it lands in main. On SQLite the lock is always taken.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


def advisory_key(name: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


@contextmanager
def advisory_lock(name: str) -> Iterator[bool]:
    """Try the session advisory lock ``name`` (never waits); yield whether it was taken."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = advisory_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
