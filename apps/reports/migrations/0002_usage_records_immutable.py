"""Make usage records immutable in the database: UPDATE is refused, and DELETE of every row
that is not demo data (`seed_usage --remove` deletes demo rows). The ORM refuses both too.
TRUNCATE, which the test runner uses to empty tables, is not a row operation and passes.
"""

from django.db import migrations

POSTGRESQL_CREATE = """
CREATE FUNCTION reports_usagerecord_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.is_demo THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = 'usage records are immutable: ' || TG_OP || ' refused on reports_usagerecord',
        ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER reports_usagerecord_immutable
    BEFORE UPDATE OR DELETE ON reports_usagerecord
    FOR EACH ROW EXECUTE FUNCTION reports_usagerecord_immutable();
"""
POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS reports_usagerecord_immutable ON reports_usagerecord;
DROP FUNCTION IF EXISTS reports_usagerecord_immutable();
"""
SQLITE_CREATE = (
    """CREATE TRIGGER reports_usagerecord_no_update BEFORE UPDATE ON reports_usagerecord
    BEGIN SELECT RAISE(ABORT, 'usage records are immutable: UPDATE refused'); END;""",
    """CREATE TRIGGER reports_usagerecord_no_delete BEFORE DELETE ON reports_usagerecord
    WHEN NOT OLD.is_demo
    BEGIN SELECT RAISE(ABORT, 'usage records are immutable: DELETE refused'); END;""",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS reports_usagerecord_no_update;",
    "DROP TRIGGER IF EXISTS reports_usagerecord_no_delete;",
)


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_CREATE, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_usage_records_exports_schedules"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers),
    ]
