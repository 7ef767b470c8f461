"""Frozen copies of transactions/db/ (ledger_refuse_change, ledger_immutable), written by `manage.py sqlmigrations`.

Objects that older migrations created carry their text then as `previous` (their adoption).
Do not edit: change the file under transactions/db/ and run the command again."""

from django.db import migrations

from common.sql_migrations import WriteSql


class Migration(migrations.Migration):
    dependencies = [('transactions', '0009_reset_indexes')]

    operations = [
        WriteSql(
            'functions',
            'ledger_refuse_change',
            """-- The ledger is append-only in the database too: UPDATE and DELETE of a row raise an error
-- (trigger ledger_immutable).
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'ledger entries are immutable: ' || TG_OP || ' refused',
        ERRCODE = 'integrity_constraint_violation';
END;
$$;
""",
            previous="""
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'ledger entries are immutable: ' || TG_OP || ' refused',
        ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
""",
        ),
        WriteSql(
            'triggers',
            'ledger_immutable',
            """CREATE TRIGGER ledger_immutable BEFORE DELETE OR UPDATE ON public.transactions_ledgerentry FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
""",
            previous="""CREATE TRIGGER ledger_immutable BEFORE DELETE OR UPDATE ON public.transactions_ledgerentry FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
""",
        ),
    ]
