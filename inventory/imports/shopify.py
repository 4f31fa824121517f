"""A Shopify products export (Products > Export, CSV) loaded as it is.

Layout (help.shopify.com/en/manual/products/import-export/using-csv): one row per variant,
grouped by ``Handle``; the product's own columns (``Title``, ``Vendor``, ``Type``, ``Status``)
are filled on its first row only; extra rows carry only images (``Image Src``). Shopify's newer
export names some columns differently ("URL handle", "SKU", "Weight value (grams)"); both names
are accepted.

Mapping: each variant becomes a goods: ``Variant SKU`` -> SKU, ``Title`` plus the option values
-> name ("Shirt - Blue / L"; Shopify's "Default Title" is left out), ``Variant Barcode`` ->
barcode, ``Variant Grams`` -> weight in kg, ``Vendor`` -> brand, ``Type`` -> a top-level
category, ``Status`` archived -> inactive. Brands and categories that do not exist yet are
created (listed in the preview). Image-only rows are skipped; a variant row without a SKU is
reported as an error, never given a made-up SKU. Prices and stock are not goods data and are
ignored.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.fields import Field

from inventory.imports.engine import SKIPPED, ImportContext, SheetRow, field_check
from inventory.imports.goods import GoodsResource
from inventory.imports.registry import register
from inventory.imports.widgets import CodeWidget, NumberWidget, TextWidget, cell_text
from inventory.models import Brand, Category, Goods


@register
class ShopifyProductResource(GoodsResource):
    import_key = "shopify_products"
    import_label = gettext_lazy("Shopify products (CSV export)")
    export_permissions = ()  # import only: the goods export is the catalogue's own format
    required_columns = ("handle", "sku")
    required_values = ()
    keep_when_blank = ()
    column_labels = {
        "handle": "Handle",
        "title": "Title",
        "vendor": "Vendor",
        "type": "Type",
        "status": "Status",
        "option1": "Option1 Value",
        "option2": "Option2 Value",
        "option3": "Option3 Value",
        "sku": "Variant SKU",
        "barcode": "Variant Barcode",
        "grams": "Variant Grams",
        "price": "Variant Price",
        "image": "Image Src",
    }
    column_aliases = {
        "handle": ("URL handle",),
        "sku": ("SKU",),
        "barcode": ("Barcode",),
        "grams": ("Weight value (grams)",),
        "option1": ("Option1 value",),
        "option2": ("Option2 value",),
        "option3": ("Option3 value",),
        "price": ("Price",),
        "image": ("Product image URL",),
        "status": ("Status",),
    }
    column_notes = {}
    example_row = {}

    handle = Field(attribute=None, column_name="handle", widget=TextWidget())
    title = Field(attribute=None, column_name="title", widget=TextWidget())
    vendor = Field(attribute=None, column_name="vendor", widget=TextWidget())
    type = Field(attribute=None, column_name="type", widget=TextWidget())
    status = Field(attribute=None, column_name="status", widget=TextWidget())
    option1 = Field(attribute=None, column_name="option1", widget=TextWidget())
    option2 = Field(attribute=None, column_name="option2", widget=TextWidget())
    option3 = Field(attribute=None, column_name="option3", widget=TextWidget())
    sku = Field(attribute="sku", column_name="sku", widget=CodeWidget())
    barcode = Field(attribute="barcode", column_name="barcode", widget=CodeWidget())
    grams = Field(attribute=None, column_name="grams", widget=NumberWidget())
    price = Field(attribute=None, column_name="price", widget=TextWidget())
    image = Field(attribute=None, column_name="image", widget=TextWidget())

    class Meta:
        model = Goods
        fields = (
            "handle",
            "title",
            "vendor",
            "type",
            "status",
            "option1",
            "option2",
            "option3",
            "sku",
            "barcode",
            "grams",
            "price",
            "image",
        )
        import_id_fields = ("sku",)
        name = gettext_lazy("Shopify products")

    def import_field_map(self) -> dict:
        own = set(self._meta.fields)
        return {key: f for key, f in super().import_field_map().items() if key in own}

    def get_export_fields(self, selected_fields=None):
        return []

    def begin_import(self, ctx: ImportContext) -> None:
        super().begin_import(ctx)
        goods_fields = ("name", "brand_id", "category_id", "weight", "is_active")
        for attribute in goods_fields:
            ctx.state["attributes"][attribute] = attribute
            check = field_check(Goods._meta.get_field(attribute.removesuffix("_id")))
            if check:
                ctx.state["checks"][attribute] = check
        ctx.state["update_fields"] = ["barcode", *goods_fields]
        ctx.state["product"] = {}
        ctx.state["brands"] = {
            name.casefold(): pk for pk, name in Brand.objects.values_list("pk", "name")
        }
        ctx.state["categories"] = {
            name.casefold(): pk
            for pk, name in Category.objects.filter(parent__isnull=True).values_list("pk", "name")
        }
        ctx.state["new_brands"] = {}
        ctx.state["new_categories"] = {}

    def process_batch(self, rows: list[SheetRow], ctx: ImportContext) -> None:
        variants = []
        for row in rows:
            if self._read_variant(row, ctx):
                variants.append(row)
        super().process_batch(variants, ctx)

    def clean_row(self, row: SheetRow, ctx: ImportContext, fields: dict) -> None:
        """The product columns were resolved in ``_read_variant``; clean the variant's own."""
        super().clean_row(
            row, ctx, {key: f for key, f in fields.items() if key in ("sku", "barcode")}
        )
        if not row.ok:
            return
        row.values.update(row.extra["goods"])

    def _read_variant(self, row: SheetRow, ctx: ImportContext) -> bool:
        """Carry the product's columns to each of its variant rows; skip image-only rows."""
        raw = row.raw
        handle = cell_text(raw.get("handle"))
        product = ctx.state["product"]
        if handle and handle != product.get("handle"):
            product.clear()
            product["handle"] = handle
        if cell_text(raw.get("title")):
            product["title"] = " ".join(cell_text(raw.get("title")).split())
            product["vendor"] = cell_text(raw.get("vendor"))
            product["type"] = cell_text(raw.get("type"))
            product["status"] = cell_text(raw.get("status")).casefold()
        options = [cell_text(raw.get(key)) for key in ("option1", "option2", "option3")]
        options = [option for option in options if option]
        is_variant = bool(
            options
            or cell_text(raw.get("sku"))
            or cell_text(raw.get("barcode"))
            or cell_text(raw.get("grams"))
            or cell_text(raw.get("price"))
        )
        if not is_variant:
            ctx.count(row, SKIPPED)
            return False
        label = " / ".join(option for option in options if option != "Default Title")
        if not cell_text(raw.get("sku")):
            ctx.error(
                row,
                "sku",
                _(
                    "the variant %(variant)s of product '%(handle)s' has no SKU; give it one in "
                    "Shopify (or in this file) or delete the row"
                )
                % {
                    "variant": label or _("(only variant)"),
                    "handle": handle or product.get("handle", ""),
                },
            )
            return False
        title = product.get("title") or handle or product.get("handle", "")
        if not title:
            ctx.error(row, "title", _("the product has no title"))
            return False
        grams = None
        try:
            grams = NumberWidget().clean(raw.get("grams"))
        except ValueError as error:
            ctx.error(row, "grams", str(error))
            return False
        row.extra["goods"] = {
            "name": f"{title} - {label}" if label else title,
            "brand_id": self._brand(product.get("vendor", ""), ctx),
            "category_id": self._category(product.get("type", ""), ctx),
            "weight": (grams / Decimal(1000)).quantize(Decimal("0.001")) if grams else None,
            "is_active": product.get("status") != "archived",
        }
        return True

    def _brand(self, vendor: str, ctx: ImportContext) -> int | None:
        if not vendor:
            return None
        key = vendor.casefold()
        if key not in ctx.state["brands"]:
            brand = Brand.objects.create(name=vendor[:200])
            ctx.state["brands"][key] = brand.pk
            ctx.state["new_brands"][key] = vendor
        return ctx.state["brands"][key]

    def _category(self, product_type: str, ctx: ImportContext) -> int | None:
        if not product_type:
            return None
        key = product_type.casefold()
        if key not in ctx.state["categories"]:
            category = Category.objects.create(name=product_type[:200])
            ctx.state["categories"][key] = category.pk
            ctx.state["new_categories"][key] = product_type
        return ctx.state["categories"][key]

    def finish_import(self, ctx: ImportContext) -> None:
        super().finish_import(ctx)
        if ctx.state["new_brands"]:
            ctx.report.notes.append(
                _("New brands: %(names)s")
                % {"names": ", ".join(sorted(ctx.state["new_brands"].values()))}
            )
        if ctx.state["new_categories"]:
            ctx.report.notes.append(
                _("New categories: %(names)s")
                % {"names": ", ".join(sorted(ctx.state["new_categories"].values()))}
            )
