"""Sync records and listing link events are append-only (ARCHITECTURE.md §2 law 4); binding
changes may only move from pending to applied/rejected once, everything else about them is
fixed. Enforced by PostgreSQL triggers; TRUNCATE (test flushes) is not affected."""

from django.db import migrations

from wms.migration_ops import RunPostgreSQL

CREATE = """
CREATE OR REPLACE FUNCTION channels_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS channels_syncrecord_append_only ON channels_sync_syncrecord;
CREATE TRIGGER channels_syncrecord_append_only
    BEFORE UPDATE OR DELETE ON channels_sync_syncrecord
    FOR EACH ROW EXECUTE FUNCTION channels_append_only();
DROP TRIGGER IF EXISTS channels_linkevent_append_only ON channels_sync_listinglinkevent;
CREATE TRIGGER channels_linkevent_append_only
    BEFORE UPDATE OR DELETE ON channels_sync_listinglinkevent
    FOR EACH ROW EXECUTE FUNCTION channels_append_only();

CREATE OR REPLACE FUNCTION channels_bindingchange_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'binding changes are append-only: DELETE refused'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.status <> 'pending'
       OR NEW.before IS DISTINCT FROM OLD.before OR NEW.after IS DISTINCT FROM OLD.after
       OR NEW.shop_id <> OLD.shop_id OR NEW.action <> OLD.action
       OR NEW.requested_by_id <> OLD.requested_by_id THEN
        RAISE EXCEPTION 'binding changes are append-only: only a pending change may be decided'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS channels_bindingchange_guard ON channels_sync_bindingchange;
CREATE TRIGGER channels_bindingchange_guard
    BEFORE UPDATE OR DELETE ON channels_sync_bindingchange
    FOR EACH ROW EXECUTE FUNCTION channels_bindingchange_guard();
"""

DROP = """
DROP TRIGGER IF EXISTS channels_syncrecord_append_only ON channels_sync_syncrecord;
DROP TRIGGER IF EXISTS channels_linkevent_append_only ON channels_sync_listinglinkevent;
DROP TRIGGER IF EXISTS channels_bindingchange_guard ON channels_sync_bindingchange;
DROP FUNCTION IF EXISTS channels_append_only();
DROP FUNCTION IF EXISTS channels_bindingchange_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("channels_sync", "0001_initial")]

    operations = [RunPostgreSQL(CREATE, DROP)]
