"""Combo goods hold no stock of their own: their lines expand into component lines
(``quantity x component quantity`` each) before a receipt or an issue is posted."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TypeVar

from django.utils.translation import gettext as _

from inventory.exceptions import InvalidInput, NotAllowed
from inventory.ledger.checks import GoodsInfo, check_goods_active, load_goods_locked
from inventory.ledger.values import Pick, Receipt
from inventory.models import ComboComponent

Line = TypeVar("Line", Receipt, Pick)


def components(combo_ids: Iterable[int]) -> dict[int, list[tuple[int, int]]]:
    out: dict[int, list[tuple[int, int]]] = defaultdict(list)
    rows = ComboComponent.objects.filter(combo_id__in=list(combo_ids)).order_by("component_id")
    for combo_id, component_id, quantity in rows.values_list(
        "combo_id", "component_id", "quantity"
    ):
        out[combo_id].append((component_id, quantity))
    return out


def expand_combos(lines: Sequence[Line], goods: dict[int, GoodsInfo]) -> list[Line]:
    """``lines`` (receipts or picks) with each combo line replaced by one line per component:
    the same line for the component goods, ``quantity x component quantity`` units (one query
    for the components, none without combos). A combo line naming a batch or a balance is
    refused (``InvalidInput``), a combo without components too (``NotAllowed``)."""
    combos = {line.goods_id for line in lines if goods[line.goods_id].is_combo}
    if not combos:
        return list(lines)
    parts = components(combos)
    out: list[Line] = []
    for line in lines:
        if line.goods_id not in combos:
            out.append(line)
            continue
        if line.batch_id is not None or getattr(line, "balance_id", None) is not None:
            raise InvalidInput(_("A combo goods line cannot name a batch."))
        if not parts.get(line.goods_id):
            raise NotAllowed(
                _("Combo %(sku)s has no components.") % {"sku": goods[line.goods_id].sku}
            )
        out.extend(
            replace(line, goods_id=component_id, quantity=line.quantity * per_combo)
            for component_id, per_combo in parts[line.goods_id]
        )
    return out


def lock_receipt_goods(
    lines: Sequence[Receipt], expanded: Sequence[Receipt], *, check_active: bool
) -> list[Receipt]:
    """Inside a receipt's transaction: take ``FOR KEY SHARE`` on the goods of ``lines`` and of
    their expansion read before the transaction (one statement, primary-key order), re-read
    ``is_combo`` and the components under that lock, and return the expansion they give. A goods
    turned into (or out of) a combo meanwhile is received as it is now; when that needs goods
    not locked (the components of a goods that just became a combo), ``NotAllowed``: nothing was
    written, post again."""
    wanted = {line.goods_id for line in lines} | {line.goods_id for line in expanded}
    locked = load_goods_locked(wanted)
    fresh = expand_combos(lines, locked)
    changed = sorted({line.goods_id for line in fresh} - locked.keys())
    if changed:
        before = {line.goods_id for line in expanded}
        sku = next(
            locked[line.goods_id].sku
            for line in lines
            if locked[line.goods_id].is_combo and line.goods_id in before
        )
        raise NotAllowed(
            _(
                "%(sku)s became a combo while this receipt was being posted; nothing was "
                "received. Post it again to receive its components."
            )
            % {"sku": sku}
        )
    if check_active:
        check_goods_active(locked, {line.goods_id for line in fresh})
    return fresh
