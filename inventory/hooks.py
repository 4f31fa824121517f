"""Hooks the ledger calls, so apps above ``inventory`` can act on stock without being imported.

Apps register from their ``AppConfig.ready()``::

    from inventory import hooks

    hooks.register_in_transaction(auto_freeze_on_receipt, kinds=hooks.RECEIPT_KINDS)
    hooks.register_after_commit(queue_stock_push)
    hooks.register_frozen_link(freezes_holding_balance_url)

``in_transaction`` hooks: ``fn(event: PostingEvent) -> None``, called by the ledger inside the
posting's transaction, after the balances and movements are written and while the posting still
holds the row locks of every balance in ``event.movements``. A hook may call the ledger again on
those same balances (auto-freeze on receipt calls ``ledger.freeze``: the received stock is never
available, not even for a moment, ARCHITECTURE.md §2 law 6), may write its own tables, and may
raise a ``StockError`` to refuse the whole posting (nothing is written). It must not lock other
balance rows (the lock order would break), do network I/O, or queue work except through
``transaction.on_commit``. Hooks registered with ``kinds`` only see postings of those movement
kinds. Postings made by a hook fire hooks too; a hook must not re-trigger itself endlessly (a
freeze posting is not a receipt, so auto-freeze does not).

``after_commit`` hooks: ``fn(event: PostingEvent) -> None``, queued with
``transaction.on_commit(partial(fn, event), robust=True)`` for every posting: they run only if
the posting commits, after it commits, and an exception in one is logged without affecting the
posting or the other hooks. Use them to enqueue Celery tasks (stock push); keep them quick.

``frozen_return``: ``prepare(ret: FrozenReturn)`` and ``apply(ret: FrozenReturn)``, for a
reversal that brings frozen units back (an outbound sheet that scrapped or returned frozen
stock). The reversal service calls ``prepare`` after locking the original document and before
any balance lock (lock there the rows ``apply`` will change: freezes take their freeze rows, in
their own lock order), then receives the units and freezes the frozen part again through the
ledger (so they are never available, with or without a hook), then calls ``apply`` with the
units frozen again per balance while it holds those balances' locks (give them back to whatever
held them). Both run inside the reversal's transaction; raising refuses the reversal.

``frozen_link``: one optional callable ``fn(balance_ids: list[int], *, user) -> dict[int, str]``
giving, for balances with frozen stock on a page of the stock query, the URL listing the freezes
that hold them, for a ``user`` allowed to open it (the freezes app registers it; until then, and
for users who may not see freezes, frozen quantities show without a link, and the page fetches
nothing it would be refused).

``frozen_holders``: one optional callable ``fn(balance_ids: list[int]) -> list[FrozenHolder]``
naming the active freezes that hold frozen units on those balances (number, reason, units, the
URL to ask for their release), so a refusal can say "200 frozen by FRZ-000004 (Damaged)"
(``InsufficientStock``). Called by the ledger's refusal path only, inside the posting's
transaction before it rolls back: one read query, no locks. The release URL is the same for
everyone; the page behind it checks the user's permission.

``posting_notes``: one optional callable ``fn(document_refs: list[str]) -> dict[str,
list[PostingNote]]`` saying what hooks did to the postings of those documents (a rule froze 5
units of a sales return on arrival), so the document's page and the ledger rows say so without
importing the app that did it. One query for all the documents on a page.

``combo_changed``: ``fn(combo_ids: tuple[int, ...]) -> None``, called by the combo editor and
the combo import (``inventory.services.goods``) inside their transaction, after the component
lines of those combos were written (a component added, its quantity changed, or removed; a combo
left without components is a plain goods again). The available quantity of a combo comes from
its recipe, so a new recipe changes what a combo can be sold as without any posting: the
channels app queues a stock push of the combo (and of the combos containing it) here, in the
same transaction, so the recipe and "this must be pushed" commit together. Same rules as the
in-transaction posting hooks: no balance locks, no network I/O; raising refuses the change.

``lookups``: pickers for kinds that live above ``inventory`` (a store): ``register_lookup(kind,
fn, permission=...)`` with ``fn(*, user, q, after, limit) -> LookupPage`` (from
``inventory.selectors.lookup``), served by the same endpoint as goods and bins
(``inventory:lookup``) and usable by ``wms.widgets.PickerWidget(kind)``. ``fn`` applies the
user's own scoping (a store manager is offered only his stores).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction

if TYPE_CHECKING:
    from inventory.models import StockMovement

RECEIPT_KINDS = frozenset({"in_purchase", "in_sales_return", "transfer_in", "count_gain"})


@dataclass(frozen=True)
class PostingEvent:
    """What one ledger posting did. ``movements`` are the saved rows (with ``balance_id``,
    ``goods_id``, ``warehouse_id``, ``bin_id``, ``batch_id`` and the deltas); ``kinds`` the set
    of their kinds; ``document_type``/``document_id``/``document_ref`` the document posted (a
    posting for many documents, ``ledger.reserve_many``, names its batch here, e.g. a pull's page
    with no id; each movement carries its own document)."""

    movements: tuple[StockMovement, ...]
    document_type: str
    document_id: int | None
    document_ref: str
    operator_id: int | None
    kinds: frozenset[str] = field(default_factory=frozenset)

    @property
    def goods_ids(self) -> tuple[int, ...]:
        return tuple(sorted({m.goods_id for m in self.movements}))

    @property
    def warehouse_ids(self) -> tuple[int, ...]:
        return tuple(sorted({m.warehouse_id for m in self.movements}))

    @property
    def balance_ids(self) -> tuple[int, ...]:
        return tuple(sorted({m.balance_id for m in self.movements}))


@dataclass(frozen=True)
class FrozenReturn:
    """Frozen units a reversal brings back. ``original_*`` name the document that took them
    out, ``document_*`` the reversal; ``units`` are ``(balance_id, units frozen again)`` pairs
    in balance order (empty when given to ``prepare``)."""

    original_type: str
    original_id: int
    original_ref: str
    document_type: str
    document_id: int
    document_ref: str
    operator_id: int | None
    units: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class FrozenHolder:
    """An active freeze holding ``quantity`` units on the balances of a refusal."""

    freeze_id: int
    ref: str  # "FRZ-000004"
    reason: str  # translated reason label
    quantity: int
    url: str = ""
    release_url: str = ""

    @property
    def label(self) -> str:
        return f"{self.ref} ({self.reason})"


@dataclass(frozen=True)
class PostingNote:
    """Something a hook did within a document's posting, said in a sentence: "5 units frozen on
    arrival by rule 'Sales returns'", linked to what it made (``ref`` at ``url``), on the
    balances ``balance_ids``."""

    text: str
    ref: str = ""
    url: str = ""
    quantity: int = 0
    balance_ids: tuple[int, ...] = ()


InTransactionHook = Callable[[PostingEvent], None]
AfterCommitHook = Callable[[PostingEvent], None]
FrozenLink = Callable[..., dict[int, str]]

in_transaction_hooks: list[tuple[InTransactionHook, frozenset[str] | None]] = []
after_commit_hooks: list[AfterCommitHook] = []
_frozen_link: list[FrozenLink] = []
_frozen_holders: list[Callable[[list[int]], list[FrozenHolder]]] = []
_posting_notes: list[Callable[[list[str]], dict[str, list[PostingNote]]]] = []
FrozenReturnHook = Callable[[FrozenReturn], None]
frozen_return_hooks: list[tuple[FrozenReturnHook, FrozenReturnHook]] = []
ComboChangedHook = Callable[[tuple[int, ...]], None]
combo_changed_hooks: list[ComboChangedHook] = []


def register_in_transaction(
    fn: InTransactionHook, *, kinds: Iterable[str] | None = None
) -> InTransactionHook:
    """Call ``fn(event)`` inside every posting (of one of ``kinds``, when given). Idempotent."""
    entry = (fn, frozenset(kinds) if kinds is not None else None)
    if all(existing is not fn for existing, _kinds in in_transaction_hooks):
        in_transaction_hooks.append(entry)
    return fn


def unregister_in_transaction(fn: InTransactionHook) -> None:
    in_transaction_hooks[:] = [e for e in in_transaction_hooks if e[0] is not fn]


def register_after_commit(fn: AfterCommitHook) -> AfterCommitHook:
    """Call ``fn(event)`` after every posting commits. Idempotent."""
    if fn not in after_commit_hooks:
        after_commit_hooks.append(fn)
    return fn


def unregister_after_commit(fn: AfterCommitHook) -> None:
    if fn in after_commit_hooks:
        after_commit_hooks.remove(fn)


def register_frozen_link(fn: FrozenLink) -> FrozenLink:
    """Set the one provider of "which freezes hold this balance" links (replaces any other)."""
    _frozen_link[:] = [fn]
    return fn


def register_frozen_holders(fn: Callable[[list[int]], list[FrozenHolder]]) -> Callable:
    """Set the one provider naming the freezes that hold balances (replaces any other)."""
    _frozen_holders[:] = [fn]
    return fn


def frozen_holders(balance_ids: list[int]) -> list[FrozenHolder]:
    """The active freezes holding units on ``balance_ids`` (none without a provider)."""
    if not _frozen_holders or not balance_ids:
        return []
    return list(_frozen_holders[0](sorted(set(balance_ids))) or [])


def register_posting_notes(fn: Callable[[list[str]], dict[str, list[PostingNote]]]) -> Callable:
    """Set the one provider of notes about what hooks did within postings (replaces any)."""
    _posting_notes[:] = [fn]
    return fn


def posting_notes(document_refs: list[str]) -> dict[str, list[PostingNote]]:
    """Notes per document number (none without a provider)."""
    refs = sorted({ref for ref in document_refs if ref})
    if not _posting_notes or not refs:
        return {}
    return dict(_posting_notes[0](refs) or {})


def register_frozen_return(*, prepare: FrozenReturnHook, apply: FrozenReturnHook) -> None:
    """Be told when a reversal brings frozen units back (see the module docstring). Idempotent."""
    if all(existing is not apply for _prepare, existing in frozen_return_hooks):
        frozen_return_hooks.append((prepare, apply))


def frozen_return_prepare(ret: FrozenReturn) -> None:
    """Called by a reversal before it locks balances. Runs every ``prepare``."""
    for prepare, _apply in list(frozen_return_hooks):
        prepare(ret)


def frozen_return_apply(ret: FrozenReturn) -> None:
    """Called by a reversal once the units are frozen again, balances locked. Runs every
    ``apply``."""
    for _prepare, apply in list(frozen_return_hooks):
        apply(ret)


def register_combo_changed(fn: ComboChangedHook) -> ComboChangedHook:
    """Call ``fn(combo_ids)`` inside every change of combo recipes (see the module docstring).
    Idempotent."""
    if fn not in combo_changed_hooks:
        combo_changed_hooks.append(fn)
    return fn


def unregister_combo_changed(fn: ComboChangedHook) -> None:
    if fn in combo_changed_hooks:
        combo_changed_hooks.remove(fn)


def combo_changed(combo_ids: Iterable[int]) -> None:
    """Called by the combo services inside their transaction once the component lines of
    ``combo_ids`` are written. Runs every ``combo_changed`` hook."""
    ids = tuple(sorted({int(pk) for pk in combo_ids}))
    if not ids:
        return
    for fn in list(combo_changed_hooks):
        fn(ids)


def frozen_links(balance_ids: list[int], *, user) -> dict[int, str]:
    """URLs of the freezes holding each balance that ``user`` may open, from the registered
    provider (or none)."""
    if not _frozen_link or not balance_ids:
        return {}
    return dict(_frozen_link[0](list(balance_ids), user=user) or {})


@contextmanager
def registered(
    *,
    in_transaction: InTransactionHook | None = None,
    kinds: Iterable[str] | None = None,
    after_commit: AfterCommitHook | None = None,
) -> Iterator[None]:
    """Register hooks for the duration of a ``with`` block (tests, one-off scripts)."""
    if in_transaction is not None:
        register_in_transaction(in_transaction, kinds=kinds)
    if after_commit is not None:
        register_after_commit(after_commit)
    try:
        yield
    finally:
        if in_transaction is not None:
            unregister_in_transaction(in_transaction)
        if after_commit is not None:
            unregister_after_commit(after_commit)


def fire(event: PostingEvent) -> None:
    """Run the in-transaction hooks for ``event`` and queue the after-commit ones. Called by the
    ledger only, inside the posting's ``transaction.atomic()``."""
    for fn, kinds in list(in_transaction_hooks):
        if kinds is None or kinds & event.kinds:
            fn(event)
    for fn in list(after_commit_hooks):
        transaction.on_commit(partial(fn, event), robust=True)


#: kind -> (lookup function, permission needed or None); see the module docstring.
lookups: dict[str, tuple[Callable, str | None]] = {}


def register_lookup(kind: str, fn: Callable, *, permission: str | None) -> None:
    lookups[kind] = (fn, permission)
