"""Validation of a posting's input, before anything is written: kinds, lines, quantities,
reasons and idempotency keys, goods and bins (loaded once, as small value objects), batches."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from inventory.exceptions import AlreadyPosted, InvalidInput, InvalidQuantity, NotAllowed
from inventory.ledger.values import KEY_MAX, MAX_QUANTITY, REASON_MAX
from inventory.locks import lock_bins_shared, lock_goods_shared
from inventory.models import Batch, Goods, StockMovement


@dataclass(frozen=True)
class GoodsInfo:
    sku: str
    is_active: bool
    is_combo: bool


@dataclass(frozen=True)
class BinInfo:
    code: str
    warehouse_id: int
    is_active: bool


def check_kind(kind: str, allowed: frozenset) -> None:
    if kind not in allowed:
        raise InvalidInput(_("This kind of movement cannot be posted here."))


def check_lines(lines: Sequence) -> None:
    if not lines:
        raise InvalidInput(_("Nothing to post: add at least one line."))


def check_quantity(quantity: object, *, minimum: int = 1) -> int:
    """The one quantity check of the product (public as ``inventory.ledger.check_quantity``):
    ``quantity`` must be a whole number (``bool`` is not one) from ``minimum`` (1, or 0 for a
    count or a received/inspected quantity) to ``MAX_QUANTITY``. Returns it; raises
    ``InvalidQuantity`` with one of two messages (below the minimum, above the maximum)."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < minimum:
        if minimum > 0:
            raise InvalidQuantity(_("Quantities must be whole numbers greater than zero."))
        raise InvalidQuantity(_("Quantities must be whole numbers, 0 or more."))
    if quantity > MAX_QUANTITY:
        raise InvalidQuantity(
            _("A quantity may not exceed %(max)s units.") % {"max": f"{MAX_QUANTITY:,}"}
        )
    return quantity


def clean_reason(reason: str) -> str:
    return (reason or "").strip()[:REASON_MAX]


def clean_key(key: str | None) -> str | None:
    if key is None or key == "":
        return None
    if len(key) > KEY_MAX:
        raise InvalidInput(_("The operation key is too long."))
    return key


def check_key_unused(key: str) -> None:
    """Early, friendly refusal of a replay; the unique index still decides under a race."""
    if StockMovement.objects.filter(idempotency_key=key).exists():
        raise AlreadyPosted(_("This operation was posted already; nothing was changed."))


def load_goods(ids: Iterable[int]) -> dict[int, GoodsInfo]:
    wanted = set(ids)
    if not wanted:
        return {}
    found = {
        pk: GoodsInfo(sku, is_active, is_combo)
        for pk, sku, is_active, is_combo in Goods.objects.filter(pk__in=list(wanted)).values_list(
            "pk", "sku", "is_active", "is_combo"
        )
    }
    if len(found) != len(wanted):
        raise InvalidInput(_("Unknown goods."))
    return found


def load_goods_locked(ids: Iterable[int]) -> dict[int, GoodsInfo]:
    """``load_goods`` inside the posting's transaction, under ``FOR KEY SHARE`` on the goods rows
    (``inventory.locks.lock_goods_shared``): what it returns cannot change until commit."""
    wanted = set(ids)
    found = {pk: GoodsInfo(*info) for pk, info in lock_goods_shared(wanted).items()}
    if len(found) != len(wanted):
        raise InvalidInput(_("Unknown goods."))
    return found


def check_goods_active(goods: dict[int, GoodsInfo], ids: Iterable[int]) -> None:
    for goods_id in ids:
        if not goods[goods_id].is_active:
            raise NotAllowed(
                _("Goods %(sku)s is inactive: it cannot be received, moved or held.")
                % {"sku": goods[goods_id].sku}
            )


def check_not_combo(goods: dict[int, GoodsInfo]) -> None:
    for info in goods.values():
        if info.is_combo:
            raise NotAllowed(
                _(
                    "%(sku)s is a combo goods: it holds no stock of its own; "
                    "move or count its components."
                )
                % {"sku": info.sku}
            )


def load_bins(ids: Iterable[int]) -> dict[int, BinInfo]:
    from warehouses.models import Bin

    wanted = set(ids)
    found = {
        pk: BinInfo(code, warehouse_id, is_active)
        for pk, code, warehouse_id, is_active in Bin.objects.filter(
            pk__in=list(wanted)
        ).values_list("pk", "code", "warehouse_id", "is_active")
    }
    if len(found) != len(wanted):
        raise InvalidInput(_("Unknown bin."))
    return found


def check_bins_in_warehouse(
    bins: dict[int, BinInfo], ids: Iterable[int], warehouse_id: int | None
) -> None:
    if warehouse_id is None:
        return
    for bin_id in ids:
        if bins[bin_id].warehouse_id != warehouse_id:
            raise NotAllowed(
                _("Bin %(bin)s belongs to another warehouse.") % {"bin": bins[bin_id].code}
            )


def check_bins_active_locked(ids: Iterable[int], bins: dict[int, BinInfo]) -> None:
    for bin_id, is_active in sorted(lock_bins_shared(ids).items()):
        if not is_active:
            raise NotAllowed(
                _("Bin %(bin)s is inactive: stock cannot be put into it.")
                % {"bin": bins[bin_id].code}
            )


def check_batches(lines: Sequence) -> None:
    wanted = {line.batch_id for line in lines if line.batch_id is not None}
    if not wanted:
        return
    owners = dict(Batch.objects.filter(pk__in=list(wanted)).values_list("pk", "goods_id"))
    for line in lines:
        if line.batch_id is None:
            continue
        if line.batch_id not in owners:
            raise InvalidInput(_("Unknown batch."))
        if owners[line.batch_id] != line.goods_id:
            raise InvalidInput(_("This batch belongs to another goods."))


def goods_label(goods: dict[int, GoodsInfo], goods_id: int, where: str = "") -> str:
    sku = goods[goods_id].sku if goods_id in goods else str(goods_id)
    return f"{sku} ({where})" if where else sku


def sku_of(goods_id: int) -> str:
    return Goods.objects.filter(pk=goods_id).values_list("sku", flat=True).first() or ""
