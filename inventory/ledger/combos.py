"""Combo goods hold no stock of their own: their lines expand into component lines
(``quantity x component quantity`` each) before a receipt or an issue is posted. A combo may
contain combos (a case of 4 dozens, a dozen of 12 cans): the expansion goes down to goods that
are not combos, multiplying the quantities on the way (one query per level of nesting)."""

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
Recipes = dict[int, list[tuple[int, int]]]


def components(combo_ids: Iterable[int], goods: dict[int, GoodsInfo] | None = None) -> Recipes:
    """``{combo_id: [(component_id, quantity), ...]}`` (by component id) in one query; with
    ``goods``, adds the info of each component not in it yet (read by the same query)."""
    out: Recipes = defaultdict(list)
    rows = ComboComponent.objects.filter(combo_id__in=sorted(set(combo_ids))).order_by(
        "combo_id", "component_id"
    )
    for combo_id, component_id, quantity, sku, is_active, is_combo in rows.values_list(
        "combo_id",
        "component_id",
        "quantity",
        "component__sku",
        "component__is_active",
        "component__is_combo",
    ):
        out[combo_id].append((component_id, quantity))
        if goods is not None:
            goods.setdefault(component_id, GoodsInfo(sku, is_active, is_combo))
    return out


def _expand(lines: Sequence[Line], goods: dict[int, GoodsInfo]) -> tuple[list[Line], Recipes]:
    """``expand_combos``, also returning the recipes it used (every combo expanded, at any
    depth)."""
    for line in lines:
        if goods[line.goods_id].is_combo and (
            line.batch_id is not None or getattr(line, "balance_id", None) is not None
        ):
            raise InvalidInput(_("A combo goods line cannot name a batch."))
    recipes: Recipes = {}
    out = list(lines)
    depth = 0
    while True:
        combos = {line.goods_id for line in out if goods[line.goods_id].is_combo}
        if not combos:
            return out, recipes
        depth += 1
        unread = combos - recipes.keys()
        if unread:
            found = components(unread, goods)
            recipes.update({combo_id: found.get(combo_id, []) for combo_id in unread})
        if depth > len(recipes):
            # deeper than the number of combos met: some combo contains itself (the editor and
            # the import refuse that; never expand forever on a bad recipe)
            raise NotAllowed(
                _("Combo %(sku)s contains itself; correct its components.")
                % {"sku": goods[min(combos)].sku}
            )
        expanded: list[Line] = []
        for line in out:
            if line.goods_id not in combos:
                expanded.append(line)
                continue
            if not recipes[line.goods_id]:
                raise NotAllowed(
                    _("Combo %(sku)s has no components.") % {"sku": goods[line.goods_id].sku}
                )
            expanded.extend(
                replace(line, goods_id=component_id, quantity=line.quantity * per_combo)
                for component_id, per_combo in recipes[line.goods_id]
            )
        out = expanded


def expand_combos(
    lines: Sequence[Line], goods: dict[int, GoodsInfo], *, inner: set[int] | None = None
) -> list[Line]:
    """``lines`` (receipts or picks) with each combo line replaced by one line per component:
    the same line for the component goods, ``quantity x component quantity`` units; a component
    that is itself a combo is expanded in turn, down to goods that are not combos (a goods met
    by two paths gets a line per path). ``goods`` holds the info of the lines' goods; the info of
    the goods met inside the combos is added to it. ``inner``, when given, receives the combos
    met inside combos. One query per level of nesting, none without combos. A combo line naming
    a batch or a balance is refused (``InvalidInput``), a combo without components too, and a
    combo that contains itself (``NotAllowed``)."""
    out, recipes = _expand(lines, goods)
    if inner is not None:
        inner |= recipes.keys() - {line.goods_id for line in lines}
    return out


def lock_receipt_goods(
    lines: Sequence[Receipt],
    expanded: Sequence[Receipt],
    *,
    inner: Iterable[int] = (),
    check_active: bool,
) -> list[Receipt]:
    """Inside a receipt's transaction: take ``FOR KEY SHARE`` on the goods of ``lines``, of the
    combos inside them (``inner``) and of their expansion, all read before the transaction (one
    statement, primary-key order), re-read ``is_combo`` and the components under that lock, and
    return the expansion they give. A goods turned into (or out of) a combo meanwhile is
    received as it is now; when that needs goods not locked (the components of a goods that just
    became a combo, or of a combo whose components changed), ``NotAllowed``: nothing was
    written, post again."""
    wanted = {line.goods_id for line in lines} | {line.goods_id for line in expanded} | set(inner)
    locked = load_goods_locked(wanted)
    known = set(locked)
    fresh, recipes = _expand(lines, locked)
    met = {line.goods_id for line in fresh} | recipes.keys()
    if not met <= known:
        culprit = min(
            combo_id
            for combo_id, parts in recipes.items()
            if combo_id in known and any(part not in known for part, _q in parts)
        )
        if culprit in {line.goods_id for line in expanded}:
            message = _(
                "%(sku)s became a combo while this receipt was being posted; nothing was "
                "received. Post it again to receive its components."
            )
        else:
            message = _(
                "The components of combo %(sku)s changed while this receipt was being posted; "
                "nothing was received. Post it again."
            )
        raise NotAllowed(message % {"sku": locked[culprit].sku})
    if check_active:
        check_goods_active(locked, {line.goods_id for line in fresh})
    return fresh
