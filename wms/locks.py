"""PostgreSQL advisory locks, named by strings: the one home of these wrappers for every app.

An advisory lock guards work, not rows: "one run of this periodic job at a time", "one edit of
the combo graph at a time", "this job is being run by a live worker". Keys are stable signed
64-bit hashes of a name (``advisory_key``), so two apps cannot collide by picking the same small
integer. Row locks stay where their rows are (``inventory.locks``, ``freezes.locks``).

Public API:

* ``advisory_key(name) -> int``: the lock key of ``name`` (blake2b, 8 bytes, signed).
* ``advisory_lock(name)``: context manager; tries the SESSION lock, yields whether it was taken,
  releases it on exit. For periodic jobs (an overlapping tick or a second beat finds it taken and
  returns at once) and for claiming a background job (``wms.jobs``). A session lock outlives
  transactions and dies with the connection, so a killed worker never leaves one behind.
* ``advisory_xact_lock(name, *, wait=True) -> bool``: the TRANSACTION lock, held until commit or
  rollback; waits for it (``wait=True``, returns True) or tries once (``wait=False``, returns
  whether it was taken). Call inside ``transaction.atomic()``.
* ``advisory_lock_is_free(name) -> bool``: whether nobody holds ``name`` right now (it takes and
  drops the lock at once): how the job sweeper tells a dead worker's job from a slow one.

On SQLite (the laptop default) there are no advisory locks and none are needed (one writer at a
time): taking a lock always succeeds and ``advisory_lock_is_free`` answers True.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import Error, connection


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (the same in every process and release)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _select(sql: str, key: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
    return True if row[0] is None else bool(row[0])  # pg_advisory_xact_lock returns void


@contextmanager
def advisory_lock(name: str) -> Iterator[bool]:
    """Try to take the session advisory lock ``name``; yield whether it was taken; release it on
    exit (only when taken). Never waits."""
    if not _postgres():
        yield True
        return
    key = advisory_key(name)
    acquired = _select("SELECT pg_try_advisory_lock(%s)", key)
    try:
        yield acquired
    finally:
        if acquired:
            _unlock(key)


def _unlock(key: int) -> None:
    try:
        _select("SELECT pg_advisory_unlock(%s)", key)
    except Error:
        if connection.is_usable():
            raise
        # The connection was lost inside the block, and its session locks with it.


def advisory_xact_lock(name: str, *, wait: bool = True) -> bool:
    """Take the transaction advisory lock ``name`` until the transaction ends. With ``wait`` it
    blocks until it is free and returns True; without, it returns whether it was taken. Raises
    ``RuntimeError`` outside ``transaction.atomic()`` (the lock would end with the statement)."""
    if not connection.in_atomic_block:
        raise RuntimeError("advisory_xact_lock needs an open transaction (transaction.atomic())")
    if not _postgres():
        return True
    key = advisory_key(name)
    if wait:
        return _select("SELECT pg_advisory_xact_lock(%s)", key)
    return _select("SELECT pg_try_advisory_xact_lock(%s)", key)


def advisory_lock_is_free(name: str) -> bool:
    """True when no session or transaction holds ``name`` at this moment (it is taken and given
    back at once, so the answer is exact for that instant only)."""
    if not _postgres():
        return True
    with advisory_lock(name) as acquired:
        return acquired
