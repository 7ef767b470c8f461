-- Settle on the spot whatever is due on a wallet, whether or not a job ran (the periodic jobs only
-- tidy wallets nobody touches): the monthly reset of a new period (active wallets), holds past
-- their expiry (a request that died mid-flight), then grants past theirs (after the holds, so
-- credits a dead request held expire too if their grant has). Locks the wallet row. Says what it
-- did: whether the month was reset, how many holds it released and grants it expired.
CREATE OR REPLACE FUNCTION wallets_catch_up(p_wallet integer, p_period date, p_now timestamptz,
                                            OUT reset boolean, OUT holds_released integer,
                                            OUT grants_expired integer)
LANGUAGE plpgsql AS $$
DECLARE
    w record;
BEGIN
    reset := false;
    holds_released := 0;
    grants_expired := 0;
    SELECT status, billing_cycle_start, holds_due_at INTO w
    FROM wallets_wallet WHERE id = p_wallet FOR UPDATE;
    IF w.status = 'active' AND w.billing_cycle_start < p_period THEN
        reset := wallets_roll_over(p_wallet, p_wallet + 1, ARRAY[p_wallet], p_period, p_now) > 0;
    END IF;
    IF w.holds_due_at <= p_now THEN
        holds_released := wallets_holds_release_expired(p_wallet, p_now);
    END IF;
    -- Read again: the reset moved it, and a released hold may have expired its grant already.
    IF (SELECT grants_due_at <= p_now FROM wallets_wallet WHERE id = p_wallet) THEN
        grants_expired := wallets_grants_expire_due(p_wallet, p_now);
    END IF;
END
$$;
