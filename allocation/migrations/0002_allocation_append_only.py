"""Grab decisions and order events are append-only (ARCHITECTURE.md §2 law 4), enforced by the
database on PostgreSQL as for stock movements: a trigger refuses UPDATE and DELETE. TRUNCATE
(test database flushes) is not affected. On SQLite nothing is installed."""

from django.db import migrations

from wms.migration_ops import RunPostgreSQL

TABLES = ("allocation_grabdecision", "allocation_orderevent")

CREATE = """
CREATE OR REPLACE FUNCTION allocation_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""

TRIGGER = """
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION allocation_append_only();
"""


DROP = (
    "".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};\n" for table in TABLES)
    + "DROP FUNCTION IF EXISTS allocation_append_only();\n"
)


class Migration(migrations.Migration):
    dependencies = [("allocation", "0001_initial")]

    operations = [
        RunPostgreSQL(CREATE + "".join(TRIGGER.format(table=table) for table in TABLES), DROP)
    ]
