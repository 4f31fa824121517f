"""A Shopify products export CSV, loaded as Shopify writes it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import Brand, Category, Goods
from inventory.tests.factories import BrandFactory
from inventory.tests.test_import_support import csv_bytes, import_file, messages_of, write

pytestmark = pytest.mark.django_db

# The column layout of Shopify's product export (help.shopify.com, "Using CSV files to import
# and export products").
HEADER = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
    "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value", "Option3 Name",
    "Option3 Value", "Variant SKU", "Variant Grams", "Variant Inventory Tracker",
    "Variant Inventory Qty", "Variant Inventory Policy", "Variant Fulfillment Service",
    "Variant Price", "Variant Compare At Price", "Variant Requires Shipping", "Variant Taxable",
    "Variant Barcode", "Image Src", "Image Position", "Image Alt Text", "Gift Card",
    "SEO Title", "SEO Description", "Variant Image", "Variant Weight Unit", "Variant Tax Code",
    "Cost per item", "Status",
]  # fmt: skip


def _row(**values) -> list[str]:
    return [values.get(column, "") for column in HEADER]


SHIRT = _row(
    **{
        "Handle": "example-t-shirt",
        "Title": "Example T-Shirt",
        "Body (HTML)": "<p>Soft cotton.</p>\n<ul>\n<li>Machine wash</li>\n</ul>",
        "Vendor": "Acme",
        "Product Category": "Apparel & Accessories > Clothing",
        "Type": "Shirts",
        "Tags": "mens, t-shirt",
        "Published": "TRUE",
        "Option1 Name": "Size",
        "Option1 Value": "Small",
        "Option2 Name": "Color",
        "Option2 Value": "Black",
        "Variant SKU": "TS-S-BLK",
        "Variant Grams": "200",
        "Variant Inventory Tracker": "shopify",
        "Variant Inventory Qty": "10",
        "Variant Price": "19.99",
        "Variant Barcode": "0012345000017",
        "Image Src": "https://cdn.shopify.com/s/files/1/shirt.jpg",
        "Image Position": "1",
        "Variant Weight Unit": "kg",
        "Status": "active",
    }
)
SHIRT_MEDIUM = _row(
    **{
        "Handle": "example-t-shirt",
        "Option1 Value": "Medium",
        "Option2 Value": "Black",
        "Variant SKU": "TS-M-BLK",
        "Variant Grams": "220",
        "Variant Price": "19.99",
    }
)
SHIRT_IMAGE_ONLY = _row(
    **{
        "Handle": "example-t-shirt",
        "Image Src": "https://cdn.shopify.com/s/files/1/shirt-back.jpg",
        "Image Position": "2",
    }
)
SHIRT_NO_SKU = _row(
    **{
        "Handle": "example-t-shirt",
        "Option1 Value": "Large",
        "Option2 Value": "Black",
        "Variant Grams": "240",
        "Variant Price": "19.99",
    }
)
MUG = _row(
    **{
        "Handle": "mug",
        "Title": "Mug",
        "Body (HTML)": "<b>Mug</b>",
        "Vendor": "New Vendor",
        "Type": "Kitchen",
        "Option1 Name": "Title",
        "Option1 Value": "Default Title",
        "Variant SKU": "MUG-1",
        "Variant Grams": "350",
        "Variant Price": "9.00",
        "Variant Barcode": "6901234000999",
        "Status": "archived",
    }
)


def test_loads_a_shopify_products_export_as_it_is(tmp_path):
    # given
    BrandFactory(name="acme")
    content = b"\xef\xbb\xbf" + csv_bytes([HEADER, SHIRT, SHIRT_MEDIUM, SHIRT_IMAGE_ONLY, MUG])
    path = write(tmp_path, "products_export_1.csv", content)
    # when
    report = import_file(path, "shopify_products")
    # then: each variant is a goods; the image-only row is skipped
    assert report.ok, messages_of(report) or report.refused
    assert (report.new, report.skipped) == (3, 1)
    small = Goods.objects.get(sku="TS-S-BLK")
    assert small.name == "Example T-Shirt - Small / Black"
    assert small.weight == Decimal("0.200")
    assert small.brand.name == "acme"  # existing brand, matched without regard to case
    assert small.category.name == "Shirts" and small.category.parent is None
    assert small.barcode == "0012345000017" and small.is_active
    assert Goods.objects.get(sku="TS-M-BLK").name == "Example T-Shirt - Medium / Black"
    mug = Goods.objects.get(sku="MUG-1")
    assert (mug.name, mug.weight, mug.brand.name, mug.category.name, mug.is_active) == (
        "Mug",
        Decimal("0.350"),
        "New Vendor",
        "Kitchen",
        False,
    )
    assert "New brands: New Vendor" in report.notes


def test_reports_a_variant_without_sku_and_writes_nothing(tmp_path):
    content = csv_bytes([HEADER, SHIRT, SHIRT_MEDIUM, SHIRT_NO_SKU, MUG])
    report = import_file(write(tmp_path, "products_export.csv", content), "shopify_products")
    assert messages_of(report) == [
        "row 4, Variant SKU: the variant Large / Black of product 'example-t-shirt' has no SKU; "
        "give it one in Shopify (or in this file) or delete the row"
    ]
    assert Goods.objects.count() == 0
    assert not Brand.objects.filter(name="New Vendor").exists()
    assert not Category.objects.filter(name="Kitchen").exists()


def test_a_second_load_updates_the_same_goods(tmp_path):
    first = write(tmp_path, "one.csv", csv_bytes([HEADER, SHIRT, MUG]))
    assert import_file(first, "shopify_products").ok
    renamed = list(SHIRT)
    renamed[HEADER.index("Title")] = "Example Tee"
    second = write(tmp_path, "two.csv", csv_bytes([HEADER, renamed, MUG]))
    report = import_file(second, "shopify_products")
    assert (report.new, report.updated, report.unchanged) == (0, 1, 1)
    assert Goods.objects.get(sku="TS-S-BLK").name == "Example Tee - Small / Black"


def test_accepts_the_newer_shopify_column_names(tmp_path):
    header = ["Title", "URL handle", "Vendor", "Type", "SKU", "Barcode", "Option1 value",
              "Weight value (grams)", "Status"]  # fmt: skip
    rows = [header, ["Cap", "cap", "Acme", "Hats", "CAP-1", "", "Default Title", "90", "active"]]
    report = import_file(
        write(tmp_path, "products_export.csv", csv_bytes(rows)), "shopify_products"
    )
    assert report.ok, messages_of(report) or report.refused
    cap = Goods.objects.get(sku="CAP-1")
    assert (cap.name, cap.weight) == ("Cap", Decimal("0.090"))
