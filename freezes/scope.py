"""The scope of a freeze: which stock it covers, as a value, a queryset and a match test.

Every field is optional and they combine with AND: "all lipsticks of brand X in warehouse A" is
``Scope(category_id=lipsticks, brand_id=X, warehouse_id=A)``; "batch 2024-03 of this snack" is
``Scope(goods_id=snack, batch_id=b)``. A category includes its sub-categories. Date ranges are
inclusive and read the batch's inbound and production dates (stock kept without batches has
no dates, so a date range never matches it).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, fields

from django.db.models import F, QuerySet

from inventory.models import StockBalance
from inventory.selectors.goods import category_descendant_ids


@dataclass(frozen=True)
class Scope:
    warehouse_id: int | None = None
    goods_id: int | None = None
    batch_id: int | None = None
    bin_id: int | None = None
    category_id: int | None = None
    brand_id: int | None = None
    inbound_from: datetime.date | None = None
    inbound_to: datetime.date | None = None
    produced_from: datetime.date | None = None
    produced_to: datetime.date | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    def as_model_fields(self) -> dict[str, object]:
        """Keyword arguments for the scope fields of ``Freeze``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def of(cls, freeze) -> Scope:
        return cls(**{f.name: getattr(freeze, f.name) for f in fields(cls)})

    @property
    def needs_batch(self) -> bool:
        return any(
            v is not None
            for v in (self.inbound_from, self.inbound_to, self.produced_from, self.produced_to)
        )


def balances_in_scope(scope: Scope, *, categories: set[int] | None = None) -> QuerySet:
    """Balance rows with stock on hand that the scope covers, annotated with ``available_qty``.
    ``categories`` (the category with its descendants) may be passed when already known."""
    qs = StockBalance.objects.filter(on_hand__gt=0)
    if scope.warehouse_id is not None:
        qs = qs.filter(warehouse_id=scope.warehouse_id)
    if scope.goods_id is not None:
        qs = qs.filter(goods_id=scope.goods_id)
    if scope.batch_id is not None:
        qs = qs.filter(batch_id=scope.batch_id)
    if scope.bin_id is not None:
        qs = qs.filter(bin_id=scope.bin_id)
    if scope.category_id is not None:
        tree = (
            categories if categories is not None else category_descendant_ids([scope.category_id])
        )
        qs = qs.filter(goods__category_id__in=sorted(tree))
    if scope.brand_id is not None:
        qs = qs.filter(goods__brand_id=scope.brand_id)
    if scope.inbound_from is not None:
        qs = qs.filter(batch__inbound_date__gte=scope.inbound_from)
    if scope.inbound_to is not None:
        qs = qs.filter(batch__inbound_date__lte=scope.inbound_to)
    if scope.produced_from is not None:
        qs = qs.filter(batch__production_date__gte=scope.produced_from)
    if scope.produced_to is not None:
        qs = qs.filter(batch__production_date__lte=scope.produced_to)
    return qs.annotate(available_qty=F("on_hand") - F("frozen") - F("reserved"))


@dataclass(frozen=True)
class StockFacts:
    """What the match test needs to know about one balance."""

    goods_id: int
    warehouse_id: int
    bin_id: int
    batch_id: int | None
    category_id: int | None
    brand_id: int | None
    inbound_date: datetime.date | None
    production_date: datetime.date | None


def scope_matches(scope: Scope, facts: StockFacts, categories: set[int] | None) -> bool:
    """Whether the scope covers the stock ``facts`` describes (``categories``: the scope's
    category with its descendants, or None when the scope names no category)."""
    for name in ("warehouse_id", "goods_id", "batch_id", "bin_id", "brand_id"):
        wanted = getattr(scope, name)
        if wanted is not None and getattr(facts, name) != wanted:
            return False
    if scope.category_id is not None and facts.category_id not in (categories or set()):
        return False
    return _in_range(facts.inbound_date, scope.inbound_from, scope.inbound_to) and _in_range(
        facts.production_date, scope.produced_from, scope.produced_to
    )


def _in_range(
    value: datetime.date | None, start: datetime.date | None, end: datetime.date | None
) -> bool:
    if start is None and end is None:
        return True
    if value is None:
        return False
    return (start is None or value >= start) and (end is None or value <= end)
