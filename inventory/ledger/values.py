"""The ledger's value types and limits: what callers pass in (``Document``, ``Receipt``,
``Pick``, ``Move``, ``Count``, ``Hold``), what a posting returns (``Posting``), the kinds each
posting accepts and the quantity limits; ``Change`` is the internal unit a posting commits."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from inventory.models import StockMovement

Kind = StockMovement.Kind

#: Kinds ``receive`` posts (on hand goes up).
RECEIVE_KINDS = frozenset(
    {Kind.INBOUND_PURCHASE, Kind.INBOUND_SALES_RETURN, Kind.OUTBOUND_REVERSAL, Kind.TRANSFER_IN}
)
#: Kinds ``issue`` posts (on hand goes down).
ISSUE_KINDS = frozenset(
    {
        Kind.OUTBOUND_PURCHASE_RETURN,
        Kind.OUTBOUND_ORDER_REISSUE,
        Kind.OUTBOUND_ORDER_SHIPMENT,
        Kind.OUTBOUND_STORE_REPLENISHMENT,
        Kind.OUTBOUND_OTHER,
        Kind.INBOUND_REVERSAL,
        Kind.TRANSFER_OUT,
    }
)
#: Outbound from frozen stock is allowed only for scrap/other and purchase return.
FROM_FROZEN_KINDS = frozenset({Kind.OUTBOUND_PURCHASE_RETURN, Kind.OUTBOUND_OTHER})

REASON_MAX = 255
KEY_MAX = 80
#: Upper bound of one line's quantity, far below the 32-bit columns' limit.
MAX_QUANTITY = 100_000_000
ON_HAND_LIMIT = 2**31 - 1


# --------------------------------------------------------------------------------------------
# Public value types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """The document a posting belongs to: a code (``inventory.models.DocumentType`` or another
    app's own, at most 24 characters), its id, and the reference shown to people."""

    type: str
    id: int | None = None
    ref: str = ""


@dataclass(frozen=True)
class Receipt:
    """``quantity`` units of ``goods_id`` into ``bin_id`` (of ``batch_id``, or of no batch).
    ``from_bin_id`` is shown in the ledger for transfers received from another bin."""

    goods_id: int
    bin_id: int
    quantity: int
    batch_id: int | None = None
    from_bin_id: int | None = None


@dataclass(frozen=True)
class Pick:
    """``quantity`` units of ``goods_id`` to take out of the posting's warehouse.

    ``balance_id`` names the exact balance row. Otherwise ``bin_id`` (optional) restricts the
    bin and ``batch_id`` (optional) the batch; with no batch named the ledger picks
    first-expiry-first-out (batches without expiry last, expired batches skipped unless the
    posting allows expired stock). ``from_frozen`` takes frozen units (scrap and purchase return
    only) instead of available ones."""

    goods_id: int
    quantity: int
    bin_id: int | None = None
    batch_id: int | None = None
    balance_id: int | None = None
    from_frozen: bool = False


@dataclass(frozen=True)
class Move:
    """``quantity`` units of ``goods_id`` (``batch_id``, or no batch) from one bin to another
    bin of the same warehouse."""

    goods_id: int
    from_bin_id: int
    to_bin_id: int
    quantity: int
    batch_id: int | None = None


@dataclass(frozen=True)
class Count:
    """``counted`` units of ``goods_id`` (``batch_id``, or no batch) found in ``bin_id``."""

    goods_id: int
    bin_id: int
    counted: int
    batch_id: int | None = None


@dataclass(frozen=True)
class Hold:
    """Freeze/reserve (or release) ``quantity`` units on the balance ``balance_id``. For
    ``freeze`` and ``reserve``, ``quantity=None`` means everything available at lock time."""

    balance_id: int
    quantity: int | None = None


@dataclass(frozen=True)
class DocumentHolds:
    """One document's holds inside a posting that reserves or releases for many documents at
    once (``reserve_many``): every movement names ``document``; ``idempotency_key`` goes on the
    document's first movement; ``reason`` (optional) is that document's own reason."""

    document: Document
    holds: tuple[Hold, ...]
    idempotency_key: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class BalanceInfo:
    """What a planner (``reserve_many``) may know of a locked balance besides its quantity."""

    goods_id: int
    warehouse_id: int
    bin_id: int
    batch_id: int | None
    expiry_date: datetime.date | None


@dataclass
class Posting:
    """The result of a posting: the saved movements (``id`` set) in posting order, and for
    ``adjust`` the on-hand quantity of each counted balance before the count."""

    movements: list[StockMovement]
    on_hand_before: dict[int, int] = field(default_factory=dict)

    def quantities(self) -> dict[int, int]:
        """Units moved per balance id (the amounts a freeze line or reservation records)."""
        out: dict[int, int] = defaultdict(int)
        for movement in self.movements:
            out[movement.balance_id] += movement.quantity
        return dict(out)

    @property
    def total(self) -> int:
        return sum(m.quantity for m in self.movements)


@dataclass
class Change:
    """One balance row's change inside a posting (the movement it becomes)."""

    balance_id: int
    kind: str
    quantity: int
    on_hand: int = 0
    frozen: int = 0
    reserved: int = 0
    from_bin_id: int | None = None
    to_bin_id: int | None = None
    note: str = ""
