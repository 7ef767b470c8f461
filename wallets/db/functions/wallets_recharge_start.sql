-- Auto-recharge, decided by the ledger writer on the locked wallet row: a write left `p_available`
-- below the wallet's threshold, so one recharge starts (top up by `recharge_credits`, or up to
-- `recharge_target`), unless one is in flight already (one_recharge_in_flight: one per crossing,
-- however many writes cross at once), auto-recharge is off or was turned off by a failure, or it
-- would take the calendar month past `recharge_monthly_limit` (recharges that did not fail count),
-- or the wallet is locked. Returns the new recharge's id, or NULL: the caller's transaction commits
-- it, then `payments` asks for the payment.
CREATE OR REPLACE FUNCTION wallets_recharge_start(p_wallet integer, p_available integer, p_now timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    w record;
    credits integer;
    started bigint;
    this_month date := wallets_period_of(p_now);
BEGIN
    SELECT status, recharge_enabled, recharge_status, recharge_threshold, recharge_credits, recharge_target,
           recharge_monthly_limit
    INTO w FROM wallets_wallet WHERE id = p_wallet;
    IF w.status <> 'active' OR NOT w.recharge_enabled OR w.recharge_status <> 'ok'
       OR p_available >= w.recharge_threshold THEN
        RETURN NULL;
    END IF;
    credits := coalesce(w.recharge_credits, w.recharge_target - p_available);
    IF credits IS NULL OR credits <= 0 THEN
        RETURN NULL;
    END IF;
    -- Two statements, each on the wallet's shard (on Citus, an INSERT ... SELECT with a condition
    -- runs through the coordinator); the wallet is locked, so nothing starts in between.
    IF (SELECT coalesce(sum(m.credits), 0) FROM wallets_recharge m
        WHERE m.wallet_id = p_wallet AND m.period = this_month AND m.status <> 'failed')
       + credits > w.recharge_monthly_limit THEN
        RETURN NULL;
    END IF;
    INSERT INTO wallets_recharge AS r (wallet_id, credits, period, status, payment_intent, failure, created_at,
                                       updated_at)
    VALUES (p_wallet, credits, this_month, 'pending', '', '', p_now, p_now)
    ON CONFLICT (wallet_id) WHERE status IN ('pending', 'processing') DO NOTHING
    RETURNING r.id INTO started;
    RETURN started;
END
$$;
