"""Database-level guard: audit rows cannot be updated (both engines) or deleted (PostgreSQL).

SQLite keeps DELETE possible at the database level only because Django's test flush uses
DELETE there; the ORM refuses deletes on every engine (AuditQuerySet, AuditEntry.delete).
The trigger is also re-ensured after every migrate (gaoxin.core.db.ensure_audit_triggers).
"""

from django.db import migrations

from gaoxin.core.db import ensure_audit_triggers


def up(apps, schema_editor):
    ensure_audit_triggers(schema_editor.connection)


def down(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditentry_no_update ON core_auditentry")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditentry_no_update")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(up, down)]
