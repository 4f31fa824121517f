"""Reads of the stock ledger shared by screens, exports, hooks and other apps.

Every list selector is keyset-paginated (no OFFSET, no COUNT(*) over the table) and returns a
constant number of queries per page, with the related rows the templates need.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from inventory.models import Batch, ComboComponent, Goods, StockBalance, StockMovement
from warehouses.models import Bin

# --------------------------------------------------------------------------------------------
# Hooks for the warehouses app
# --------------------------------------------------------------------------------------------


def bins_holding_stock(bins: list) -> dict[int, str]:
    """Bin deactivation guard: a refusal message for each bin that still holds stock (one
    query). Runs under the deactivation's bin row locks; receipts share-lock their bins, so no
    stock can arrive between this check and the deactivation."""
    ids = [b.pk for b in bins]
    held = dict(
        StockBalance.objects.filter(bin_id__in=ids, on_hand__gt=0)
        .values("bin_id")
        .annotate(units=Sum("on_hand"))
        .values_list("bin_id", "units")
    )
    codes = {b.pk: b.code for b in bins}
    return {
        bin_id: _("Bin %(bin)s still holds %(units)s units of stock; move them first.")
        % {"bin": codes[bin_id], "units": units}
        for bin_id, units in held.items()
    }


def bin_stock_contents(bin_ids: list[int], limit: int = 20) -> dict[int, dict[str, object]]:
    """Bin lookup provider: per bin, "SKU name (batch)" -> "on hand (frozen N)" for the stock
    it holds (one query for the page). At most ``limit`` lines per bin, then a "more" line."""
    rows = (
        StockBalance.objects.filter(bin_id__in=list(bin_ids), on_hand__gt=0)
        .order_by("bin_id", "goods__sku", "batch__batch_no", "pk")
        .values_list("bin_id", "goods__sku", "goods__name", "batch__batch_no", "on_hand", "frozen")
    )
    out: dict[int, dict[str, object]] = defaultdict(dict)
    extra: dict[int, int] = defaultdict(int)
    for bin_id, sku, name, batch_no, on_hand, frozen in rows:
        if len(out[bin_id]) >= limit:
            extra[bin_id] += 1
            continue
        label = f"{sku} {name}" + (f" ({batch_no})" if batch_no else "")
        value = str(on_hand)
        if frozen:
            value += " " + _("(frozen %(n)s)") % {"n": frozen}
        out[bin_id][label] = value
    for bin_id, more in extra.items():
        out[bin_id][_("more")] = _("%(n)s more lines") % {"n": more}
    return dict(out)


# --------------------------------------------------------------------------------------------
# Quantities
# --------------------------------------------------------------------------------------------


def goods_has_stock(goods_id: int) -> bool:
    """True while any balance of the goods holds units (it cannot be deleted then)."""
    return StockBalance.objects.filter(goods_id=goods_id, on_hand__gt=0).exists()


def goods_available(goods_ids: list[int], *, warehouse_id: int | None = None) -> dict[int, int]:
    """Available units per goods (in one warehouse, or in all), combos included: a combo's
    available is the minimum over its components of floor(component available / quantity),
    and 0 when it has no components. Two queries whatever the number of goods."""
    goods_ids = list(goods_ids)
    parts: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for combo_id, component_id, quantity in ComboComponent.objects.filter(
        combo_id__in=goods_ids
    ).values_list("combo_id", "component_id", "quantity"):
        parts[combo_id].append((component_id, quantity))
    combo_ids = set(
        Goods.objects.filter(pk__in=goods_ids, is_combo=True).values_list("pk", flat=True)
    )
    wanted = set(goods_ids) | {c for rows in parts.values() for c, _q in rows}
    balances = StockBalance.objects.filter(goods_id__in=sorted(wanted))
    if warehouse_id is not None:
        balances = balances.filter(warehouse_id=warehouse_id)
    plain = dict(
        balances.values("goods_id")
        .annotate(units=Sum(F("on_hand") - F("frozen") - F("reserved")))
        .values_list("goods_id", "units")
    )
    out: dict[int, int] = {}
    for goods_id in goods_ids:
        if goods_id in combo_ids:
            components = parts.get(goods_id, [])
            out[goods_id] = (
                min(max(plain.get(c, 0), 0) // q for c, q in components) if components else 0
            )
        else:
            out[goods_id] = max(plain.get(goods_id, 0), 0)
    return out


def balance_totals(*, goods_id: int, warehouse_id: int | None = None) -> dict[str, int]:
    """On hand, frozen, reserved and available of one goods (in one warehouse or all)."""
    qs = StockBalance.objects.filter(goods_id=goods_id)
    if warehouse_id is not None:
        qs = qs.filter(warehouse_id=warehouse_id)
    totals = qs.aggregate(on_hand=Sum("on_hand"), frozen=Sum("frozen"), reserved=Sum("reserved"))
    totals = {k: v or 0 for k, v in totals.items()}
    totals["available"] = totals["on_hand"] - totals["frozen"] - totals["reserved"]
    return totals


# --------------------------------------------------------------------------------------------
# Reconciliation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    """A balance row that disagrees with the sum of its movements."""

    balance_id: int
    goods_sku: str
    bin_code: str
    batch_no: str
    stored: tuple[int, int, int]
    from_movements: tuple[int, int, int]

    @property
    def difference(self) -> tuple[int, int, int]:
        return tuple(s - m for s, m in zip(self.stored, self.from_movements, strict=True))


def balance_drift() -> list[Drift]:
    """Every balance whose on hand, frozen or reserved differs from the sum of its movements'
    deltas, plus movements whose goods/bin/batch/warehouse disagree with their balance (shown
    with stored ``(-1, -1, -1)``). Set-based: two statements whatever the table sizes."""
    balance = connection.ops.quote_name(StockBalance._meta.db_table)
    movement = connection.ops.quote_name(StockMovement._meta.db_table)
    goods = connection.ops.quote_name(Goods._meta.db_table)
    bins = connection.ops.quote_name(Bin._meta.db_table)
    batch = connection.ops.quote_name(Batch._meta.db_table)
    sums = f"""
        SELECT b.id, g.sku, bn.code, COALESCE(bt.batch_no, ''),
               b.on_hand, b.frozen, b.reserved,
               COALESCE(m.on_hand, 0), COALESCE(m.frozen, 0), COALESCE(m.reserved, 0)
        FROM {balance} b
        JOIN {goods} g ON g.id = b.goods_id
        JOIN {bins} bn ON bn.id = b.bin_id
        LEFT JOIN {batch} bt ON bt.id = b.batch_id
        LEFT JOIN (
            SELECT balance_id, SUM(on_hand_delta) AS on_hand, SUM(frozen_delta) AS frozen,
                   SUM(reserved_delta) AS reserved
            FROM {movement} GROUP BY balance_id
        ) m ON m.balance_id = b.id
        WHERE b.on_hand <> COALESCE(m.on_hand, 0) OR b.frozen <> COALESCE(m.frozen, 0)
           OR b.reserved <> COALESCE(m.reserved, 0)
        ORDER BY b.id
    """
    mismatched = f"""
        SELECT b.id, g.sku, bn.code, COALESCE(bt.batch_no, ''), COUNT(*)
        FROM {movement} m
        JOIN {balance} b ON b.id = m.balance_id
        JOIN {goods} g ON g.id = b.goods_id
        JOIN {bins} bn ON bn.id = b.bin_id
        LEFT JOIN {batch} bt ON bt.id = b.batch_id
        WHERE m.goods_id <> b.goods_id OR m.bin_id <> b.bin_id OR m.warehouse_id <> b.warehouse_id
           OR COALESCE(m.batch_id, 0) <> COALESCE(b.batch_id, 0)
        GROUP BY b.id, g.sku, bn.code, bt.batch_no
        ORDER BY b.id
    """
    out: list[Drift] = []
    with connection.cursor() as cursor:
        cursor.execute(sums)
        for pk, sku, code, batch_no, *numbers in cursor.fetchall():
            out.append(Drift(pk, sku, code, batch_no, tuple(numbers[:3]), tuple(numbers[3:])))
        cursor.execute(mismatched)
        for pk, sku, code, batch_no, count in cursor.fetchall():
            out.append(Drift(pk, sku, code, batch_no, (-1, -1, -1), (count, 0, 0)))
    return out
