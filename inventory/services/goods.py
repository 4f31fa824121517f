"""Writes of the goods catalogue: goods, combo components, batches.

Every function is one business action in one transaction and raises an
``inventory.exceptions.GoodsError`` subclass (``str(error)`` is the message for the user) when it
refuses; a refusal writes nothing.

Combo structure changes (the editor, the combo import) serialize on one PostgreSQL advisory lock
(``combo_graph_lock``), so two concurrent edits cannot each add half of a loop (A in B, B in A)
that neither would allow alone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Upper
from django.utils.translation import gettext as _

from inventory import hooks
from inventory.exceptions import (
    ComboLoop,
    DuplicateBarcode,
    DuplicateBatch,
    DuplicateSku,
    InvalidGoods,
)
from inventory.locks import lock_goods
from inventory.models import Batch, Brand, Category, ComboComponent, Goods
from inventory.selectors.stock import goods_has_stock
from wms.locks import advisory_xact_lock

#: The advisory lock (``wms.locks``) that serializes changes of the combo graph.
COMBO_GRAPH_LOCK = "inventory.combo_graph"


def _clean_code(value: str | None) -> str:
    return " ".join((value or "").split())


def _check_sku_free(sku: str, *, exclude_pk: int | None = None) -> None:
    clash = Goods.objects.annotate(sku_key=Upper("sku")).filter(sku_key=sku.upper())
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    existing = clash.values_list("sku", flat=True).first()
    if existing is not None:
        raise DuplicateSku(
            _("SKU %(sku)s is already used by goods %(existing)s.")
            % {"sku": sku, "existing": existing}
        )


def _check_barcode_free(barcode: str, *, exclude_pk: int | None = None) -> None:
    if not barcode:
        return
    clash = Goods.objects.filter(barcode=barcode)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    owner = clash.values_list("sku", flat=True).first()
    if owner is not None:
        raise DuplicateBarcode(
            _("Barcode %(barcode)s already belongs to goods %(sku)s.")
            % {"barcode": barcode, "sku": owner}
        )


def _validated(
    *,
    sku: str,
    name: str,
    barcode: str,
    weight: Decimal | None,
    volume: Decimal | None,
) -> tuple[str, str, str]:
    sku = _clean_code(sku)
    barcode = _clean_code(barcode)
    name = " ".join((name or "").split())
    if not sku:
        raise InvalidGoods(_("The SKU is required."), field="sku")
    if not name:
        raise InvalidGoods(_("The name is required."), field="name")
    for label, value in ((_("weight"), weight), (_("volume"), volume)):
        if value is not None and value < 0:
            raise InvalidGoods(_("The %(what)s cannot be negative.") % {"what": label})
    return sku, name, barcode


def goods_create(
    *,
    sku: str,
    name: str,
    barcode: str = "",
    category: Category | None = None,
    brand: Brand | None = None,
    unit: str = "pcs",
    weight: Decimal | None = None,
    volume: Decimal | None = None,
    shelf_life_days: int | None = None,
    is_active: bool = True,
) -> Goods:
    """Create a goods. Raises DuplicateSku (case-insensitive), DuplicateBarcode, InvalidGoods."""
    sku, name, barcode = _validated(
        sku=sku, name=name, barcode=barcode, weight=weight, volume=volume
    )
    _check_sku_free(sku)
    _check_barcode_free(barcode)
    try:
        with transaction.atomic():
            return Goods.objects.create(
                sku=sku,
                name=name,
                barcode=barcode,
                category=category,
                brand=brand,
                unit=unit or "pcs",
                weight=weight,
                volume=volume,
                shelf_life_days=shelf_life_days,
                is_active=is_active,
            )
    except IntegrityError:
        # A concurrent create won the race between our check and the insert.
        _check_sku_free(sku)
        _check_barcode_free(barcode)
        raise


#: What ``goods_update`` writes (``is_combo`` belongs to the combo editor).
GOODS_EDIT_FIELDS = [
    "sku",
    "name",
    "barcode",
    "category",
    "brand",
    "unit",
    "weight",
    "volume",
    "shelf_life_days",
    "is_active",
    "updated_at",
]


def goods_update(
    *,
    goods: Goods,
    sku: str,
    name: str,
    barcode: str = "",
    category: Category | None = None,
    brand: Brand | None = None,
    unit: str = "pcs",
    weight: Decimal | None = None,
    volume: Decimal | None = None,
    shelf_life_days: int | None = None,
    is_active: bool = True,
) -> Goods:
    """Change a goods' fields. Same refusals as ``goods_create``."""
    sku, name, barcode = _validated(
        sku=sku, name=name, barcode=barcode, weight=weight, volume=volume
    )
    _check_sku_free(sku, exclude_pk=goods.pk)
    _check_barcode_free(barcode, exclude_pk=goods.pk)
    goods.sku = sku
    goods.name = name
    goods.barcode = barcode
    goods.category = category
    goods.brand = brand
    goods.unit = unit or "pcs"
    goods.weight = weight
    goods.volume = volume
    goods.shelf_life_days = shelf_life_days
    goods.is_active = is_active
    try:
        with transaction.atomic():
            # Only the edited fields: ``is_combo`` belongs to the combo editor, and a stale
            # copy of it must not overwrite a change made meanwhile.
            goods.save(update_fields=GOODS_EDIT_FIELDS)
    except IntegrityError:
        _check_sku_free(sku, exclude_pk=goods.pk)
        _check_barcode_free(barcode, exclude_pk=goods.pk)
        raise
    return goods


def goods_set_active(*, goods: Goods, is_active: bool) -> Goods:
    """Activate or deactivate a goods (the catalogue's way of retiring one: goods with stock or
    history are never deleted). Writes one row."""
    Goods.objects.filter(pk=goods.pk).update(is_active=is_active)
    goods.is_active = is_active
    return goods


# --- combos -----------------------------------------------------------------------------------


def combo_graph_lock() -> None:
    """Serialize changes of the combo graph for the rest of the transaction (PostgreSQL advisory
    lock; SQLite already serializes writers). Call inside ``transaction.atomic()``."""
    advisory_xact_lock(COMBO_GRAPH_LOCK)


def _contains(start_ids: set[int], target_id: int) -> bool:
    """True when ``target_id`` is among ``start_ids`` or anywhere inside them (one query per
    level of nesting)."""
    seen: set[int] = set()
    frontier = set(start_ids)
    while frontier:
        if target_id in frontier:
            return True
        seen |= frontier
        children = ComboComponent.objects.filter(combo_id__in=list(frontier)).values_list(
            "component_id", flat=True
        )
        frontier = set(children) - seen
    return False


def combo_component_set(*, combo: Goods, component: Goods, quantity: int) -> ComboComponent:
    """Put ``quantity`` x ``component`` into ``combo`` (add the line or change its quantity); the
    goods becomes a combo. Locks the combo graph, then the combo's goods row ``FOR UPDATE``
    (``inventory.locks.lock_goods``: a receipt putting stock on it holds ``FOR KEY SHARE`` until
    it commits, so the stock check below sees that stock) and re-reads it; raises ComboLoop when
    the combo would contain itself directly or through another combo, InvalidGoods for a
    quantity below 1 and when a goods that still holds stock would become a combo (the ledger
    keeps no stock on combos). A new line or quantity calls the ``combo_changed`` hooks in the
    transaction (the channels app queues a stock push of the combo)."""
    if quantity is None or quantity < 1:
        raise InvalidGoods(
            _("The quantity must be a whole number of at least 1."), field="quantity"
        )
    if component.pk == combo.pk:
        raise ComboLoop(_("A combo cannot contain itself."))
    with transaction.atomic():
        combo_graph_lock()
        combo.is_combo = lock_goods([combo.pk])[combo.pk].is_combo
        if not combo.is_combo and goods_has_stock(combo.pk):
            raise InvalidGoods(
                _(
                    "%(sku)s still holds stock, so it cannot become a combo: a combo holds no "
                    "stock of its own. Ship, move or count that stock out first."
                )
                % {"sku": combo.sku}
            )
        if _contains({component.pk}, combo.pk):
            raise ComboLoop(
                _(
                    "%(component)s already contains %(combo)s (through its own components), so "
                    "it cannot go into %(combo)s: the combo would contain itself."
                )
                % {"component": component.sku, "combo": combo.sku}
            )
        previous = dict(
            ComboComponent.objects.filter(combo=combo).values_list("component_id", "quantity")
        )
        line, _created = ComboComponent.objects.update_or_create(
            combo=combo, component=component, defaults={"quantity": quantity}
        )
        if not combo.is_combo:
            Goods.objects.filter(pk=combo.pk).update(is_combo=True)
            combo.is_combo = True
        if _created or line.quantity != previous.get(component.pk):
            hooks.combo_changed([combo.pk])
    return line


def combo_component_remove(*, combo: Goods, component: Goods) -> None:
    """Take ``component`` out of ``combo``; a combo left without components is a plain goods
    again. Calls the ``combo_changed`` hooks in the transaction when a line was removed."""
    with transaction.atomic():
        combo_graph_lock()
        lock_goods([combo.pk])  # receipts expanding this combo finish first (KEY SHARE)
        deleted, _by_model = ComboComponent.objects.filter(
            combo=combo, component=component
        ).delete()
        combo_flags_refresh(goods_ids=[combo.pk], changed=bool(deleted))
        combo.is_combo = ComboComponent.objects.filter(combo=combo).exists()


def combo_flags_refresh(*, goods_ids: list[int], changed: bool = True) -> None:
    """Set ``is_combo`` on these goods from whether they have component lines (one UPDATE), once
    their lines were written (the editor, the combo import); with ``changed``, tells the
    ``combo_changed`` hooks their recipes changed (inside the caller's transaction)."""
    Goods.objects.filter(pk__in=list(goods_ids)).update(
        is_combo=Exists(ComboComponent.objects.filter(combo_id=OuterRef("pk")))
    )
    if changed:
        hooks.combo_changed(goods_ids)


# --- batches ----------------------------------------------------------------------------------


def batch_expiry_default(
    goods: Goods, production_date: dt.date | None, expiry_date: dt.date | None
) -> dt.date | None:
    """The expiry date to store: the given one, else production date + the goods' shelf life.
    Raises InvalidGoods (on the production date) when that sum is past the last date there is."""
    if expiry_date is None and production_date and goods.shelf_life_days:
        try:
            return production_date + dt.timedelta(days=goods.shelf_life_days)
        except OverflowError:
            raise InvalidGoods(_("Enter a valid date."), field="production_date") from None
    return expiry_date


def _check_batch_dates(production_date: dt.date | None, expiry_date: dt.date | None) -> None:
    if production_date and expiry_date and expiry_date < production_date:
        raise InvalidGoods(_("The expiry date is before the production date."), field="expiry_date")


def batch_create(
    *,
    goods: Goods,
    batch_no: str,
    production_date: dt.date | None = None,
    expiry_date: dt.date | None = None,
    inbound_date: dt.date | None = None,
) -> Batch:
    """Create a batch of ``goods``; the expiry date defaults to production date + shelf life.
    Raises DuplicateBatch (batch numbers are unique per goods) and InvalidGoods."""
    batch_no = _clean_code(batch_no)
    if not batch_no:
        raise InvalidGoods(_("The batch number is required."), field="batch_no")
    expiry_date = batch_expiry_default(goods, production_date, expiry_date)
    _check_batch_dates(production_date, expiry_date)
    if Batch.objects.filter(goods=goods, batch_no=batch_no).exists():
        raise DuplicateBatch(
            _("%(sku)s already has a batch %(batch)s.") % {"sku": goods.sku, "batch": batch_no}
        )
    try:
        with transaction.atomic():
            return Batch.objects.create(
                goods=goods,
                batch_no=batch_no,
                production_date=production_date,
                expiry_date=expiry_date,
                inbound_date=inbound_date,
            )
    except IntegrityError as error:
        raise DuplicateBatch(
            _("%(sku)s already has a batch %(batch)s.") % {"sku": goods.sku, "batch": batch_no}
        ) from error


def batch_update(
    *,
    batch: Batch,
    batch_no: str,
    production_date: dt.date | None = None,
    expiry_date: dt.date | None = None,
    inbound_date: dt.date | None = None,
) -> Batch:
    """Change a batch's number and dates (same defaults and refusals as ``batch_create``)."""
    batch_no = _clean_code(batch_no)
    if not batch_no:
        raise InvalidGoods(_("The batch number is required."), field="batch_no")
    expiry_date = batch_expiry_default(batch.goods, production_date, expiry_date)
    _check_batch_dates(production_date, expiry_date)
    if (
        Batch.objects.filter(goods_id=batch.goods_id, batch_no=batch_no)
        .exclude(pk=batch.pk)
        .exists()
    ):
        raise DuplicateBatch(
            _("%(sku)s already has a batch %(batch)s.")
            % {"sku": batch.goods.sku, "batch": batch_no}
        )
    batch.batch_no = batch_no
    batch.production_date = production_date
    batch.expiry_date = expiry_date
    batch.inbound_date = inbound_date
    try:
        with transaction.atomic():
            batch.save()
    except IntegrityError as error:
        raise DuplicateBatch(
            _("%(sku)s already has a batch %(batch)s.")
            % {"sku": batch.goods.sku, "batch": batch_no}
        ) from error
    return batch


def catalogue_names_create(*, brands: list[str], categories: list[str]) -> dict[str, list[str]]:
    """Create the brands and category paths a goods sheet names (the import's "create the
    missing brands and categories"), inside the caller's transaction so they commit or roll back
    with the sheet. Names are matched case-insensitively: one that exists by now is used, not
    created again. A path "Drinks > Beer" creates each missing level under its parent. Returns
    what it created (``{"brands": [...], "categories": [paths]}``). Raises ``InvalidGoods`` for
    a name longer than the field allows."""
    created: dict[str, list[str]] = {"brands": [], "categories": []}
    limit = Brand._meta.get_field("name").max_length
    with transaction.atomic():
        existing = {name.casefold() for name in Brand.objects.values_list("name", flat=True)}
        for name in brands:
            name = " ".join(name.split())
            if not name or name.casefold() in existing:
                continue
            if len(name) > limit:
                raise InvalidGoods(
                    _("The brand name %(name)s is longer than %(limit)s characters.")
                    % {"name": name, "limit": limit}
                )
            Brand.objects.create(name=name)
            existing.add(name.casefold())
            created["brands"].append(name)
        children: dict[tuple[int | None, str], int] = {
            (parent_id, name.casefold()): pk
            for pk, parent_id, name in Category.objects.values_list("pk", "parent_id", "name")
        }
        for path in categories:
            parent_id, names = None, []
            for name in (part.strip() for part in path.split(">")):
                if not name:
                    continue
                names.append(name)
                pk = children.get((parent_id, name.casefold()))
                if pk is None:
                    if len(name) > Category._meta.get_field("name").max_length:
                        raise InvalidGoods(
                            _("The category name %(name)s is too long.") % {"name": name}
                        )
                    pk = Category.objects.create(name=name, parent_id=parent_id).pk
                    children[(parent_id, name.casefold())] = pk
                    created["categories"].append(" > ".join(names))
                parent_id = pk
    return created
