"""Database objects Django's schema editor does not know about."""

from __future__ import annotations

from typing import Any

PG_TRIGGER = """
CREATE OR REPLACE FUNCTION core_auditentry_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS core_auditentry_no_update ON core_auditentry;
CREATE TRIGGER core_auditentry_no_update BEFORE UPDATE OR DELETE ON core_auditentry
    FOR EACH ROW EXECUTE FUNCTION core_auditentry_immutable();
"""
SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS core_auditentry_no_update BEFORE UPDATE ON core_auditentry
BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
"""


def ensure_audit_triggers(connection: Any) -> None:
    """(Re)creates the append-only trigger on the audit table; safe to run any number of times.

    SQLite drops a table's triggers when a migration rebuilds the table, so this runs after every
    `migrate` (see CoreConfig.ready), not only in the migration that first added it.
    """
    tables = connection.introspection.table_names()
    if "core_auditentry" not in tables:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(PG_TRIGGER)
        elif connection.vendor == "sqlite":
            cursor.execute(SQLITE_TRIGGER)
