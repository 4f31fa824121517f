"""The stock ledger: the ONLY package that writes ``StockBalance`` and ``StockMovement``.

Every quantity change in the product is one of the functions below (``tests/
test_ledger_is_only_writer.py`` fails if anything else writes those tables). Each call is one
posting:

* it validates its input first and raises a typed ``inventory.exceptions.StockError``
  (``InvalidQuantity``, ``InvalidInput``, ``InsufficientStock``, ``NotAllowed``, ``ExpiredBatch``,
  ``AlreadyPosted``) before or instead of writing anything;
* it runs in one ``transaction.atomic()`` (joining the caller's transaction when there is one, so
  a document service posts its document and its movements together);
* it takes its locks in the order stated in ``inventory.locks``: missing balance rows are created
  first (``bulk_create(ignore_conflicts=True)``, sorted), destination bins are share-locked, then
  every balance row the posting touches is locked ``FOR UPDATE`` in primary-key order in one
  statement; quantities are checked against the locked, committed values; balances are written
  with one ``UPDATE ... FROM unnest(...)`` on PostgreSQL (``bulk_update`` elsewhere) and
  movements with one ``bulk_create``;
* ``idempotency_key`` (optional, unique, at most 80 characters) is stored on the posting's first
  movement: a second posting with the same key raises ``AlreadyPosted`` and writes nothing, even
  when both run at the same time;
* afterwards ``inventory.hooks.fire`` runs the in-transaction hooks (auto-freeze on receipt)
  while the rows are still locked, and queues the after-commit hooks (stock push) with
  ``transaction.on_commit``.

A single-balance shipment (``issue`` with one ``Pick`` naming ``balance_id``) takes the fast path:
one conditional ``UPDATE ... WHERE available >= n RETURNING`` (the row lock is taken by that
statement and nothing else is waited for while holding it), then the movement insert.

Freezing everything available on many balances (a near-expiry scan, a whole-scope freeze) is
set-based: ``freeze_all_available`` locks the rows in primary-key order in one statement, then
one statement updates them and inserts their movements; no row passes through Python before the
write, and the hooks fire as for every posting.

Combo goods hold no stock of their own: receiving or issuing a combo receives or issues its
components (``quantity x component quantity`` each), and a component that is itself a combo its
own components in turn (a case of 4 dozens of 12 cans receives 48 cans a case; one query per level
of nesting), and a combo's available quantity is the minimum over the goods inside it (at any
depth) of ``floor(available / units in one combo)``
(``inventory.selectors.stock.goods_available``).

If ``AlreadyPosted`` (or any error) is raised inside a caller's own ``transaction.atomic()``,
that transaction must be rolled back: let the error propagate out of the atomic block.

The public API is what this module re-exports (``__all__``); callers import ``inventory.ledger``
and never its modules, which are its internals:

* ``values``: the value types, the kinds each posting accepts and the quantity limits;
* ``postings``: ``receive``, ``issue``, ``transfer``, ``adjust``;
* ``holds``: ``freeze``, ``unfreeze``, ``reserve``, ``unreserve``, ``freeze_fefo``,
  ``reserve_fefo``, ``freeze_all_available``, ``reserve_many`` (one posting for many documents:
  a page of shop orders released and reserved under one ordered lock, the reservations planned
  on the locked quantities, one movement insert, the hooks fired once);
* ``picking``: first-expiry-first-out allocation of picks and the one-balance fast path;
* ``combos``: combo lines expanded into their components;
* ``checks``: input validation before anything is written;
* ``writes``: the SQL writes (balance rows, the locked commit, movements, hooks).
"""

from inventory.ledger.checks import check_quantity
from inventory.ledger.holds import (
    freeze,
    freeze_all_available,
    freeze_fefo,
    reserve,
    reserve_fefo,
    reserve_many,
    unfreeze,
    unreserve,
)
from inventory.ledger.postings import adjust, issue, receive, transfer
from inventory.ledger.values import (
    FROM_FROZEN_KINDS,
    ISSUE_KINDS,
    KEY_MAX,
    MAX_QUANTITY,
    ON_HAND_LIMIT,
    REASON_MAX,
    RECEIVE_KINDS,
    BalanceInfo,
    Count,
    Document,
    DocumentHolds,
    Hold,
    Kind,
    Move,
    Pick,
    Posting,
    Receipt,
)
from inventory.ledger.writes import FAST_PATH_COLUMNS, MOVEMENT_COLUMNS

__all__ = [
    "FAST_PATH_COLUMNS",
    "FROM_FROZEN_KINDS",
    "ISSUE_KINDS",
    "KEY_MAX",
    "MAX_QUANTITY",
    "MOVEMENT_COLUMNS",
    "ON_HAND_LIMIT",
    "REASON_MAX",
    "RECEIVE_KINDS",
    "BalanceInfo",
    "Count",
    "Document",
    "DocumentHolds",
    "Hold",
    "Kind",
    "Move",
    "Pick",
    "Posting",
    "Receipt",
    "adjust",
    "check_quantity",
    "freeze",
    "freeze_all_available",
    "freeze_fefo",
    "issue",
    "receive",
    "reserve",
    "reserve_fefo",
    "reserve_many",
    "transfer",
    "unfreeze",
    "unreserve",
]
