"""Store sales import (门店销售导入) through the project's import engine (``inventory.imports``):
one row per store, goods and day with the units sold and, optionally, the store's on-hand.

Dry run, row errors and all-or-nothing come from the engine; the template is downloadable from
the import screen (``/inventory/imports/templates/store_sales.xlsx``). Rows stream in batches of
``batch_size``: each batch is checked by ``allocation.services.sales.SalesRules`` (the rules the
API's sales batches meet too: only the user's own stores, through ``Store.objects.for_user``;
stores loaded once and SKUs looked up once each, so at most two queries a batch; a (store,
goods, day) once across the file, its keys kept packed in one integer each) and written with
``COPY`` on PostgreSQL, elsewhere with the service's ``store_sales_write`` (``INSERT ... ON
CONFLICT DO UPDATE``): a day imported again replaces its figures.
"""

from __future__ import annotations

import datetime as dt
import io
import re

from django.db import connection
from django.utils.translation import gettext_lazy
from import_export.fields import Field

from allocation.models import StoreSales
from allocation.services.sales import SalesRules, store_sales_write
from inventory.imports.engine import NEW, ImportContext, SheetResource, SheetRow
from inventory.imports.registry import register
from inventory.imports.widgets import CodeWidget, DateWidget, IntegerWidget

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_PLAIN_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}\Z")
# what Excel may have turned into a number ("6.90123E+12"): left to the widget to refuse
_NUMBER_LIKE = re.compile(r"[0-9.]+[eE][+-]?[0-9]+\Z")
_CODES = frozenset({"store", "sku"})
_NULL = "\\N"  # COPY's text format for NULL
_MEMO = 50_000  # codes and dates remembered per run (a bound, so memory stays flat)


@register
class StoreSalesResource(SheetResource):
    import_key = "store_sales"
    import_label = gettext_lazy("Store sales")
    import_permissions = ("allocation.add_storesales",)
    export_permissions = ()
    required_columns = ("store", "sku", "day", "units_sold")
    required_values = ("store", "sku", "day", "units_sold")
    batch_size = 5000
    column_labels = {
        "store": gettext_lazy("Store code"),
        "sku": gettext_lazy("SKU"),
        "day": gettext_lazy("Day"),
        "units_sold": gettext_lazy("Units sold"),
        "on_hand": gettext_lazy("Store on hand"),
    }
    column_aliases = {
        "store": ("门店", "门店编码", "store"),
        "sku": ("货品编码", "商品编码"),
        "day": ("日期", "销售日期", "date"),
        "units_sold": ("销量", "销售数量", "sold"),
        "on_hand": ("门店库存", "库存", "stock"),
    }
    column_notes = {
        "store": gettext_lazy("Required. The code of one of your stores."),
        "sku": gettext_lazy("Required. The SKU of an existing goods."),
        "day": gettext_lazy("Required. A date (YYYY-MM-DD or an Excel date), not in the future."),
        "units_sold": gettext_lazy("Required. A whole number, zero or more."),
        "on_hand": gettext_lazy("Optional. The store's own stock that day, zero or more."),
    }
    example_row = {
        "store": "EXAMPLE-STORE",
        "sku": "EXAMPLE-0001",
        "day": dt.date(2024, 5, 1),
        "units_sold": 12,
        "on_hand": 30,
    }

    store = Field(attribute="store", column_name="store", widget=CodeWidget())
    sku = Field(attribute="sku", column_name="sku", widget=CodeWidget())
    day = Field(attribute="day", column_name="day", widget=DateWidget())
    units_sold = Field(attribute="units_sold", column_name="units_sold", widget=IntegerWidget())
    on_hand = Field(attribute="on_hand", column_name="on_hand", widget=IntegerWidget())

    class Meta:
        name = gettext_lazy("Store sales")

    def process_batch(self, rows: list[SheetRow], ctx: ImportContext) -> None:
        """The engine's clean, validate and count, with the cleaning of the usual row inlined:
        a row whose codes and day were already seen plain in this run and whose numbers are
        ASCII digits takes its values directly; any other row goes through ``clean_row``."""
        fields = {key: f for key, f in self.import_field_map().items() if key in ctx.columns.index}
        codes, dates = ctx.state["plain_codes"], ctx.state["iso_dates"]
        with_on_hand = "on_hand" in fields
        clean_row = self.clean_row
        for row in rows:
            raw = row.raw
            if len(raw) == 5 or (len(raw) == 4 and not with_on_hand):
                store, sku, sold = raw["store"], raw["sku"], raw["units_sold"]
                day = dates.get(raw["day"])
                on_hand = raw.get("on_hand", "")
                if (
                    day is not None
                    and store in codes
                    and sku in codes
                    and type(sold) is str
                    and 0 < len(sold) <= 9
                    and sold.isascii()
                    and sold.isdigit()
                    and type(on_hand) is str
                    and len(on_hand) <= 9
                    and on_hand.isascii()
                    and (on_hand == "" or on_hand.isdigit())
                ):
                    row.values = {
                        "store": store,
                        "sku": sku,
                        "day": day,
                        "units_sold": int(sold),
                        "on_hand": int(on_hand) if on_hand else None,
                    }
                    continue
            clean_row(row, ctx, fields)
        self.validate_batch(rows, ctx)
        for row in rows:
            if row.ok:
                ctx.count(row, NEW)

    def clean_row(self, row: SheetRow, ctx: ImportContext, fields: dict) -> None:
        """The widgets' cleaning, with a fast path for the cells a sales export is made of:
        plain codes, ASCII digits and ISO dates are read directly (a code or a date seen once
        is remembered for the run: a sales sheet repeats a few hundred of them); anything else
        (Excel numbers and dates, other date spellings, bad cells and their messages) goes
        through the widgets, so the result and the errors are the widgets' own."""
        values = row.values
        codes, dates = ctx.state["plain_codes"], ctx.state["iso_dates"]
        slow = None
        for key, value in row.raw.items():
            if type(value) is str:
                if key in _CODES:
                    if value in codes:
                        values[key] = value
                        continue
                    if _PLAIN_CODE.match(value) and not _NUMBER_LIKE.match(value):
                        if len(codes) < _MEMO:
                            codes.add(value)
                        values[key] = value
                        continue
                elif key == "day":
                    day = dates.get(value)
                    if day is not None:
                        values[key] = day
                        continue
                    if len(value) == 10 and _ISO_DATE.match(value):
                        try:
                            day = dt.date.fromisoformat(value)
                        except ValueError:
                            pass
                        else:
                            if len(dates) < _MEMO:
                                dates[value] = day
                            values[key] = day
                            continue
                elif 0 < len(value) <= 9 and value.isascii() and value.isdigit():
                    values[key] = int(value)
                    continue
            if slow is None:
                slow = {}
            slow[key] = fields[key]
        if slow:
            super().clean_row(row, ctx, slow)

    def begin_import(self, ctx: ImportContext) -> None:
        ctx.state["rules"] = SalesRules(ctx.user)
        ctx.state["plain_codes"] = set()
        ctx.state["iso_dates"] = {}

    def validate_batch(self, rows: list[SheetRow], ctx: ImportContext) -> None:
        """``SalesRules`` (the rules of every way store sales come in) row by row."""
        rules: SalesRules = ctx.state["rules"]
        rules.load_goods(row.values["sku"] for row in rows if row.ok)
        check = rules.check
        for row in rows:
            if not row.ok:
                continue
            values = row.values
            key, problems = check(
                values["store"],
                values["sku"],
                values["day"],
                values["units_sold"],
                values.get("on_hand"),
            )
            if key is None:
                for field, message in problems:
                    ctx.error(row, field, message)
                continue
            row.key = key

    def write_batch(self, rows: list[SheetRow], ctx: ImportContext) -> None:
        if not rows:
            return
        table = StoreSales._meta.db_table
        if connection.vendor == "postgresql":
            self._copy_batch(rows, table)
            return
        store_sales_write(
            [
                StoreSales(
                    store_id=row.key[0],
                    goods_id=row.key[1],
                    day=row.key[2],
                    units_sold=row.values["units_sold"],
                    on_hand=row.values.get("on_hand"),
                )
                for row in rows
            ]
        )

    @staticmethod
    def _copy_batch(rows: list[SheetRow], table: str) -> None:
        """``COPY`` the batch (checked values only: ids, ISO dates, integers, so the text format
        needs no escaping). New days (the usual case) are copied straight into the table; a
        batch touching days already stored is copied into a temporary staging table and merged
        with ``ON CONFLICT DO UPDATE`` (a day imported again replaces its figures). A row
        written meanwhile by someone else makes the import fail and roll back as a whole."""
        lines = []
        stores, goods = set(), set()
        first = last = rows[0].key[2]
        for row in rows:
            store_id, goods_id, day = row.key
            values = row.values
            on_hand = values.get("on_hand")
            lines.append(
                f"{store_id}\t{goods_id}\t{day.isoformat()}\t{values['units_sold']}\t"
                f"{_NULL if on_hand is None else on_hand}\n"
            )
            stores.add(store_id)
            goods.add(goods_id)
            if day < first:
                first = day
            elif day > last:
                last = day
        data = io.StringIO("".join(lines))
        columns = "(store_id, goods_id, day, units_sold, on_hand)"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {table} WHERE store_id = ANY(%s) "  # noqa: S608
                "AND goods_id = ANY(%s) AND day BETWEEN %s AND %s)",
                [sorted(stores), sorted(goods), first, last],
            )
            if not cursor.fetchone()[0]:
                cursor.copy_expert(f"COPY {table} {columns} FROM STDIN", data)
                return
            cursor.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS allocation_sales_stage (store_id bigint, "
                "goods_id bigint, day date, units_sold integer, on_hand integer) "
                "ON COMMIT DELETE ROWS"
            )
            cursor.execute("TRUNCATE allocation_sales_stage")
            cursor.copy_expert(f"COPY allocation_sales_stage {columns} FROM STDIN", data)
            cursor.execute(
                f"INSERT INTO {table} {columns} "  # noqa: S608
                f"SELECT store_id, goods_id, day, units_sold, on_hand FROM allocation_sales_stage "
                "ON CONFLICT (store_id, goods_id, day) DO UPDATE SET "
                "units_sold = EXCLUDED.units_sold, on_hand = EXCLUDED.on_hand"
            )
