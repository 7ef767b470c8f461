"""`wallets_alert_transition` in PL/pgSQL instead of SQL: the capture calls it from PL/pgSQL, which
does not inline a SQL function and so planned its query on every call (0.11-0.2 ms of a capture's
0.8 ms); a PL/pgSQL body is compiled once per connection. Same arguments, same answers (a property
test holds it to `wallets.alerts.alert_transition`)."""

from django.db import migrations

PLPGSQL = """
CREATE OR REPLACE FUNCTION wallets_alert_transition(p_state integer, p_available integer, p_threshold integer,
                                                    OUT state integer, OUT events text[])
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_available <= 0 THEN
        state := 2;
        events := CASE WHEN p_state = 2 THEN ARRAY[]::text[]
                       WHEN p_state = 0 AND p_threshold > 0 THEN ARRAY['balance.low', 'balance.depleted']
                       ELSE ARRAY['balance.depleted'] END;
    ELSIF p_available < p_threshold THEN
        state := 1;
        events := CASE WHEN p_state = 0 THEN ARRAY['balance.low'] ELSE ARRAY[]::text[] END;
    ELSE
        state := 0;
        events := CASE WHEN p_state <> 0 THEN ARRAY['balance.recovered'] ELSE ARRAY[]::text[] END;
    END IF;
END
$$;
"""

SQL = """
CREATE OR REPLACE FUNCTION wallets_alert_transition(p_state integer, p_available integer, p_threshold integer,
                                                    OUT state integer, OUT events text[])
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_available <= 0 THEN 2 WHEN p_available < p_threshold THEN 1 ELSE 0 END,
           CASE WHEN p_available <= 0 THEN
                    CASE WHEN p_state = 2 THEN ARRAY[]::text[]
                         WHEN p_state = 0 AND p_threshold > 0 THEN ARRAY['balance.low', 'balance.depleted']
                         ELSE ARRAY['balance.depleted'] END
                WHEN p_available < p_threshold THEN
                    CASE WHEN p_state = 0 THEN ARRAY['balance.low'] ELSE ARRAY[]::text[] END
                WHEN p_state <> 0 THEN ARRAY['balance.recovered']
                ELSE ARRAY[]::text[] END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("wallets", "0009_gate_functions")]

    operations = [migrations.RunSQL(PLPGSQL, SQL)]
