-- The monthly credits a wallet is owed for `p_period`: its package's, unless a paid subscription
-- governs the wallet (`p_paid_through`, the last period it paid, is set) and has not paid that
-- period yet. The one rule the monthly reset and a paid invoice share (README, "Subscriptions"):
-- a paid period is granted by whichever of the two comes first, the other grants nothing.
CREATE OR REPLACE FUNCTION wallets_period_credits(p_monthly_credits integer, p_paid_through date, p_period date)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_paid_through IS NULL OR p_paid_through >= p_period THEN p_monthly_credits ELSE 0 END
$$;
