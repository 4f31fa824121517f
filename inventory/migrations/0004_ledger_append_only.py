"""Movements are append-only (ARCHITECTURE.md §2 law 4), enforced by the database on PostgreSQL:
a trigger refuses UPDATE and DELETE on inventory_stockmovement. TRUNCATE (test database flushes)
is not affected. On SQLite (laptop, quick tests) nothing is installed."""

from django.db import migrations

from wms.migration_ops import RunPostgreSQL

CREATE = """
CREATE OR REPLACE FUNCTION inventory_movement_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'stock movements are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS inventory_movement_append_only ON inventory_stockmovement;
CREATE TRIGGER inventory_movement_append_only
    BEFORE UPDATE OR DELETE ON inventory_stockmovement
    FOR EACH ROW EXECUTE FUNCTION inventory_movement_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS inventory_movement_append_only ON inventory_stockmovement;
DROP FUNCTION IF EXISTS inventory_movement_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("inventory", "0003_ledger_stock")]

    operations = [RunPostgreSQL(CREATE, DROP)]
