"""The ledger is append-only in the database too: UPDATE and DELETE of a row raise an error."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'ledger entries are immutable: ' || TG_OP || ' refused',
        ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_immutable
    BEFORE UPDATE OR DELETE ON transactions_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
"""
DROP = """
DROP TRIGGER IF EXISTS ledger_immutable ON transactions_ledgerentry;
DROP FUNCTION IF EXISTS ledger_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("transactions", "0003_top_ups")]
    operations = [migrations.RunSQL(CREATE, DROP)]
