"""Frozen copies of wallets/db/ (wallets_is_due), written by `manage.py sqlmigrations`.

Do not edit: change the file under wallets/db/ and run the command again."""

from django.db import migrations

from common.sql_migrations import WriteSql


class Migration(migrations.Migration):
    dependencies = [('wallets', '0016_sql_wallets_hold_release_and_more')]

    operations = [
        WriteSql(
            'functions',
            'wallets_is_due',
            """-- Something is due on a wallet that a read or a charge settles on the spot (wallets_catch_up),
-- whether or not a job ran: the monthly grant of a new period (active wallets only), an expired
-- hold to release or an expired grant to expire. The wallet's `holds_due_at` and `grants_due_at`
-- may be early, never late. PL/pgSQL, not SQL: the reserve asks it in an expression, where a SQL
-- function is not inlined and would be planned again on every call.
CREATE OR REPLACE FUNCTION wallets_is_due(p_status text, p_billing_cycle_start date, p_holds_due_at timestamptz,
                                          p_grants_due_at timestamptz, p_period date, p_now timestamptz)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN (p_status = 'active' AND p_billing_cycle_start < p_period)
           OR coalesce(p_holds_due_at <= p_now, false) OR coalesce(p_grants_due_at <= p_now, false);
END
$$;
""",
            previous="""-- Something is due on a wallet that a read or a charge settles on the spot (wallets_catch_up),
-- whether or not a job ran: the monthly grant of a new period (active wallets only), an expired
-- hold to release or an expired grant to expire. The wallet's `holds_due_at` and `grants_due_at`
-- may be early, never late. Plain SQL: inlined into the statements that ask it.
CREATE OR REPLACE FUNCTION wallets_is_due(p_status text, p_billing_cycle_start date, p_holds_due_at timestamptz,
                                          p_grants_due_at timestamptz, p_period date, p_now timestamptz)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT (p_status = 'active' AND p_billing_cycle_start < p_period)
           OR coalesce(p_holds_due_at <= p_now, false) OR coalesce(p_grants_due_at <= p_now, false)
$$;
""",
        ),
    ]
