# The pickers search goods by SKU or name prefix, any case, in code order, with keyset paging:
# UPPER(sku) COLLATE "C" LIKE 'PREFIX%' ORDER BY UPPER(sku) COLLATE "C". A byte-order expression
# index serves both the LIKE range and the ORDER BY (the database collation is not "C", and a
# text_pattern_ops index cannot serve an ORDER BY). SQLite compares bytes already: no index needed.

from django.db import migrations

INDEXES = {
    "goods_sku_prefix_idx": 'inventory_goods ((UPPER(sku::text) COLLATE "C"))',
    "goods_name_prefix_idx": 'inventory_goods ((UPPER(name::text) COLLATE "C"))',
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, target in INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("inventory", "0010_importjob_create_missing")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
