"""Freeze events are append-only (ARCHITECTURE.md §2 law 4), enforced by the database on
PostgreSQL: a trigger refuses UPDATE and DELETE on freezes_freezeevent. TRUNCATE (test database
flushes) is not affected. On SQLite (laptop, quick tests) nothing is installed; the admin and the
services never update or delete events anywhere."""

from django.db import migrations

from wms.migration_ops import RunPostgreSQL

CREATE = """
CREATE OR REPLACE FUNCTION freezes_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'freeze events are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS freezes_event_append_only ON freezes_freezeevent;
CREATE TRIGGER freezes_event_append_only
    BEFORE UPDATE OR DELETE ON freezes_freezeevent
    FOR EACH ROW EXECUTE FUNCTION freezes_event_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS freezes_event_append_only ON freezes_freezeevent;
DROP FUNCTION IF EXISTS freezes_event_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("freezes", "0001_freezes_initial")]

    operations = [RunPostgreSQL(CREATE, DROP)]
