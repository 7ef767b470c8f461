-- The low-balance alert's state machine, decided by the ledger writer on the locked wallet row (so
-- 20 concurrent charges crossing the threshold see one transition, not 20). States: 0 armed
-- (nothing fired since the available balance was last at or above the threshold), 1 `balance.low`
-- fired, 2 `balance.depleted` fired (nothing left). An alert fires once per crossing and re-arms
-- when the available balance is back at or above the threshold; a threshold of 0 turns
-- `balance.low` off (`balance.depleted` still fires at 0). PL/pgSQL, so that a caller's expression
-- evaluates it without starting a query.
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
