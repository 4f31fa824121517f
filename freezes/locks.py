"""Row and advisory locks of the freezes app, and the order they are taken in.

The ledger's lock order (``inventory.locks``) puts the document row first, then balances in
primary-key order. A freeze is a document, so every freeze service takes:

1. release requests it decides, ``FOR UPDATE`` (compare-and-set on their status);
2. the freeze row(s), ``FOR NO KEY UPDATE`` in primary-key order (``lock_freezes``);
3. the balances of the lines it changes, ``FOR UPDATE`` in primary-key order, through
   ``inventory.locks.lock_balances`` — then it re-reads those lines: a line is written only by a
   transaction that holds the lock of its balance, so what it reads then is exact.

The in-transaction receipt hook runs while a posting already holds its balance locks; it must
not wait for anything that waits for a balance. It takes ``FOR KEY SHARE`` on the sticky freezes
it adds lines to (``share_catching``, in primary-key order, one statement). ``KEY SHARE`` does
not conflict with the ``NO KEY UPDATE`` of step 2, so a hook never waits for a freeze service.
It conflicts only with ``FOR UPDATE``, which exactly one short transaction takes: stopping a
sticky freeze from catching arrivals (``lock_freeze_exclusive``), which holds no other lock but,
when an approval stops it, the release request's row (locked first, step 1; receipts never wait
on request rows, so this cannot close a cycle). That transaction therefore waits for receipts already adding lines, and every receipt after it sees
the freeze has stopped catching: no line is ever added to a freeze that is being closed.

Rule rows are locked ``FOR NO KEY UPDATE`` too (``services.rules``): a receipt creating a freeze of
a rule reads the rule's release under ``KEY SHARE`` (``share_rule``) while it holds balance locks.
A change of a rule's release time then takes the rule ``FOR UPDATE`` in a transaction of its own
that holds nothing else, only to wait for those receipts, and moves the freezes they made with
the old time afterwards (``services.rules._catch_up_release``).
Release requests of closed freezes are cancelled by a statement that locks request rows only.

Periodic jobs take a PostgreSQL advisory lock (``wms.locks.advisory_lock``) so an overlapping
tick or a second beat does not run them twice. SQLite serialises writers and has none of these
locks; the functions fall back to plain reads there.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import connection

from freezes.models import Freeze, FreezeRule


def lock_freezes(ids: Iterable[int]) -> dict[int, Freeze]:
    """Lock freeze rows ``FOR NO KEY UPDATE`` in primary-key order; return them fresh by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = (
        Freeze.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk__in=wanted)
        .order_by("pk")
    )
    return {row.pk: row for row in rows}


def lock_freeze(pk: int) -> Freeze | None:
    """Lock one freeze row ``FOR NO KEY UPDATE`` and return it fresh (None when unknown)."""
    return lock_freezes([pk]).get(pk)


def lock_freeze_exclusive(pk: int) -> Freeze | None:
    """Lock one freeze row ``FOR UPDATE`` (waits for receipts adding lines to it). Only the
    short stop-catching transaction uses this; it must hold no other lock."""
    return Freeze.objects.select_for_update(of=("self",)).filter(pk=pk).first()


def share_rule(pk: int) -> tuple[str, datetime.datetime | None] | None:
    """The release mode and time of rule ``pk``, read under ``FOR KEY SHARE`` (PostgreSQL), or
    None when unknown. Called by the receipt hook right before it makes a freeze of the rule: a
    change of the rule's release time waits for this receipt before it catches up with the
    freezes made with the old time (``services.rules._catch_up_release``)."""
    if connection.vendor != "postgresql":
        return FreezeRule.objects.filter(pk=pk).values_list("release_mode", "release_at").first()
    table = connection.ops.quote_name(FreezeRule._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT release_mode, release_at FROM {table} WHERE id = %s FOR KEY SHARE", [pk]
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def share_catching(ids: Iterable[int]) -> list[int]:
    """Of the freezes ``ids``, those still catching arrivals, read under ``FOR KEY SHARE`` in
    primary-key order (PostgreSQL). Called by the receipt hook only."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    if connection.vendor != "postgresql":
        return list(Freeze.objects.catching().filter(pk__in=wanted).values_list("pk", flat=True))
    table = connection.ops.quote_name(Freeze._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE id = ANY(%s) AND status = %s AND is_sticky "
            f"AND sticky_ended_at IS NULL ORDER BY id FOR KEY SHARE",
            [wanted, Freeze.Status.ACTIVE],
        )
        return [row[0] for row in cursor.fetchall()]
