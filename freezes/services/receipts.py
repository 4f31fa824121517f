"""The freezes app's in-transaction ledger hooks (registered in ``FreezesConfig.ready``).

``freeze_arrivals`` runs inside every receiving posting, after the ledger has written the
balances and while it still holds their row locks (ARCHITECTURE.md §2 law 6): switched-on
receipt rules (sales returns; arrivals of chosen categories until QC) and sticky freezes freeze
the units that just arrived before the posting commits, so they are never available, not even
for a moment. A later rule or sticky freeze only gets the units earlier ones left, so the same
units are never frozen twice.

``record_frozen_outflow`` runs inside every posting that takes frozen units without going
through a freeze (an outbound sheet of scrap or purchase return from frozen stock, a direct
``ledger.unfreeze``): it records the units on the freeze lines of those balances, oldest freeze
first, after the frozen units no freeze accounts for. The hooks touch only the balances the
posting holds; see ``freezes.locks`` for why they never wait for a freeze service.

``lock_frozen_return`` / ``return_frozen_units`` (the ``frozen_return`` hooks) give the units a
reversed scrap or purchase-return sheet brings back frozen to the freeze lines they left.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import F, Sum
from django.utils import timezone

from freezes.locks import lock_freezes, share_catching, share_rule
from freezes.models import Freeze, FreezeEvent, FreezeLine, FreezeRule, ReleaseMode
from freezes.scope import Scope, StockFacts, scope_matches
from freezes.services import common
from inventory import hooks, ledger
from inventory.models import DocumentType, StockBalance, StockMovement
from inventory.selectors.goods import category_descendant_ids
from warehouses.models import Bin

Kind = StockMovement.Kind

#: Receipt kinds that bring stock into a warehouse (a transfer in counts only when it comes from
#: another warehouse: moving stock between bins is an arrival only for a sticky freeze of the
#: bin it is moved into).
ARRIVAL_KINDS = frozenset({Kind.INBOUND_PURCHASE, Kind.INBOUND_SALES_RETURN, Kind.TRANSFER_IN})
RECEIPT_RULE_KINDS = (FreezeRule.Kind.SALES_RETURN, FreezeRule.Kind.CATEGORY_ARRIVAL)


def freeze_arrivals(event: hooks.PostingEvent) -> None:
    """In-transaction hook for receipts: apply receipt rules, then sticky freezes."""
    arrivals = [m for m in event.movements if m.kind in ARRIVAL_KINDS and m.on_hand_delta > 0]
    if not arrivals:
        return
    rules = list(FreezeRule.objects.filter(is_active=True, kind__in=RECEIPT_RULE_KINDS))
    sticky = list(Freeze.objects.catching().order_by("pk"))
    if not rules and not sticky:
        return
    real = _real_arrivals(arrivals)
    # Stock moved between bins of one warehouse arrives only in its new bin: it matters to
    # sticky freezes whose scope names that bin (a quarantine bin), to nothing else.
    moved_in: dict[int, int] = defaultdict(int)
    if any(freeze.bin_id is not None for freeze in sticky):
        for movement in arrivals:
            if movement not in real:
                moved_in[movement.balance_id] += movement.on_hand_delta
    if not real and not moved_in:
        return
    received: dict[int, int] = defaultdict(int)
    returned: dict[int, int] = defaultdict(int)
    for movement in real:
        received[movement.balance_id] += movement.on_hand_delta
        if movement.kind == Kind.INBOUND_SALES_RETURN:
            returned[movement.balance_id] += movement.on_hand_delta
    facts, available = _facts(set(received) | set(moved_in))
    # Units of each balance still free to freeze: what arrived, at most what is available;
    # ``moved`` what was moved in from another bin, at most what is available beyond that.
    remaining = {pk: max(min(received[pk], available.get(pk, 0)), 0) for pk in facts}
    moved = {pk: max(min(moved_in[pk], available.get(pk, 0) - remaining[pk]), 0) for pk in facts}
    tree = _CategoryTree()
    now = timezone.now()

    for rule in sorted(rules, key=lambda r: r.pk):
        categories = tree.descendants(rule.categories.values_list("pk", flat=True))
        take: dict[int, int] = {}
        for balance_id, fact in sorted(facts.items()):
            if rule.warehouse_id is not None and fact.warehouse_id != rule.warehouse_id:
                continue
            if categories and fact.category_id not in categories:
                continue
            units = remaining[balance_id]
            if rule.kind == FreezeRule.Kind.SALES_RETURN:
                units = min(units, returned.get(balance_id, 0))
            if units > 0:
                take[balance_id] = units
        if take:
            _freeze_for_rule(rule, take, event, now)
            for balance_id, units in take.items():
                remaining[balance_id] -= units

    def free_for(freeze: Freeze, balance_id: int) -> int:
        return remaining[balance_id] + (moved[balance_id] if freeze.bin_id is not None else 0)

    candidates: dict[int, dict[int, int]] = {}
    for freeze in sticky:
        scope = Scope.of(freeze)
        categories = tree.descendants([scope.category_id]) if scope.category_id else None
        take = {
            balance_id: free_for(freeze, balance_id)
            for balance_id, fact in sorted(facts.items())
            if free_for(freeze, balance_id) > 0 and scope_matches(scope, fact, categories)
        }
        if take:
            candidates[freeze.pk] = take
    if not candidates:
        return
    catching = set(share_catching(candidates.keys()))
    by_id = {freeze.pk: freeze for freeze in sticky}
    for freeze_id in sorted(candidates):
        if freeze_id not in catching:
            continue
        freeze = by_id[freeze_id]
        take = {pk: min(units, free_for(freeze, pk)) for pk, units in candidates[freeze_id].items()}
        take = {pk: units for pk, units in take.items() if units > 0}
        if not take:
            continue
        posting = ledger.freeze(
            holds=[ledger.Hold(pk, units) for pk, units in sorted(take.items())],
            document=common.document(freeze),
            operator=event.operator_id,
            reason=common.ledger_reason(freeze, event.document_ref),
        )
        added = common.add_to_lines(freeze, posting.movements, now=now)
        common.add_event(
            freeze,
            FreezeEvent.Kind.LINES_ADDED,
            actor=event.operator_id,
            quantity=added,
            document_ref=event.document_ref,
            now=now,
        )
        for pk, units in take.items():
            from_moved = min(units, moved[pk]) if freeze.bin_id is not None else 0
            moved[pk] -= from_moved
            remaining[pk] -= units - from_moved


def _freeze_for_rule(
    rule: FreezeRule, take: dict[int, int], event: hooks.PostingEvent, now
) -> Freeze:
    # The release as it is now, under KEY SHARE: a release time changed meanwhile catches up
    # with this freeze once the receipt commits (freezes.locks).
    release_mode, release_at = share_rule(rule.pk) or (rule.release_mode, rule.release_at)
    freeze = Freeze.objects.create(
        reason=rule.reason,
        rule=rule,
        warehouse_id=rule.warehouse_id,
        source_ref=event.document_ref[:40],
        release_on_qc_pass=release_mode == ReleaseMode.ON_QC_PASS,
        release_at=release_at if release_mode == ReleaseMode.AT_TIME else None,
        created_at=now,
    )
    posting = ledger.freeze(
        holds=[ledger.Hold(pk, units) for pk, units in sorted(take.items())],
        document=common.document(freeze),
        reason=common.ledger_reason(freeze, rule.name),
    )
    units = common.create_lines(freeze, posting.movements, now=now)
    common.add_event(
        freeze,
        FreezeEvent.Kind.CREATED,
        rule=rule,
        quantity=units,
        comment=rule.name,
        document_ref=event.document_ref,
        now=now,
    )
    return freeze


def _real_arrivals(movements: list[StockMovement]) -> list[StockMovement]:
    """Drop transfers in that come from a bin of the same warehouse."""
    sources = {m.from_bin_id for m in movements if m.kind == Kind.TRANSFER_IN and m.from_bin_id}
    warehouse_of = (
        dict(Bin.objects.filter(pk__in=sorted(sources)).values_list("pk", "warehouse_id"))
        if sources
        else {}
    )
    return [
        m
        for m in movements
        if m.kind != Kind.TRANSFER_IN
        or m.from_bin_id is None
        or warehouse_of.get(m.from_bin_id) != m.warehouse_id
    ]


def _facts(balance_ids: Iterable[int]) -> tuple[dict[int, StockFacts], dict[int, int]]:
    """Scope facts and available units of the (locked) balances, in one query."""
    facts: dict[int, StockFacts] = {}
    available: dict[int, int] = {}
    rows = StockBalance.objects.filter(pk__in=sorted(balance_ids)).values_list(
        "pk",
        "goods_id",
        "warehouse_id",
        "bin_id",
        "batch_id",
        "goods__category_id",
        "goods__brand_id",
        "batch__inbound_date",
        "batch__production_date",
        "on_hand",
        "frozen",
        "reserved",
    )
    for pk, goods, warehouse, bin_id, batch, category, brand, inbound, produced, *qty in rows:
        facts[pk] = StockFacts(goods, warehouse, bin_id, batch, category, brand, inbound, produced)
        available[pk] = qty[0] - qty[1] - qty[2]
    return facts, available


class _CategoryTree:
    """Descendants of categories, loading the tree at most once per posting."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, ...], set[int]] = {}

    def descendants(self, roots: Iterable[int]) -> set[int]:
        key = tuple(sorted(pk for pk in roots if pk is not None))
        if not key:
            return set()
        if key not in self._cache:
            self._cache[key] = category_descendant_ids(key)
        return self._cache[key]


# --------------------------------------------------------------------------------------------
# Frozen units leaving through other documents
# --------------------------------------------------------------------------------------------

OUTFLOW_EVENT = {
    Kind.OUTBOUND_OTHER: FreezeEvent.Kind.SCRAPPED,
    Kind.OUTBOUND_PURCHASE_RETURN: FreezeEvent.Kind.RETURNED,
    Kind.UNFREEZE: FreezeEvent.Kind.RELEASED_OUTSIDE,
}


def record_frozen_outflow(event: hooks.PostingEvent) -> None:
    """In-transaction hook: record frozen units taken by a posting that is not a freeze's own
    on the freeze lines of those balances (oldest freeze first, after unattributed units)."""
    if event.document_type == DocumentType.FREEZE:
        return
    taken: dict[int, int] = defaultdict(int)
    kind_of: dict[int, str] = {}
    for movement in event.movements:
        if movement.frozen_delta < 0:
            taken[movement.balance_id] += -movement.frozen_delta
            kind_of[movement.balance_id] = movement.kind
    if not taken:
        return
    ids = sorted(taken)
    frozen_now = dict(StockBalance.objects.filter(pk__in=ids).values_list("pk", "frozen"))
    lines = list(
        FreezeLine.objects.held()
        .filter(balance_id__in=ids)
        .select_related("freeze")
        .order_by("freeze__created_at", "freeze_id", "pk")
    )
    held: dict[int, int] = defaultdict(int)
    for line in lines:
        held[line.balance_id] += line.held
    per_freeze: dict[tuple[int, str], int] = defaultdict(int)
    freezes: dict[int, Freeze] = {}
    for balance_id in ids:
        unaccounted = frozen_now.get(balance_id, 0) + taken[balance_id] - held[balance_id]
        from_lines = max(taken[balance_id] - max(unaccounted, 0), 0)
        column = "released" if kind_of[balance_id] == Kind.UNFREEZE else "shipped"
        for line in (row for row in lines if row.balance_id == balance_id):
            if from_lines == 0:
                break
            units = min(line.held, from_lines)
            from_lines -= units
            FreezeLine.objects.filter(pk=line.pk).update(**{column: F(column) + units})
            per_freeze[(line.freeze_id, kind_of[balance_id])] += units
            freezes[line.freeze_id] = line.freeze
    now = timezone.now()
    for (freeze_id, kind), units in sorted(per_freeze.items()):
        common.add_event(
            freezes[freeze_id],
            OUTFLOW_EVENT.get(kind, FreezeEvent.Kind.RELEASED_OUTSIDE),
            actor=event.operator_id,
            quantity=units,
            document_ref=event.document_ref,
            now=now,
        )


#: Events of frozen units that left through another document, which a reversal brings back.
SHIPPED_OUT_EVENTS = (FreezeEvent.Kind.SCRAPPED, FreezeEvent.Kind.RETURNED)


def _shipped_out_by(document_ref: str) -> dict[int, int]:
    """Units each freeze lost to the document ``document_ref`` (its outflow events)."""
    return dict(
        FreezeEvent.objects.filter(document_ref=document_ref, kind__in=SHIPPED_OUT_EVENTS)
        .values("freeze_id")
        .annotate(units=Sum("quantity"))
        .order_by("freeze_id")
        .values_list("freeze_id", "units")
    )


def lock_frozen_return(ret: hooks.FrozenReturn) -> None:
    """``frozen_return`` prepare hook: lock the freezes the reversed document took frozen units
    from (``FOR NO KEY UPDATE``, primary-key order) before the reversal locks balances, as every
    freeze service does, so reopening a closed freeze cannot deadlock with a release."""
    lock_freezes(_shipped_out_by(ret.original_ref))


def return_frozen_units(ret: hooks.FrozenReturn) -> None:
    """``frozen_return`` apply hook: the units a reversal froze again go back to the freeze
    lines they left (``shipped`` goes down), oldest freeze first as they left, each freeze at
    most what it lost to the original document; a ``back_frozen`` event per freeze, and a freeze
    that had closed meanwhile is reopened (``reopened`` event; it does not catch arrivals again).
    Units no freeze lost stay frozen on the balance, as they were before they left."""
    lost = _shipped_out_by(ret.original_ref)
    if not lost:
        return
    freezes = lock_freezes(lost)
    balance_ids = [balance_id for balance_id, _units in ret.units]
    lines = list(
        FreezeLine.objects.filter(
            freeze_id__in=sorted(lost), balance_id__in=balance_ids, shipped__gt=0
        ).order_by("freeze__created_at", "freeze_id", "pk")
    )
    back: dict[int, int] = defaultdict(int)
    for balance_id, units in ret.units:
        for line in (row for row in lines if row.balance_id == balance_id):
            take = min(units, line.shipped, lost[line.freeze_id] - back[line.freeze_id])
            if take <= 0:
                continue
            FreezeLine.objects.filter(pk=line.pk).update(shipped=F("shipped") - take)
            units -= take
            back[line.freeze_id] += take
    now = timezone.now()
    for freeze_id, units in sorted(back.items()):
        freeze = freezes[freeze_id]
        if not freeze.is_active:
            Freeze.objects.filter(pk=freeze_id).update(status=Freeze.Status.ACTIVE, closed_at=None)
            freeze.status, freeze.closed_at = Freeze.Status.ACTIVE, None
            common.add_event(freeze, FreezeEvent.Kind.REOPENED, actor=ret.operator_id, now=now)
        common.add_event(
            freeze,
            FreezeEvent.Kind.BACK_FROZEN,
            actor=ret.operator_id,
            quantity=units,
            comment=ret.original_ref,  # shown as "Reversal of …" in the reader's language
            document_ref=ret.document_ref,
            now=now,
        )


def register() -> None:
    """Register the hooks with the ledger and the stock query's frozen-stock links."""
    from freezes.selectors import frozen_holders, frozen_links, posting_notes

    hooks.register_in_transaction(freeze_arrivals, kinds=hooks.RECEIPT_KINDS)
    hooks.register_in_transaction(record_frozen_outflow)
    hooks.register_frozen_return(prepare=lock_frozen_return, apply=return_frozen_units)
    hooks.register_frozen_link(frozen_links)
    hooks.register_frozen_holders(frozen_holders)
    hooks.register_posting_notes(posting_notes)
