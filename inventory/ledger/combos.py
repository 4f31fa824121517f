"""Combo goods hold no stock of their own: their lines expand into component lines
(``quantity x component quantity`` each) before a receipt or an issue is posted."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.utils.translation import gettext as _

from inventory.exceptions import InvalidInput, NotAllowed
from inventory.ledger.checks import GoodsInfo
from inventory.ledger.values import Pick, Receipt
from inventory.models import ComboComponent


def components(combo_ids: Iterable[int]) -> dict[int, list[tuple[int, int]]]:
    out: dict[int, list[tuple[int, int]]] = defaultdict(list)
    rows = ComboComponent.objects.filter(combo_id__in=list(combo_ids)).order_by("component_id")
    for combo_id, component_id, quantity in rows.values_list(
        "combo_id", "component_id", "quantity"
    ):
        out[combo_id].append((component_id, quantity))
    return out


def expand_combo_receipts(lines: Sequence[Receipt], goods: dict[int, GoodsInfo]) -> list[Receipt]:
    combos = {line.goods_id for line in lines if goods[line.goods_id].is_combo}
    if not combos:
        return list(lines)
    parts = components(combos)
    out: list[Receipt] = []
    for line in lines:
        if line.goods_id not in combos:
            out.append(line)
            continue
        if line.batch_id is not None:
            raise InvalidInput(_("A combo goods line cannot name a batch."))
        if not parts.get(line.goods_id):
            raise NotAllowed(
                _("Combo %(sku)s has no components.") % {"sku": goods[line.goods_id].sku}
            )
        for component_id, per_combo in parts[line.goods_id]:
            out.append(
                Receipt(
                    goods_id=component_id,
                    bin_id=line.bin_id,
                    quantity=line.quantity * per_combo,
                    from_bin_id=line.from_bin_id,
                )
            )
    return out


def expand_combo_picks(lines: Sequence[Pick], goods: dict[int, GoodsInfo]) -> list[Pick]:
    combos = {line.goods_id for line in lines if goods[line.goods_id].is_combo}
    if not combos:
        return list(lines)
    parts = components(combos)
    out: list[Pick] = []
    for line in lines:
        if line.goods_id not in combos:
            out.append(line)
            continue
        if line.batch_id is not None or line.balance_id is not None:
            raise InvalidInput(_("A combo goods line cannot name a batch."))
        if not parts.get(line.goods_id):
            raise NotAllowed(
                _("Combo %(sku)s has no components.") % {"sku": goods[line.goods_id].sku}
            )
        for component_id, per_combo in parts[line.goods_id]:
            out.append(
                Pick(
                    goods_id=component_id,
                    quantity=line.quantity * per_combo,
                    bin_id=line.bin_id,
                    from_frozen=line.from_frozen,
                )
            )
    return out
