-- Turn a held hold into a charge, once: a `free_use` row for its free units (the month's usage
-- moves from reserved to used), a `spend` row for its credits (out of what its grants hold for it,
-- even a grant that expired meanwhile), both through wallets_ledger_write. With `p_access`, the
-- purchase's access is recorded first (until `p_access_expires_at`; NULL: forever); if one is in
-- force already (another request for the resource settled and paid), the hold is released and
-- nothing is charged (`paid_already`). A hold settled before says how (`was_captured`, with what
-- it charged, `was_released`, `was_expired`). A team member's hold moves from held to spent in the
-- member's month (wallets_memberusage), and its rows record the member. Outcomes:
-- wallets_settle_outcome; `recharge_id`: an auto-recharge the charge started (wallets_ledger_write).
-- Sequential scans off, for the reason wallets_hold_reserve gives.
CREATE OR REPLACE FUNCTION wallets_hold_capture(
    p_wallet integer, p_hold bigint, p_description text, p_access boolean, p_access_expires_at timestamptz,
    p_now timestamptz,
    OUT outcome wallets_settle_outcome, OUT charged integer, OUT balance integer, OUT event_ids bigint[],
    OUT recharge_id bigint)
LANGUAGE plpgsql SET enable_seqscan = off SET jit = off AS $$
DECLARE
    h record;
    written record;
BEGIN
    SELECT monthly_balance + purchased_balance + bonus_balance INTO balance
    FROM wallets_wallet WHERE id = p_wallet FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'missing';
        RETURN;
    END IF;
    charged := 0;
    SELECT status, action_type, reference, quantity, amount, free_units, period, allocations, member_id INTO h
    FROM wallets_hold WHERE wallet_id = p_wallet AND id = p_hold;
    IF NOT FOUND THEN
        outcome := 'missing';
        RETURN;
    ELSIF h.status <> 'held' THEN
        outcome := ('was_' || h.status)::wallets_settle_outcome;
        charged := CASE WHEN h.status = 'captured' THEN h.amount ELSE 0 END;
        RETURN;
    END IF;
    -- After the lock, so it decides on what a request settling the same resource committed.
    IF p_access AND NOT wallets_access_grant(p_wallet, h.action_type, h.reference, p_access_expires_at, p_now) THEN
        PERFORM wallets_hold_release(p_wallet, p_hold, 'released', p_now);
        outcome := 'paid_already';
        RETURN;
    END IF;
    IF h.free_units > 0 THEN
        UPDATE wallets_allowanceusage SET used = used + h.free_units, reserved = reserved - h.free_units
        WHERE wallet_id = p_wallet AND period = h.period AND action_type = h.action_type;
        written := wallets_ledger_write(
            p_wallet, 'free_use', '[]'::jsonb, 1, NULL, 0, h.action_type, h.free_units, h.reference,
            'Free allowance used for ' || h.action_type, 'hold:' || p_hold || ':free', NULL, h.member_id,
            CASE WHEN h.amount = 0 THEN p_hold END, p_now);
        event_ids := written.event_ids;
        recharge_id := written.recharge_id;
    END IF;
    IF h.amount > 0 THEN
        written := wallets_ledger_write(
            p_wallet, 'spend', h.allocations, -1, 'held', -h.amount, h.action_type, h.quantity - h.free_units,
            h.reference, coalesce(nullif(p_description, ''), 'Credits spent for ' || h.action_type),
            'hold:' || p_hold || ':spend', NULL, h.member_id, p_hold, p_now);
        event_ids := event_ids || written.event_ids;
        recharge_id := coalesce(written.recharge_id, recharge_id);
        balance := written.balance_after;
        IF h.member_id IS NOT NULL THEN
            UPDATE wallets_memberusage SET held = held - h.amount, spent = spent + h.amount
            WHERE wallet_id = p_wallet AND period = h.period AND member_id = h.member_id;
        END IF;
    END IF;
    charged := h.amount;
    outcome := 'captured';
END
$$;
