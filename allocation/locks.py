"""Locks of the allocation app and the order they are taken in.

1. A PostgreSQL advisory lock per periodic job (``advisory_lock``), so an overlapping beat tick
   does not run it twice; and per (window, store) while a first-come grab checks the store's
   per-window cap (``store_window_lock``), so two phones of one store cannot both pass it.
2. The grab window row ``FOR UPDATE`` (close, cancel, open: compare-and-set on its status).
3. Its pool rows ``FOR UPDATE`` in primary-key order. A first-come grab takes only its pool row,
   by its conditional ``UPDATE ... WHERE is_open AND granted + n <= offered``.
4. Replenishment order rows ``FOR UPDATE`` (status changes), then the ledger's balance locks.

SQLite has no such locks; the functions fall back to nothing (SQLite serialises writers).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

_STORE_WINDOW_NAMESPACE = 0x414C43  # "ALC"


def _key(name: str) -> int:
    return zlib.crc32(f"allocation:{name}".encode()) & 0x7FFFFFFF


@contextmanager
def advisory_lock(name: str) -> Iterator[bool]:
    """Try the named transaction-level advisory lock inside a transaction of its own; yields
    whether it was taken (always True off PostgreSQL)."""
    with transaction.atomic():
        if connection.vendor != "postgresql":
            yield True
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_key(name)])
            acquired = cursor.fetchone()[0]
        yield acquired


def store_window_lock(window_id: int, store_id: int) -> None:
    """Serialise first-come grabs of one store in one window until the transaction ends."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [_STORE_WINDOW_NAMESPACE ^ (window_id & 0x7FFFFFFF), store_id & 0x7FFFFFFF],
        )
