"""Make the ledger append-only in the database, and open personal accounts for existing users.

The trigger refuses UPDATE and DELETE of ledger rows whatever code runs (the ORM refuses them
too). TRUNCATE, which the test runner uses to empty tables, is not a row operation and passes.
"""

from decimal import Decimal

from django.conf import settings
from django.db import migrations
from django.utils import timezone

POSTGRESQL_CREATE = """
CREATE FUNCTION accounts_ledgerentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'ledger entries are append-only: ' || TG_OP || ' refused on accounts_ledgerentry',
        ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER accounts_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON accounts_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION accounts_ledgerentry_append_only();
"""
POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS accounts_ledgerentry_append_only ON accounts_ledgerentry;
DROP FUNCTION IF EXISTS accounts_ledgerentry_append_only();
"""
SQLITE_CREATE = (
    """CREATE TRIGGER accounts_ledgerentry_no_update BEFORE UPDATE ON accounts_ledgerentry
    BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER accounts_ledgerentry_no_delete BEFORE DELETE ON accounts_ledgerentry
    BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: DELETE refused'); END;""",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS accounts_ledgerentry_no_update;",
    "DROP TRIGGER IF EXISTS accounts_ledgerentry_no_delete;",
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


def open_personal_accounts(apps, schema_editor):
    user_model = apps.get_model("accounts", "User")
    account_model = apps.get_model("accounts", "Account")
    entry_model = apps.get_model("accounts", "LedgerEntry")
    credit = Decimal(settings.INITIAL_CREDIT)
    for user in user_model.objects.filter(personal_account__isnull=True):
        account = account_model.objects.create(
            kind="personal", owner=user, balance=credit, currency=settings.CURRENCY
        )
        if credit:
            entry_model.objects.create(
                account=account,
                kind="initial",
                amount=credit,
                balance_after=credit,
                reason="initial credit",
                created=timezone.now(),
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_accounts_ledger_allowances"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.RunPython(open_personal_accounts, migrations.RunPython.noop),
    ]
