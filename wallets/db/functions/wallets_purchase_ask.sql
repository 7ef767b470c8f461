-- The gate's ask, read only and nothing locked: the wallet's figures (no wallet: `status` NULL),
-- whether something is due on it (wallets_is_due),
-- "paid already?" (wallets_access_paid), this month's free units of the action used or held, and
-- the pricing rules' version (for the process's cached rule). A function so that its plans are
-- kept per connection.
-- Sequential scans off, for the reason wallets_hold_reserve gives.
CREATE OR REPLACE FUNCTION wallets_purchase_ask(
    p_wallet integer, p_action text, p_reference text, p_period date, p_now timestamptz,
    OUT status text, OUT balance integer, OUT reserved integer, OUT billing_cycle_start date,
    OUT due boolean, OUT already_paid boolean, OUT free_used integer, OUT rules_version bigint)
LANGUAGE plpgsql STABLE SET enable_seqscan = off SET jit = off AS $$
BEGIN
    SELECT w.status, w.monthly_balance + w.purchased_balance + w.bonus_balance, w.reserved, w.billing_cycle_start,
           wallets_is_due(w.status, w.billing_cycle_start, w.holds_due_at, w.grants_due_at, p_period, p_now)
    INTO status, balance, reserved, billing_cycle_start, due
    FROM wallets_wallet w WHERE w.id = p_wallet;
    already_paid := FOUND AND wallets_access_paid(p_wallet, p_action, p_reference, p_now);
    SELECT u.used + u.reserved INTO free_used
    FROM wallets_allowanceusage u WHERE u.wallet_id = p_wallet AND u.period = p_period AND u.action_type = p_action;
    SELECT v.version INTO rules_version FROM pricing_rules_version v;
END
$$;
