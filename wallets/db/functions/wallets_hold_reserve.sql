-- Set aside the price of `p_quantity` units of `p_action` on `p_reference` for a request until it
-- succeeds or fails: `p_free_units` of the month's free allowance (`p_free_allowance` a month) and
-- `p_amount` credits, moved from their grants' `remaining` to `held` in the spending order
-- (wallets_spend_plan), recorded on the hold (`allocations`). Decided under the wallet lock, on
-- the latest committed rows: for a purchase that sells access (`p_sells_access`), an access in
-- force (`paid`); with `p_checks_in_flight` (a request not yet served), a hold in flight for the
-- same resource (`in_flight`: that request's outcome decides); this Idempotency-Key's
-- earlier request (`retry_captured`, `retry_held`; a released one is tried afresh without its key);
-- a locked wallet. Whatever is due on the wallet (a new month, expired holds or grants) is settled
-- first (wallets_catch_up). The caller priced the units with the free units it believed left:
-- if fewer or more are left, `requote` with `free_left`. For a team member's request (`p_member`),
-- the member's monthly cap (wallets_membership) against what the member spent and holds this
-- month (wallets_memberusage): `member_cap_reached` when the credits would overshoot it, and
-- `member_left`, what the cap leaves (NULL: no cap). Outcomes: wallets_reserve_outcome.
-- Sequential scans off: PL/pgSQL keeps a plan per connection, and one made while a table was small
-- (a new database, statistics taken before the traffic) would scan the whole table on every call as
-- it grows (holds, grants); every statement here finds its rows by key. JIT off with it: the cost a
-- disabled scan adds (a one-row table has no index) would have every call compile its plan.
CREATE OR REPLACE FUNCTION wallets_hold_reserve(
    p_wallet integer, p_action text, p_reference text, p_key text, p_quantity integer, p_free_units integer,
    p_amount integer, p_free_allowance integer, p_sells_access boolean, p_checks_in_flight boolean, p_period date,
    p_now timestamptz,
    p_expires_at timestamptz, p_member integer,
    OUT outcome wallets_reserve_outcome, OUT hold_id bigint, OUT hold_key text, OUT allocations jsonb,
    OUT balance integer, OUT available integer, OUT free_left integer, OUT member_left integer)
LANGUAGE plpgsql SET enable_seqscan = off SET jit = off AS $$
DECLARE
    w record;
    previous_id bigint;
    previous_status text;
    plan record;
    moves jsonb := '[]';
    in_flight boolean := false;
    -- This call is a transaction of its own (autocommit), not a step of a caller's transaction:
    -- the transaction began with this statement, and nothing before it wrote anything.
    on_its_own boolean := transaction_timestamp() = statement_timestamp() AND pg_current_xact_id_if_assigned() IS NULL;
BEGIN
    SELECT status, monthly_balance + purchased_balance + bonus_balance AS total, reserved, billing_cycle_start,
           holds_due_at, grants_due_at
    INTO w FROM wallets_wallet WHERE id = p_wallet FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'missing';
        RETURN;
    END IF;
    balance := w.total;
    available := w.total - w.reserved;
    -- Every statement below starts after the lock was obtained: it sees what the request we may
    -- have waited for committed (an access, a hold), which the locking statement itself cannot.
    IF p_sells_access AND wallets_access_paid(p_wallet, p_action, p_reference, p_now) THEN
        outcome := 'paid';
        RETURN;
    END IF;
    -- Each a statement of its own that names the wallet (on Citus, a join of a wallet's holds to a
    -- row of no table would read every shard's holds).
    IF p_key IS NOT NULL THEN
        SELECT k.id, k.status INTO previous_id, previous_status
        FROM wallets_hold k WHERE k.wallet_id = p_wallet AND k.idempotency_key = p_key;
    END IF;
    in_flight := p_checks_in_flight AND EXISTS (  -- a hold past its expiry is not in flight: its request died
        SELECT 1 FROM wallets_hold h
        WHERE h.wallet_id = p_wallet AND h.action_type = p_action AND h.reference = p_reference
          AND h.status = 'held' AND h.expires_at > p_now);
    IF previous_status IN ('captured', 'held') THEN
        outcome := ('retry_' || previous_status)::wallets_reserve_outcome;  -- charged or being served: never again
        hold_id := previous_id;
        RETURN;
    ELSIF previous_status IS NOT NULL THEN
        p_key := NULL;  -- the first attempt failed and was released: try afresh
    END IF;
    IF in_flight THEN
        outcome := 'in_flight';
        RETURN;
    END IF;
    IF w.status = 'locked' THEN
        outcome := 'locked';
        RETURN;
    END IF;
    IF wallets_is_due(w.status, w.billing_cycle_start, w.holds_due_at, w.grants_due_at, p_period, p_now) THEN
        PERFORM wallets_catch_up(p_wallet, p_period, p_now);
        SELECT monthly_balance + purchased_balance + bonus_balance AS total, reserved INTO w
        FROM wallets_wallet WHERE id = p_wallet;
        balance := w.total;
        available := w.total - w.reserved;
    END IF;

    free_left := 0;
    IF p_free_allowance > 0 THEN
        SELECT greatest(0, p_free_allowance - u.used - u.reserved) INTO free_left
        FROM wallets_allowanceusage u WHERE u.wallet_id = p_wallet AND u.period = p_period AND u.action_type = p_action;
        free_left := coalesce(free_left, p_free_allowance);
    END IF;
    IF least(p_quantity, free_left) <> p_free_units THEN
        outcome := 'requote';
        RETURN;
    END IF;
    IF p_member IS NOT NULL THEN
        -- Under the wallet lock, as the balance: concurrent requests of a member never overshoot the cap.
        SELECT m.monthly_cap - coalesce(u.spent + u.held, 0) INTO member_left
        FROM wallets_membership m
        LEFT JOIN wallets_memberusage u ON u.wallet_id = p_wallet AND u.period = p_period AND u.member_id = p_member
        WHERE m.user_id = p_member AND m.team_id = p_wallet;
        IF p_amount > 0 AND member_left < p_amount THEN  -- no cap: NULL, never reached
            outcome := 'member_cap_reached';
            member_left := greatest(member_left, 0);
            RETURN;
        END IF;
    END IF;
    IF p_amount > available THEN
        outcome := 'short';
        RETURN;
    END IF;
    IF p_member IS NOT NULL AND p_amount > 0 THEN
        INSERT INTO wallets_memberusage AS u (wallet_id, period, member_id, spent, held)
        VALUES (p_wallet, p_period, p_member, 0, p_amount)
        ON CONFLICT (wallet_id, period, member_id) DO UPDATE SET held = u.held + p_amount;
        member_left := member_left - p_amount;
    END IF;
    IF p_free_units > 0 THEN
        INSERT INTO wallets_allowanceusage AS u (wallet_id, period, action_type, used, reserved)
        VALUES (p_wallet, p_period, p_action, 0, p_free_units)
        ON CONFLICT (wallet_id, period, action_type) DO UPDATE SET reserved = u.reserved + p_free_units;
    END IF;

    -- The grants that give the credits, in the spending order; then in one statement: the credits
    -- move from `remaining` to `held` of those grants, the wallet's `reserved` grows, and the hold
    -- records which grants hold them.
    IF p_amount > 0 THEN
        plan := wallets_spend_plan(p_wallet, p_amount, p_now, NULL, NULL);
        IF plan.credits <> p_amount THEN  -- the changes above go with the error
            RAISE EXCEPTION 'wallet % totals and grants disagree: fewer than % credits spendable', p_wallet, p_amount
                USING ERRCODE = 'CR001';
        END IF;
        moves := plan.moves;
    END IF;
    WITH moved AS (
        UPDATE wallets_grant g SET remaining = g.remaining - m.credits, held = g.held + m.credits
        FROM (SELECT (e->>0)::bigint AS grant_id, (e->>1)::integer AS credits
              FROM jsonb_array_elements(moves) AS e) AS m
        WHERE g.wallet_id = p_wallet
          AND g.id = ANY (ARRAY(SELECT (e->>0)::bigint FROM jsonb_array_elements(moves) AS e))
          AND g.id = m.grant_id
    ),
    wallet_row AS (
        UPDATE wallets_wallet
        SET reserved = reserved + p_amount, holds_due_at = LEAST(coalesce(holds_due_at, p_expires_at), p_expires_at),
            updated_at = p_now
        WHERE id = p_wallet
    )
    INSERT INTO wallets_hold AS nh (wallet_id, action_type, quantity, amount, free_units, period, reference,
                                    idempotency_key, member_id, status, allocations, expires_at, created_at)
    VALUES (p_wallet, p_action, p_quantity, p_amount, p_free_units, p_period, left(p_reference, 255), p_key, p_member,
            'held', moves, p_expires_at, p_now)
    RETURNING nh.id, nh.allocations INTO hold_id, allocations;
    hold_key := p_key;
    available := available - p_amount;
    IF on_its_own THEN
        -- Its commit need not wait for the disk: a hold lost in a crash only gives its credits
        -- back, and a capture's durable commit flushes the WAL up to it, this hold included.
        SET LOCAL synchronous_commit = off;
    END IF;
    outcome := 'reserved';
END
$$;
