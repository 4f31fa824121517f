"""The only-writer guard: every SQL write to the balance or movement tables must come from the ledger.

STYLE.md, "The stock rule": only ``inventory.ledger`` (a module, or the package
``inventory.ledger.*``) writes ``StockBalance`` and ``StockMovement``. This module enforces it at
the database driver, where every write is visible (ORM calls, bulk operations, related managers,
admin actions, raw SQL alike): ``connection.execute_wrapper`` runs :func:`guard` around every
statement. A statement that INSERTs, UPDATEs, DELETEs, COPYs, MERGEs or TRUNCATEs one of the two
tables is refused with :class:`LedgerBypass` unless the innermost project code that issued it
(the first frame that is not Django's or the driver's) belongs to the ledger: a hook the ledger
calls during a posting is not the ledger. Statements that do not name the two tables cost one substring test; the stack is walked
only for a write on them.

Where it runs:

* every test (the root ``conftest.py`` installs it for all connections, threads included, and
  fails a test whose code swallowed the exception);
* ``make run`` / ``runserver``, the worker and every management command when ``DEBUG`` is on
  (``WMS_LEDGER_GUARD``, default ``DEBUG``; see ``InventoryConfig.ready``). Production (DEBUG off)
  and the benchmarks (whose raw-SQL baselines write the tables on purpose) run without it.

Allowances, each for a reason:

* ``django.db.migrations`` and the apps' ``migrations`` modules: schema changes and data
  migrations run once, reviewed like code, before any stock exists that a write could bypass;
* ``django.core.management.commands.flush``: ``manage.py flush`` and the test framework's
  teardown of transactional tests empty every table (TRUNCATE), they move no stock;
* :func:`allowed`: a test that corrupts balances on purpose (to prove ``wms_reconcile`` sees
  drift) says so in a ``with allowed("why"):`` block. Project code never uses it.
* ``wms_reconcile`` needs none: it only reads.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections
from django.db.backends.signals import connection_created

TABLES = ("inventory_stockbalance", "inventory_stockmovement")
LEDGER_MODULE = "inventory.ledger"
ALLOWED_MODULES = ("django.db.migrations", "django.core.management.commands.flush")
# Frames passed over on the way to the code that issued a statement.
LIBRARIES = ("django.", "psycopg", "contextlib", "functools", "inventory.writer_guard")

_TABLE = r'(?:"?public"?\.)?"?(?:inventory_stockbalance|inventory_stockmovement)\b'
# Anywhere in the statement, so ``WITH moved AS (UPDATE ...)`` and multi-table TRUNCATE count.
WRITE_SQL = re.compile(
    r"\b(?:INSERT\s+INTO|UPDATE(?:\s+ONLY)?|DELETE\s+FROM(?:\s+ONLY)?|COPY|MERGE\s+INTO)\s+"
    + _TABLE
    + r"|\bTRUNCATE\b[^;]*?"
    + _TABLE,
    re.IGNORECASE,
)


class LedgerBypass(AssertionError):
    """A write to the balance or movement tables that did not come from ``inventory.ledger``."""


_state = threading.local()
_violations: list[str] = []
_violations_lock = threading.Lock()


def is_ledger_write(sql: str) -> bool:
    """True when ``sql`` writes the balance or movement table."""
    return "inventory_stock" in sql and WRITE_SQL.search(sql) is not None


def _from_the_ledger_or_allowed() -> bool:
    """The innermost frame of project code (below it only Django, the driver and this module)
    decides: the ledger may write, nobody else. So a hook the ledger calls inside a posting
    (freezes, channel sync...) is refused like any other code if it writes the tables itself."""
    if getattr(_state, "allowed", 0):
        return True
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module == LEDGER_MODULE or module.startswith(LEDGER_MODULE + "."):
            return True
        if module.startswith(ALLOWED_MODULES) or ".migrations." in module:
            return True
        if not module.startswith(LIBRARIES):
            return False
        frame = frame.f_back
    return False


def _issuer() -> str:
    """The innermost project frame that is not Django's or ours: who wrote, for the message."""
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(LIBRARIES):
            return f"{module} ({frame.f_code.co_filename}:{frame.f_lineno})"
        frame = frame.f_back
    return "<unknown>"


def guard(execute, sql, params, many, context):
    """``connection.execute_wrapper``: refuse a write to the ledger tables from outside it."""
    text = sql if isinstance(sql, str) else str(sql)
    if is_ledger_write(text) and not _from_the_ledger_or_allowed():
        message = (
            f"only inventory.ledger writes balances and movements; {_issuer()} ran: "
            f"{' '.join(text.split())[:160]}"
        )
        with _violations_lock:
            _violations.append(message)
        raise LedgerBypass(message)
    return execute(sql, params, many, context)


def install_on(connection) -> None:
    """Add the guard to one connection wrapper (idempotent)."""
    if guard not in connection.execute_wrappers:
        connection.execute_wrappers.append(guard)


def _on_connection_created(sender, connection, **kwargs) -> None:
    install_on(connection)


def install() -> None:
    """Guard every connection: the ones open now and every one opened later, in any thread."""
    connection_created.connect(_on_connection_created, dispatch_uid="inventory.writer_guard")
    for connection in connections.all(initialized_only=True):
        install_on(connection)


def take_violations() -> list[str]:
    """The refused writes recorded since the last call (any thread), then forget them."""
    with _violations_lock:
        taken = list(_violations)
        _violations.clear()
    return taken


@contextmanager
def allowed(reason: str) -> Iterator[None]:
    """Let this thread write the ledger tables directly; for tests that corrupt data on purpose
    (``reason`` says why, for the reader)."""
    if not reason:
        raise ValueError("say why the ledger is bypassed")
    _state.allowed = getattr(_state, "allowed", 0) + 1
    try:
        yield
    finally:
        _state.allowed -= 1
