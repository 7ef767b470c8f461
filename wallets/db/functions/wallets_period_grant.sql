-- A period's monthly grant made outside the reset: for a wallet whose reset ran before its
-- subscription paid the period (invoice.paid comes after the 1st), or that went back to the
-- default package after its reset. The grant the reset writes (grant key `monthly:YYYY-MM`, so of
-- the two whichever comes first grants it and the other nothing) of the credits
-- wallets_period_credits says are owed. The wallet must be active and in `p_period` already
-- (caught up by the caller). Locks the wallet row. Returns the ledger row and its events, or nulls.
CREATE OR REPLACE FUNCTION wallets_period_grant(p_wallet integer, p_period date, p_now timestamptz,
                                                OUT entry_id bigint, OUT event_ids bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    label text := to_char(p_period, 'YYYY-MM');
    owed integer;
    what text;
BEGIN
    SELECT wallets_period_credits(p.monthly_credits, w.paid_through, p_period),
           'Monthly credits for ' || label || ' (' || p.name || ')'
    INTO owed, what
    FROM wallets_wallet w JOIN pricing_package p ON p.id = w.package_id
    WHERE w.id = p_wallet AND w.status = 'active' AND w.billing_cycle_start = p_period
    FOR UPDATE OF w;
    IF NOT FOUND OR owed = 0 THEN
        RETURN;
    END IF;
    SELECT a.entry_id, a.event_ids INTO entry_id, event_ids
    FROM wallets_grants_add(ARRAY[p_wallet], 'monthly', owed, 'monthly_grant', NULL,
                            (p_period + interval '1 month')::timestamp AT TIME ZONE 'UTC', 0, '', what, label,
                            what, 'monthly:' || label, NULL, NULL, '{}'::jsonb, p_now) AS a;
END
$$;
