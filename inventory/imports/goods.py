"""Resources of the goods catalogue: goods, combo components and batches.

Each is a django-import-export ``ModelResource`` (the admin uses them as they are) running
through the bulk engine. Rules beyond the model's own:

* SKUs are matched trimmed and case-insensitively; a SKU twice in one file is refused.
* Leading zeros: a digit-only SKU such as ``123`` is refused when goods ``00123`` exist (and
  ``123`` itself does not), and a SKU typed as a number cell is refused when the same file holds
  zero-padded digit SKUs (``00045``): in both cases Excel has turned the code into a number and
  dropped its zeros. Numeric SKUs that collide with nothing are accepted as text ("123").
* A barcode belongs to one goods; a barcode whose leading zero was lost is refused on update.
* Brands and categories must exist (categories by path "Drinks > Beer" or a unique name); the
  names that do not are listed in the report (``missing``), and the user may have them created
  with the import (``create_missing``, see ``jobs.import_job_create_missing``).
"""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import F, Func, QuerySet, Value
from django.db.models.functions import Upper
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.fields import Field

from inventory.imports.engine import (
    NEW,
    UNCHANGED,
    UPDATED,
    BulkModelResource,
    ImportContext,
    SheetRow,
)
from inventory.imports.registry import register
from inventory.imports.widgets import (
    CategoryWidget,
    CodeWidget,
    DateWidget,
    IntegerWidget,
    NameWidget,
    NumberWidget,
    TextWidget,
    YesNoWidget,
)
from inventory.models import Batch, Brand, Category, ComboComponent, Goods

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _has_control_chars(text: str) -> bool:
    return _CONTROL.search(text) is not None


def goods_by_sku_key(keys: list[str]) -> dict[str, tuple[int, str, int | None]]:
    """Upper-cased SKU -> (id, stored SKU, shelf life days), one query."""
    if not keys:
        return {}
    rows = (
        Goods.objects.annotate(sku_key=Upper("sku"))
        .filter(sku_key__in=keys)
        .values_list("sku_key", "pk", "sku", "shelf_life_days")
    )
    return {key: (pk, sku, shelf_life) for key, pk, sku, shelf_life in rows}


@register
class GoodsResource(BulkModelResource):
    import_key = "goods"
    import_label = gettext_lazy("Goods")
    import_permissions = ("inventory.add_goods", "inventory.change_goods")
    export_permissions = ("inventory.view_goods",)
    required_columns = ("sku",)
    required_values = ("sku",)
    keep_when_blank = ("is_active",)
    column_labels = {
        "sku": gettext_lazy("SKU"),
        "name": gettext_lazy("Name"),
        "barcode": gettext_lazy("Barcode"),
        "category": gettext_lazy("Category"),
        "brand": gettext_lazy("Brand"),
        "unit": gettext_lazy("Unit"),
        "weight": gettext_lazy("Weight (kg)"),
        "volume": gettext_lazy("Volume (L)"),
        "shelf_life_days": gettext_lazy("Shelf life (days)"),
        "is_active": gettext_lazy("Active"),
    }
    column_aliases = {
        "sku": ("货品编码", "商品编码", "item code"),
        "name": ("名称", "货品名称", "goods name"),
        "barcode": ("条码", "条形码"),
        "category": ("分类", "类别", "货品分类"),
        "brand": ("品牌",),
        "unit": ("单位",),
        "weight": ("重量", "重量(kg)", "重量（kg）"),
        "volume": ("体积", "体积(L)"),
        "shelf_life_days": ("保质期", "保质期(天)"),
        "is_active": ("启用", "是否启用", "active"),
    }
    column_notes = {
        "sku": gettext_lazy(
            "Required. The goods' unique code; matched without regard to case. An existing SKU "
            "updates that goods, a new one creates it. Format the column as Text so Excel keeps "
            "leading zeros."
        ),
        "name": gettext_lazy("Required for new goods."),
        "barcode": gettext_lazy("Optional. Unique: one barcode belongs to one goods."),
        "category": gettext_lazy(
            "Optional. An existing category, as a path (Drinks > Beer) or a unique name."
        ),
        "brand": gettext_lazy("Optional. The name of an existing brand."),
        "unit": gettext_lazy("Optional, e.g. pcs, box, kg. New goods default to pcs."),
        "weight": gettext_lazy("Optional. Kilograms, up to 3 decimals."),
        "volume": gettext_lazy("Optional. Litres, up to 3 decimals."),
        "shelf_life_days": gettext_lazy(
            "Optional. Whole days; batches without an expiry date get one from it."
        ),
        "is_active": gettext_lazy("Optional. 1 = active, 0 = inactive; blank keeps the current."),
    }
    example_row = {
        "sku": "EXAMPLE-0001",
        "name": "Example goods, delete this row",
        "barcode": "6901234567892",
        "category": "Drinks > Beer",
        "brand": "Example brand",
        "unit": "pcs",
        "weight": 0.5,
        "volume": 0.33,
        "shelf_life_days": 365,
        "is_active": 1,
    }

    sku = Field(attribute="sku", column_name="sku", widget=CodeWidget())
    name = Field(attribute="name", column_name="name", widget=TextWidget())
    barcode = Field(attribute="barcode", column_name="barcode", widget=CodeWidget())
    category = Field(
        attribute="category_id", column_name="category", widget=CategoryWidget(Category)
    )
    brand = Field(attribute="brand_id", column_name="brand", widget=NameWidget(Brand))
    unit = Field(attribute="unit", column_name="unit", widget=TextWidget())
    weight = Field(attribute="weight", column_name="weight", widget=NumberWidget())
    volume = Field(attribute="volume", column_name="volume", widget=NumberWidget())
    shelf_life_days = Field(
        attribute="shelf_life_days", column_name="shelf_life_days", widget=IntegerWidget()
    )
    is_active = Field(attribute="is_active", column_name="is_active", widget=YesNoWidget())

    class Meta:
        model = Goods
        fields = (
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
        )
        import_id_fields = ("sku",)
        name = gettext_lazy("Goods")

    # --- import -------------------------------------------------------------------------------

    def key_attributes(self) -> tuple[str, ...]:
        return ("sku",)

    #: Brands and category paths the user agreed to create with this import (``ImportJob.
    #: create_missing``): created first, in the import's own transaction (all or nothing).
    create_missing: dict | None = None

    def begin_import(self, ctx: ImportContext) -> None:
        super().begin_import(ctx)
        ctx.state["barcodes"] = {}
        ctx.state["numeric_skus"] = []
        ctx.state["zero_padded"] = {}
        if self.create_missing:
            from inventory.services.goods import catalogue_names_create

            ctx.report.created = catalogue_names_create(
                brands=list(self.create_missing.get("brands", [])),
                categories=list(self.create_missing.get("categories", [])),
            )
        for name in ("brand", "category"):
            if name in self.fields:
                self.fields[name].widget.load()

    def key_for(self, row: SheetRow, ctx: ImportContext):
        sku = row.values["sku"]
        if _has_control_chars(sku):
            ctx.error(row, "sku", _("contains invisible control characters"))
            return None
        raw = row.raw.get("sku")
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            ctx.state["numeric_skus"].append((row.number, sku))
        elif sku.isdigit() and sku.startswith("0"):
            ctx.state["zero_padded"].setdefault(sku.lstrip("0"), (row.number, sku))
        return sku.upper()

    def duplicate_message(self, row: SheetRow, first_row: int) -> tuple[str, str]:
        return "sku", _("SKU '%(sku)s' is already on row %(row)s") % {
            "sku": row.values["sku"],
            "row": first_row,
        }

    def fetch_existing(self, keys: list, ctx: ImportContext) -> dict:
        found = {}
        for goods in Goods.objects.annotate(sku_key=Upper("sku")).filter(sku_key__in=keys):
            goods.loaded_barcode = goods.barcode
            found[goods.sku_key] = goods
        return found

    def validate_instance_row(self, row: SheetRow, ctx: ImportContext) -> None:
        goods = row.instance
        if row.outcome == NEW and not goods.name:
            ctx.error(row, "name", _("is required for new goods"))
            return
        if "name" in row.values and not row.values["name"]:
            ctx.error(row, "name", _("cannot be blank"))
            return
        raw_barcode = row.raw.get("barcode")
        if (
            row.outcome != NEW
            and isinstance(raw_barcode, (int, float))
            and goods.barcode
            and goods.loaded_barcode != goods.barcode
            and goods.loaded_barcode.lstrip("0") == goods.barcode
        ):
            ctx.error(
                row,
                "barcode",
                _(
                    "%(value)s lost the leading zeros of the current barcode %(current)s (Excel "
                    "turned it into a number); format the column as Text"
                )
                % {"value": goods.barcode, "current": goods.loaded_barcode},
            )
        if goods.barcode and _has_control_chars(goods.barcode):
            ctx.error(row, "barcode", _("contains invisible control characters"))

    def validate_batch(self, rows: list[SheetRow], ctx: ImportContext) -> None:
        self._check_barcodes(rows, ctx)
        self._check_dropped_zeros(rows, ctx)

    def _check_barcodes(self, rows: list[SheetRow], ctx: ImportContext) -> None:
        """A barcode belongs to one goods: first against the database (for new or changed
        barcodes, one query), then within the file among the rows still valid."""
        wanted: dict[str, list[SheetRow]] = {}
        for row in rows:
            barcode = row.instance.barcode if row.ok else ""
            if barcode and (row.outcome == NEW or row.instance.loaded_barcode != barcode):
                wanted.setdefault(barcode, []).append(row)
        if wanted:
            owners = (
                Goods.objects.filter(barcode__in=list(wanted))
                .annotate(sku_key=Upper("sku"))
                .values_list("barcode", "sku_key", "sku")
            )
            for barcode, owner_key, owner_sku in owners:
                for row in wanted[barcode]:
                    if owner_key != row.key and row.ok:
                        ctx.error(
                            row,
                            "barcode",
                            _("barcode %(barcode)s already belongs to goods %(sku)s")
                            % {"barcode": barcode, "sku": owner_sku},
                        )
        seen = ctx.state["barcodes"]
        for row in rows:
            if not row.ok or not row.instance.barcode:
                continue
            barcode = row.instance.barcode
            first = seen.get(barcode)
            if first is not None and first[1] != row.key:
                ctx.error(
                    row,
                    "barcode",
                    _("barcode %(barcode)s is already on row %(row)s")
                    % {"barcode": barcode, "row": first[0]},
                )
                continue
            seen[barcode] = (row.number, row.key)

    def _check_dropped_zeros(self, rows: list[SheetRow], ctx: ImportContext) -> None:
        digits = {
            row.values["sku"]: row
            for row in rows
            if row.ok
            and row.outcome == NEW
            and row.values["sku"].isdigit()
            and not row.values["sku"].startswith("0")
        }
        if not digits:
            return
        padded = (
            Goods.objects.annotate(stripped=Func(F("sku"), Value("0"), function="LTRIM"))
            .filter(sku__startswith="0", stripped__in=list(digits))
            .values_list("stripped", "sku")
        )
        for stripped, existing in padded:
            row = digits.get(stripped)
            if row is not None and row.ok:
                ctx.error(
                    row,
                    "sku",
                    _(
                        "%(value)s looks like goods %(existing)s with its leading zeros dropped "
                        "(Excel does this to codes stored as numbers); format the column as Text "
                        "and write %(existing)s"
                    )
                    % {"value": stripped, "existing": existing},
                )

    def finish_import(self, ctx: ImportContext) -> None:
        zero_padded = ctx.state["zero_padded"]
        for number, sku in ctx.state["numeric_skus"]:
            padded = zero_padded.get(sku)
            if padded is not None:
                ctx.error(
                    number,
                    "sku",
                    _(
                        "%(value)s is a number, but row %(row)s has the SKU %(padded)s: Excel "
                        "dropped the leading zeros of number cells; format the column as Text "
                        "and type the SKUs again"
                    )
                    % {"value": sku, "row": padded[0], "padded": padded[1]},
                )
        brands = categories = []
        if "brand" in self.fields and "category" in self.fields:
            brands = sorted(self.fields["brand"].widget.missing.values(), key=str.casefold)
            categories = self.fields["category"].widget.missing_paths()
        if brands or categories:
            ctx.report.missing = {"brands": brands, "categories": categories}
        super().finish_import(ctx)

    # --- export -------------------------------------------------------------------------------

    def export_queryset(self, goods: QuerySet[Goods] | None = None) -> QuerySet:
        queryset = goods if goods is not None else Goods.objects.all()
        return queryset.select_related("brand").order_by("sku")

    def prepare_export(self) -> None:
        self.fields["category"].widget.load()

    def dehydrate_category(self, goods: Goods) -> str:
        return self.fields["category"].widget.paths.get(goods.category_id, "")

    def dehydrate_brand(self, goods: Goods) -> str:
        return goods.brand.name if goods.brand_id else ""


class _GoodsRefsMixin:
    """Resolve the SKU columns named in ``sku_columns`` to goods ids, one query per batch."""

    sku_columns: tuple[str, ...] = ()

    def resolve_batch(self, rows: list[SheetRow], ctx: ImportContext) -> None:
        keys = {
            row.values[column].upper()
            for row in rows
            for column in self.sku_columns
            if row.values.get(column)
        }
        goods = goods_by_sku_key(list(keys))
        for row in rows:
            for column in self.sku_columns:
                sku = row.values.get(column)
                if not sku:
                    continue
                found = goods.get(sku.upper())
                if found is None:
                    ctx.error(row, column, _("goods '%(sku)s' does not exist") % {"sku": sku})
                    continue
                row.extra[column] = found


@register
class ComboComponentResource(_GoodsRefsMixin, BulkModelResource):
    import_key = "combo_components"
    import_label = gettext_lazy("Combo components")
    import_permissions = (
        "inventory.change_goods",
        "inventory.add_combocomponent",
        "inventory.change_combocomponent",
        "inventory.delete_combocomponent",
    )
    export_permissions = ("inventory.view_goods", "inventory.view_combocomponent")
    required_columns = ("combo_sku", "component_sku", "quantity")
    required_values = ("combo_sku", "component_sku", "quantity")
    sku_columns = ("combo_sku", "component_sku")
    column_labels = {
        "combo_sku": gettext_lazy("Combo SKU"),
        "component_sku": gettext_lazy("Component SKU"),
        "quantity": gettext_lazy("Quantity"),
    }
    column_aliases = {
        "combo_sku": ("组合货品编码", "组合SKU"),
        "component_sku": ("组件货品编码", "组件SKU", "子货品编码"),
        "quantity": ("数量",),
    }
    column_notes = {
        "combo_sku": gettext_lazy(
            "Required. The SKU of the combo goods (it must exist; the goods becomes a combo)."
        ),
        "component_sku": gettext_lazy("Required. The SKU of a goods inside the combo."),
        "quantity": gettext_lazy(
            "Required. How many of the component make one combo; 0 removes the component."
        ),
    }
    example_row = {"combo_sku": "EXAMPLE-CASE", "component_sku": "EXAMPLE-DOZEN", "quantity": 4}

    combo_sku = Field(attribute="combo_id", column_name="combo_sku", widget=CodeWidget())
    component_sku = Field(
        attribute="component_id", column_name="component_sku", widget=CodeWidget()
    )
    quantity = Field(attribute="quantity", column_name="quantity", widget=IntegerWidget())

    class Meta:
        model = ComboComponent
        fields = ("combo_sku", "component_sku", "quantity")
        import_id_fields = ("combo_sku", "component_sku")
        name = gettext_lazy("Combo components")

    def key_attributes(self) -> tuple[str, ...]:
        return ("combo_id", "component_id")

    def begin_import(self, ctx: ImportContext) -> None:
        if not ctx.dry_run:
            from inventory.services.goods import combo_graph_lock

            combo_graph_lock()  # the editor's lock: no loop can slip in between check and write
        super().begin_import(ctx)
        ctx.state["edges"] = {}
        ctx.state["combos"] = set()
        # The SKU columns carry text; ids come from resolve_batch. Quantity 0 means "remove",
        # so the model's minimum of 1 is checked in key_for instead.
        ctx.state["attributes"] = {"quantity": "quantity"}
        ctx.state["update_fields"] = ["quantity"]
        ctx.state["checks"] = {}

    def key_for(self, row: SheetRow, ctx: ImportContext):
        combo = row.extra.get("combo_sku")
        component = row.extra.get("component_sku")
        if combo is None or component is None:
            return None
        if combo[0] == component[0]:
            ctx.error(row, "component_sku", _("a combo cannot contain itself"))
            return None
        if not 0 <= row.values["quantity"] <= 1_000_000:
            ctx.error(row, "quantity", _("must be from 1 to 1,000,000 (or 0 to remove it)"))
            return None
        return (combo[0], component[0])

    def duplicate_message(self, row: SheetRow, first_row: int) -> tuple[str, str]:
        return "component_sku", _("this combo and component are already on row %(row)s") % {
            "row": first_row
        }

    def fetch_existing(self, keys: list, ctx: ImportContext) -> dict:
        combos = list({combo for combo, _component in keys})
        wanted = set(keys)
        return {
            (line.combo_id, line.component_id): line
            for line in ComboComponent.objects.filter(combo_id__in=combos)
            if (line.combo_id, line.component_id) in wanted
        }

    def new_instance(self, row: SheetRow, ctx: ImportContext):
        combo_id, component_id = row.key
        return ComboComponent(combo_id=combo_id, component_id=component_id)

    def validate_instance_row(self, row: SheetRow, ctx: ImportContext) -> None:
        combo_id, component_id = row.key
        ctx.state["combos"].add(combo_id)
        if row.values["quantity"] == 0:
            if row.outcome == NEW:
                row.outcome = UNCHANGED
                return
            row.outcome = UPDATED
            row.extra["delete"] = True
            ctx.state["edges"][row.key] = None
            return
        ctx.state["edges"][row.key] = (row.number, row.values["combo_sku"])
        ctx.state.setdefault("first_rows", {}).setdefault(combo_id, row)

    def finish_import(self, ctx: ImportContext) -> None:
        self._check_cycles(ctx)
        self._check_stocked_goods(ctx)
        if not ctx.dry_run and ctx.report.ok and ctx.state["combos"]:
            from inventory.services.goods import combo_flags_refresh

            combo_flags_refresh(goods_ids=list(ctx.state["combos"]))
        super().finish_import(ctx)

    def _check_stocked_goods(self, ctx: ImportContext) -> None:
        """A goods that holds stock cannot become a combo (the ledger keeps none on combos)."""
        from inventory.selectors.stock import goods_with_stock

        first_rows = ctx.state.get("first_rows", {})
        if not ctx.dry_run:
            from inventory.locks import lock_goods

            # As the editor: receipts holding these goods (KEY SHARE) commit first, so the
            # stock check below sees their stock; later receipts see the combo.
            lock_goods(first_rows)
        becoming = Goods.objects.filter(pk__in=list(first_rows), is_combo=False).values_list(
            "pk", flat=True
        )
        for goods_id in sorted(goods_with_stock(list(becoming))):
            row = first_rows[goods_id]
            ctx.error(
                row,
                "combo_sku",
                _("%(sku)s still holds stock, so it cannot become a combo")
                % {"sku": row.values["combo_sku"]},
            )

    def _check_cycles(self, ctx: ImportContext) -> None:
        file_edges = ctx.state["edges"]
        if not file_edges:
            return
        graph: dict[int, set[int]] = {}
        for combo_id, component_id in ComboComponent.objects.values_list(
            "combo_id", "component_id"
        ):
            if file_edges.get((combo_id, component_id), ...) is None:
                continue  # removed by this file
            graph.setdefault(combo_id, set()).add(component_id)
        for (combo_id, component_id), origin in file_edges.items():
            if origin is not None:
                graph.setdefault(combo_id, set()).add(component_id)
        skus = {
            pk: sku for pk, sku in Goods.objects.filter(pk__in=list(graph)).values_list("pk", "sku")
        }
        reported = set()
        for (combo_id, component_id), origin in file_edges.items():
            if origin is None or (combo_id, component_id) in reported:
                continue
            path = _path_between(graph, component_id, combo_id)
            if path is None:
                continue
            reported.add((combo_id, component_id))
            names = " > ".join(skus.get(pk, str(pk)) for pk in [combo_id, *path])
            ctx.error(
                origin[0],
                "component_sku",
                _("combo %(combo)s would contain itself: %(path)s")
                % {"combo": origin[1], "path": names},
            )

    def export_queryset(self, goods: QuerySet[Goods] | None = None) -> QuerySet:
        queryset = ComboComponent.objects.all()
        if goods is not None:
            queryset = queryset.filter(combo__in=goods)
        return queryset.select_related("combo", "component").order_by(
            "combo__sku", "component__sku"
        )

    def dehydrate_combo_sku(self, line: ComboComponent) -> str:
        return line.combo.sku

    def dehydrate_component_sku(self, line: ComboComponent) -> str:
        return line.component.sku


def _path_between(graph: dict[int, set[int]], start: int, goal: int) -> list[int] | None:
    """A path start -> ... -> goal through the combo graph, or None."""
    parents: dict[int, int | None] = {start: None}
    stack = [start]
    while stack:
        node = stack.pop()
        if node == goal:
            path = []
            while node is not None:
                path.append(node)
                node = parents[node]
            return list(reversed(path))
        for child in graph.get(node, ()):
            if child not in parents:
                parents[child] = node
                stack.append(child)
    return None


@register
class BatchResource(_GoodsRefsMixin, BulkModelResource):
    import_key = "batches"
    import_label = gettext_lazy("Batches")
    import_permissions = ("inventory.add_batch", "inventory.change_batch")
    export_permissions = ("inventory.view_goods", "inventory.view_batch")
    required_columns = ("sku", "batch_no")
    required_values = ("sku", "batch_no")
    sku_columns = ("sku",)
    column_labels = {
        "sku": gettext_lazy("SKU"),
        "batch_no": gettext_lazy("Batch number"),
        "production_date": gettext_lazy("Production date"),
        "expiry_date": gettext_lazy("Expiry date"),
        "inbound_date": gettext_lazy("Inbound date"),
    }
    column_aliases = {
        "sku": ("货品编码", "商品编码"),
        "batch_no": ("批次号", "批次", "batch"),
        "production_date": ("生产日期",),
        "expiry_date": ("到期日期", "有效期至", "过期日期"),
        "inbound_date": ("入库日期",),
    }
    column_notes = {
        "sku": gettext_lazy("Required. The SKU of an existing goods."),
        "batch_no": gettext_lazy("Required. Unique per goods."),
        "production_date": gettext_lazy("Optional. A date (YYYY-MM-DD or an Excel date)."),
        "expiry_date": gettext_lazy(
            "Optional. Left blank, it is the production date plus the goods' shelf life."
        ),
        "inbound_date": gettext_lazy("Optional. A date."),
    }
    example_row = {
        "sku": "EXAMPLE-0001",
        "batch_no": "EXAMPLE-LOT",
        "production_date": dt.date(2024, 5, 1),
        "expiry_date": "",
        "inbound_date": dt.date(2024, 5, 10),
    }

    sku = Field(attribute="goods_id", column_name="sku", widget=CodeWidget())
    batch_no = Field(attribute="batch_no", column_name="batch_no", widget=CodeWidget())
    production_date = Field(
        attribute="production_date", column_name="production_date", widget=DateWidget()
    )
    expiry_date = Field(attribute="expiry_date", column_name="expiry_date", widget=DateWidget())
    inbound_date = Field(attribute="inbound_date", column_name="inbound_date", widget=DateWidget())

    class Meta:
        model = Batch
        fields = ("sku", "batch_no", "production_date", "expiry_date", "inbound_date")
        import_id_fields = ("sku", "batch_no")
        name = gettext_lazy("Batches")

    def key_attributes(self) -> tuple[str, ...]:
        return ("goods_id", "batch_no")

    def begin_import(self, ctx: ImportContext) -> None:
        super().begin_import(ctx)
        ctx.state["attributes"].pop("sku", None)
        ctx.state["update_fields"] = [
            name for name in ctx.state["update_fields"] if name not in ("goods_id", "batch_no")
        ]
        ctx.state["checks"].pop("sku", None)

    def key_for(self, row: SheetRow, ctx: ImportContext):
        goods = row.extra.get("sku")
        if goods is None:
            return None
        return (goods[0], row.values["batch_no"])

    def duplicate_message(self, row: SheetRow, first_row: int) -> tuple[str, str]:
        return "batch_no", _("this goods and batch number are already on row %(row)s") % {
            "row": first_row
        }

    def fetch_existing(self, keys: list, ctx: ImportContext) -> dict:
        goods_ids = list({goods_id for goods_id, _no in keys})
        numbers = list({number for _goods, number in keys})
        return {
            (batch.goods_id, batch.batch_no): batch
            for batch in Batch.objects.filter(goods_id__in=goods_ids, batch_no__in=numbers)
        }

    def new_instance(self, row: SheetRow, ctx: ImportContext):
        goods_id, batch_no = row.key
        return Batch(goods_id=goods_id, batch_no=batch_no)

    def validate_instance_row(self, row: SheetRow, ctx: ImportContext) -> None:
        batch = row.instance
        shelf_life = row.extra["sku"][2]
        if batch.expiry_date is None and batch.production_date and shelf_life:
            batch.expiry_date = batch.production_date + dt.timedelta(days=shelf_life)
            if row.outcome == UNCHANGED:
                row.outcome = UPDATED
        if (
            batch.production_date
            and batch.expiry_date
            and batch.expiry_date < batch.production_date
        ):
            column = "expiry_date" if "expiry_date" in row.values else "production_date"
            ctx.error(row, column, _("the expiry date is before the production date"))

    def update_fields(self, ctx: ImportContext) -> list[str]:
        fields = set(super().update_fields(ctx))
        if "production_date" in fields:
            fields.add("expiry_date")
        return sorted(fields)

    def export_queryset(self, goods: QuerySet[Goods] | None = None) -> QuerySet:
        queryset = Batch.objects.all()
        if goods is not None:
            queryset = queryset.filter(goods__in=goods)
        return queryset.select_related("goods").order_by("goods__sku", "batch_no")

    def dehydrate_sku(self, batch: Batch) -> str:
        return batch.goods.sku
