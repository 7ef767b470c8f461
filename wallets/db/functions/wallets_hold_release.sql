-- Give a held hold's credits back to the grants that hold them and its free units back to the
-- month, marking it `p_status` (`released`: its request failed; `expired`: its request died).
-- Credits of a grant that expired while they were held expire now (wallets_grants_expire_due), after
-- the month's reset if one is due (a monthly grant's rollover is decided on what it still holds).
-- A team member's hold no longer counts against the member's cap. A hold settled before changes
-- nothing and says how. Outcomes: wallets_settle_outcome.
-- Sequential scans off, for the reason wallets_hold_reserve gives.
CREATE OR REPLACE FUNCTION wallets_hold_release(p_wallet integer, p_hold bigint, p_status text, p_now timestamptz,
                                                OUT outcome wallets_settle_outcome)
LANGUAGE plpgsql SET enable_seqscan = off SET jit = off AS $$
DECLARE
    h record;
    w record;
    past_expiry boolean;
BEGIN
    SELECT status, billing_cycle_start INTO w FROM wallets_wallet WHERE id = p_wallet FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'missing';
        RETURN;
    END IF;
    UPDATE wallets_hold SET status = p_status, settled_at = p_now
    WHERE wallet_id = p_wallet AND id = p_hold AND status = 'held'
    RETURNING amount, free_units, period, action_type, allocations, member_id INTO h;
    IF NOT FOUND THEN
        SELECT ('was_' || status)::wallets_settle_outcome INTO outcome
        FROM wallets_hold WHERE wallet_id = p_wallet AND id = p_hold;
        outcome := coalesce(outcome, 'missing');
        RETURN;
    END IF;
    IF h.free_units > 0 THEN
        UPDATE wallets_allowanceusage SET reserved = reserved - h.free_units
        WHERE wallet_id = p_wallet AND period = h.period AND action_type = h.action_type;
    END IF;
    IF h.member_id IS NOT NULL AND h.amount > 0 THEN
        UPDATE wallets_memberusage SET held = held - h.amount
        WHERE wallet_id = p_wallet AND period = h.period AND member_id = h.member_id;
    END IF;
    IF h.amount > 0 THEN
        WITH back AS (
            UPDATE wallets_grant g SET held = g.held - m.credits, remaining = g.remaining + m.credits
            FROM (SELECT (e->>0)::bigint AS grant_id, sum((e->>1)::integer)::integer AS credits
                  FROM jsonb_array_elements(h.allocations) AS e GROUP BY 1) AS m
            WHERE g.id = ANY (ARRAY(SELECT (e->>0)::bigint FROM jsonb_array_elements(h.allocations) AS e))
              AND g.wallet_id = p_wallet AND g.id = m.grant_id
            RETURNING g.expires_at
        ),
        wallet_row AS (
            UPDATE wallets_wallet SET reserved = reserved - h.amount, updated_at = p_now WHERE id = p_wallet
        )
        SELECT coalesce(bool_or(expires_at <= p_now), false) INTO past_expiry FROM back;
        IF past_expiry THEN
            IF w.status = 'active' AND w.billing_cycle_start < wallets_period_of(p_now) THEN
                PERFORM wallets_roll_over(p_wallet, p_wallet + 1, ARRAY[p_wallet], wallets_period_of(p_now), p_now);
            END IF;
            PERFORM wallets_grants_expire_due(p_wallet, p_now);
        END IF;
    END IF;
    outcome := 'released';
END
$$;
