"""Grab decisions and order events are append-only (ARCHITECTURE.md §2 law 4), enforced by the
database on PostgreSQL as for stock movements: a trigger refuses UPDATE and DELETE. TRUNCATE
(test database flushes) is not affected. On SQLite nothing is installed."""

from django.db import migrations

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


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)
        for table in TABLES:
            schema_editor.execute(TRIGGER.format(table=table), params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}", None)
        schema_editor.execute("DROP FUNCTION IF EXISTS allocation_append_only()", params=None)


class Migration(migrations.Migration):
    dependencies = [("allocation", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
