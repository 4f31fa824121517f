"""Locks of the allocation app and the order they are taken in.

1. A PostgreSQL advisory lock per periodic job (``wms.locks.advisory_lock``), so an overlapping beat tick
   does not run it twice; and per (window, store) while a first-come grab checks the store's
   per-window cap (``store_window_lock``), so two phones of one store cannot both pass it.
2. The grab window row ``FOR UPDATE`` (close, cancel, open: compare-and-set on its status).
3. Its pool rows ``FOR UPDATE`` in primary-key order. A first-come grab takes only its pool row,
   by its conditional ``UPDATE ... WHERE is_open AND granted + n <= offered``.
4. Replenishment order rows ``FOR UPDATE`` (status changes), then the ledger's balance locks.

SQLite has no such locks; the functions fall back to nothing (SQLite serialises writers).
"""

from __future__ import annotations

from wms.locks import advisory_xact_lock


def store_window_lock(window_id: int, store_id: int) -> None:
    """Serialise first-come grabs of one store in one window until the transaction ends (the
    per-window cap check). Periodic jobs use ``wms.locks.advisory_lock``."""
    advisory_xact_lock(f"allocation:window:{window_id}:store:{store_id}")
