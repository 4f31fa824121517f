# The bin picker lists one warehouse's bins by code prefix, any case, in code order (keyset):
# warehouse_id = ? AND UPPER(code) COLLATE "C" LIKE 'PREFIX%' ORDER BY UPPER(code) COLLATE "C".
# See inventory 0011 for why the index is byte-ordered; SQLite needs none.

from django.db import migrations

NAME = "bin_wh_code_prefix_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {NAME} "
            'ON warehouses_bin (warehouse_id, (UPPER(code::text) COLLATE "C"))'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("warehouses", "0003_warehouses_code_rules")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
