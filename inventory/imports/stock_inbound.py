"""Inbound sheet import (入库单导入): stock received from the downloadable Excel template.

One row per line: warehouse code, bin code, SKU, quantity, and optionally a batch number with its
production and expiry dates, the inbound type (purchase or sales return) and a reference. The
rows become one posted inbound sheet per (warehouse, type, reference), through
``inventory.services.stock.inbound_sheet_import``: the ledger receives them, nothing is written
directly. The check (dry run) validates every row with one query per batch of rows and posts in a
transaction that is rolled back, so the preview shows the ledger's own refusals too; the commit is
all-or-nothing like every import. The first stock take of a new warehouse is one such import.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models.functions import Upper
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.fields import Field

from inventory.exceptions import StockError
from inventory.imports import references
from inventory.imports.engine import ImportContext, SheetResource, SheetRow
from inventory.imports.goods import goods_by_sku_key
from inventory.imports.registry import register
from inventory.imports.widgets import CodeWidget, DateWidget, IntegerWidget, TextWidget
from inventory.ledger import MAX_QUANTITY
from inventory.models import Batch, Goods, InboundSheet
from inventory.services import stock as services
from warehouses.models import Bin, Warehouse

TYPE_WORDS = {
    InboundSheet.Type.PURCHASE: ("purchase", "采购入库", "采购"),
    InboundSheet.Type.SALES_RETURN: ("sales return", "sales_return", "return", "销售退货", "退货"),
}


@register
class InboundSheetResource(SheetResource):
    import_key = "inbound_sheet"
    import_label = gettext_lazy("Inbound sheet (stock received)")
    import_permissions = ("inventory.add_inboundsheet", "inventory.post_sheet")
    export_permissions = ()
    required_columns = ("warehouse", "bin", "sku", "quantity")
    required_values = ("warehouse", "bin", "sku", "quantity")
    column_labels = {
        "warehouse": gettext_lazy("Warehouse code"),
        "bin": gettext_lazy("Bin code"),
        "sku": gettext_lazy("SKU"),
        "quantity": gettext_lazy("Quantity"),
        "batch_no": gettext_lazy("Batch number"),
        "production_date": gettext_lazy("Production date"),
        "expiry_date": gettext_lazy("Expiry date"),
        "type": gettext_lazy("Inbound type"),
        "reference": gettext_lazy("Reference"),
    }
    column_aliases = {
        "warehouse": ("仓库", "仓库编码", "warehouse"),
        "bin": ("货位", "库位", "货位编码", "bin"),
        "sku": ("货品编码", "商品编码"),
        "quantity": ("数量", "入库数量", "qty"),
        "batch_no": ("批次号", "批次", "batch"),
        "production_date": ("生产日期",),
        "expiry_date": ("到期日期", "有效期至", "过期日期"),
        "type": ("入库类型", "类型"),
        "reference": ("单号", "参考号", "采购单号"),
    }
    column_notes = {
        "warehouse": gettext_lazy("Required. The code of an active warehouse."),
        "bin": gettext_lazy("Required. The code of an active bin of that warehouse."),
        "sku": gettext_lazy("Required. The SKU of an active goods (a combo receives its parts)."),
        "quantity": gettext_lazy("Required. A whole number greater than zero."),
        "batch_no": gettext_lazy(
            "Optional. The goods' batch; a new number creates the batch with the dates below."
        ),
        "production_date": gettext_lazy("Optional. A date (YYYY-MM-DD or an Excel date)."),
        "expiry_date": gettext_lazy(
            "Optional. Left blank for a new batch, it is the production date plus the shelf life."
        ),
        "type": gettext_lazy("Optional. purchase (default) or sales return."),
        "reference": gettext_lazy(
            "Optional. Supplier or order number; rows with different references become "
            "different sheets."
        ),
    }
    example_row = {
        "warehouse": "EXAMPLE-WH",
        "bin": "A-01-01",
        "sku": "EXAMPLE-0001",
        "quantity": 24,
        "batch_no": "EXAMPLE-LOT",
        "production_date": dt.date(2024, 5, 1),
        "expiry_date": dt.date(2025, 5, 1),
        "type": "purchase",
        "reference": "PO-EXAMPLE",
    }

    warehouse = Field(attribute="warehouse", column_name="warehouse", widget=CodeWidget())
    bin = Field(attribute="bin", column_name="bin", widget=CodeWidget())
    sku = Field(attribute="sku", column_name="sku", widget=CodeWidget())
    quantity = Field(attribute="quantity", column_name="quantity", widget=IntegerWidget())
    batch_no = Field(attribute="batch_no", column_name="batch_no", widget=CodeWidget())
    production_date = Field(
        attribute="production_date", column_name="production_date", widget=DateWidget()
    )
    expiry_date = Field(attribute="expiry_date", column_name="expiry_date", widget=DateWidget())
    type = Field(attribute="type", column_name="type", widget=TextWidget())
    reference = Field(attribute="reference", column_name="reference", widget=TextWidget())

    class Meta:
        name = gettext_lazy("Inbound sheet")

    # --- checks, one query per batch of rows --------------------------------------------------

    def begin_import(self, ctx: ImportContext) -> None:
        ctx.state[references.STATE_KEY] = references.warehouses_by_code()
        ctx.state["groups"] = defaultdict(list)
        ctx.state["first_row"] = {}
        ctx.state["batches"] = {}

    def validate_batch(self, rows: list[SheetRow], ctx: ImportContext) -> None:
        rows = [row for row in rows if row.ok]
        goods = goods_by_sku_key(sorted({row.values["sku"].upper() for row in rows}))
        flags = {
            pk: (is_active, is_combo, shelf_life)
            for pk, is_active, is_combo, shelf_life in Goods.objects.filter(
                pk__in=[found[0] for found in goods.values()]
            ).values_list("pk", "is_active", "is_combo", "shelf_life_days")
        }
        warehouses = ctx.state[references.STATE_KEY]
        wanted_bins = {
            (warehouses[row.values["warehouse"].upper()][0], row.values["bin"].upper())
            for row in rows
            if row.values["warehouse"].upper() in warehouses
        }
        bins = {
            (warehouse_id, code): (pk, is_active)
            for pk, warehouse_id, code, is_active in Bin.objects.annotate(code_key=Upper("code"))
            .filter(
                warehouse_id__in=sorted({w for w, _c in wanted_bins}),
                code_key__in=sorted({c for _w, c in wanted_bins}),
            )
            .values_list("pk", "warehouse_id", "code_key", "is_active")
        }
        batches = {
            (goods_id, batch_no): (production, expiry)
            for goods_id, batch_no, production, expiry in Batch.objects.filter(
                goods_id__in=sorted({found[0] for found in goods.values()}),
                batch_no__in=sorted({row.values.get("batch_no") for row in rows} - {None, ""}),
            ).values_list("goods_id", "batch_no", "production_date", "expiry_date")
        }
        for row in rows:
            self._check_row(row, ctx, goods, flags, bins, batches)

    def _check_row(self, row, ctx, goods, flags, bins, batches) -> None:
        values = row.values
        quantity = values["quantity"]
        if quantity <= 0 or quantity > MAX_QUANTITY:
            ctx.error(
                row,
                "quantity",
                _("must be a whole number from 1 to %(max)s") % {"max": f"{MAX_QUANTITY:,}"},
            )
        kind = self._type(values.get("type") or "")
        if kind is None:
            ctx.error(
                row,
                "type",
                _("'%(value)s' is not purchase or sales return") % {"value": values.get("type")},
            )
        warehouse = references.row_warehouse(ctx, row, values["warehouse"])
        if warehouse is None:
            return
        found_bin = bins.get((warehouse[0], values["bin"].upper()))
        if found_bin is None:
            ctx.error(
                row,
                "bin",
                _("bin '%(code)s' does not exist in warehouse %(wh)s")
                % {"code": values["bin"], "wh": values["warehouse"]},
            )
        elif not found_bin[1]:
            ctx.error(row, "bin", _("bin '%(code)s' is inactive") % {"code": values["bin"]})
        found_goods = goods.get(values["sku"].upper())
        if found_goods is None:
            ctx.error(row, "sku", _("goods '%(sku)s' does not exist") % {"sku": values["sku"]})
            return
        goods_id = found_goods[0]
        is_active, is_combo, shelf_life = flags.get(goods_id, (False, False, None))
        if not is_active:
            ctx.error(row, "sku", _("goods '%(sku)s' is inactive") % {"sku": values["sku"]})
        batch_no = values.get("batch_no") or ""
        production, expiry = values.get("production_date"), values.get("expiry_date")
        if (production or expiry) and not batch_no:
            ctx.error(row, "batch_no", _("dates belong to a batch: give its number"))
        if batch_no and is_combo:
            ctx.error(row, "batch_no", _("a combo goods is received as its parts, without batch"))
        if production and expiry and expiry < production:
            ctx.error(row, "expiry_date", _("is before the production date"))
        if batch_no and production and not expiry and shelf_life:
            try:
                production + dt.timedelta(days=shelf_life)  # the batch's expiry date
            except OverflowError:
                ctx.error(
                    row,
                    "production_date",
                    _(
                        "with the goods' shelf life of %(days)s days this production date has "
                        "no expiry date (past the year 9999): check the date"
                    )
                    % {"days": shelf_life},
                )
        if batch_no:
            self._check_batch_dates(row, ctx, goods_id, batch_no, production, expiry, batches)
        if row.ok:
            key = (warehouse[0], kind, values.get("reference") or "")
            ctx.state["first_row"].setdefault(key, row.number)
            ctx.state["groups"][key].append(
                services.ImportedLine(
                    goods_id=goods_id,
                    bin_id=found_bin[0],
                    quantity=quantity,
                    batch_no=batch_no,
                    production_date=production,
                    expiry_date=expiry,
                )
            )

    def _check_batch_dates(self, row, ctx, goods_id, batch_no, production, expiry, batches):
        """A batch keeps one set of dates: the file may not contradict the stored batch, nor
        give two sets for a new one."""
        stored = batches.get((goods_id, batch_no)) or ctx.state["batches"].get((goods_id, batch_no))
        if stored is None:
            ctx.state["batches"][(goods_id, batch_no)] = (production, expiry)
            return
        for column, given, known in (
            ("production_date", production, stored[0]),
            ("expiry_date", expiry, stored[1]),
        ):
            if given and known and given != known:
                ctx.error(
                    row,
                    column,
                    _("batch %(batch)s already has %(date)s") % {"batch": batch_no, "date": known},
                )

    @staticmethod
    def _type(text: str) -> str | None:
        text = " ".join(text.replace("_", " ").split()).casefold()
        if not text:
            return InboundSheet.Type.PURCHASE
        for kind, words in TYPE_WORDS.items():
            if text in {word.casefold() for word in words} or text == kind:
                return kind
        return None

    # --- posting, through the service ---------------------------------------------------------

    def finish_import(self, ctx: ImportContext) -> None:
        """Post one inbound sheet per (warehouse, type, reference), in both modes (a dry run is
        rolled back by the engine), so the preview shows refusals of the ledger too."""
        if not ctx.report.ok or not ctx.state["groups"]:
            return
        if ctx.user is None:
            first = min(ctx.state["first_row"].values())
            ctx.error(first, "", _("Stock is received by a user: name one (--user)."))
            return
        warehouses = {
            w.pk: w for w in Warehouse.objects.filter(pk__in={k[0] for k in ctx.state["groups"]})
        }
        posted = []
        for (warehouse_id, kind, reference), lines in ctx.state["groups"].items():
            try:
                sheet = services.inbound_sheet_import(
                    warehouse=warehouses[warehouse_id],
                    type=kind,
                    user=ctx.user,
                    lines=lines,
                    reference=reference,
                    note=_("Imported from a spreadsheet"),
                )
            except StockError as error:
                ctx.error(ctx.state["first_row"][(warehouse_id, kind, reference)], "", str(error))
                return
            posted.append(sheet.number)
        if posted and not ctx.dry_run:
            ctx.report.notes.append(
                _("Posted inbound sheet(s): %(sheets)s") % {"sheets": ", ".join(posted)}
            )
        elif posted:
            ctx.report.notes.append(
                _("Importing will post %(n)s inbound sheet(s).") % {"n": len(posted)}
            )
