"""Frozen copies of wallets/db/ (wallets_hold_capture, wallets_hold_release, wallets_hold_reserve, wallets_ledger_write, wallets_purchase_ask), written by `manage.py sqlmigrations`.

Do not edit: change the file under wallets/db/ and run the command again."""

from django.db import migrations

from common.sql_migrations import WriteSql


class Migration(migrations.Migration):
    dependencies = [('wallets', '0022_sql_wallets_reserve_outcome_and_more')]

    operations = [
        WriteSql(
            'functions',
            'wallets_hold_capture',
            """-- Turn a held hold into a charge, once: a `free_use` row for its free units (the month's usage
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
""",
            previous="""-- Turn a held hold into a charge, once: a `free_use` row for its free units (the month's usage
-- moves from reserved to used), a `spend` row for its credits (out of what its grants hold for it,
-- even a grant that expired meanwhile), both through wallets_ledger_write. With `p_access`, the
-- purchase's access is recorded first (until `p_access_expires_at`; NULL: forever); if one is in
-- force already (another request for the resource settled and paid), the hold is released and
-- nothing is charged (`paid_already`). A hold settled before says how (`was_captured`, with what
-- it charged, `was_released`, `was_expired`). A team member's hold moves from held to spent in the
-- member's month (wallets_memberusage), and its rows record the member. Outcomes:
-- wallets_settle_outcome; `recharge_id`: an auto-recharge the charge started (wallets_ledger_write).
CREATE OR REPLACE FUNCTION wallets_hold_capture(
    p_wallet integer, p_hold bigint, p_description text, p_access boolean, p_access_expires_at timestamptz,
    p_now timestamptz,
    OUT outcome wallets_settle_outcome, OUT charged integer, OUT balance integer, OUT event_ids bigint[],
    OUT recharge_id bigint)
LANGUAGE plpgsql AS $$
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
""",
        ),
        WriteSql(
            'functions',
            'wallets_hold_release',
            """-- Give a held hold's credits back to the grants that hold them and its free units back to the
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
                PERFORM wallets_roll_over(p_wallet, p_wallet + 1, wallets_period_of(p_now), p_now);
            END IF;
            PERFORM wallets_grants_expire_due(p_wallet, p_now);
        END IF;
    END IF;
    outcome := 'released';
END
$$;
""",
            previous="""-- Give a held hold's credits back to the grants that hold them and its free units back to the
-- month, marking it `p_status` (`released`: its request failed; `expired`: its request died).
-- Credits of a grant that expired while they were held expire now (wallets_grants_expire_due), after
-- the month's reset if one is due (a monthly grant's rollover is decided on what it still holds).
-- A team member's hold no longer counts against the member's cap. A hold settled before changes
-- nothing and says how. Outcomes: wallets_settle_outcome.
CREATE OR REPLACE FUNCTION wallets_hold_release(p_wallet integer, p_hold bigint, p_status text, p_now timestamptz,
                                                OUT outcome wallets_settle_outcome)
LANGUAGE plpgsql AS $$
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
            WHERE g.wallet_id = p_wallet AND g.id = m.grant_id
            RETURNING g.expires_at
        ),
        wallet_row AS (
            UPDATE wallets_wallet SET reserved = reserved - h.amount, updated_at = p_now WHERE id = p_wallet
        )
        SELECT coalesce(bool_or(expires_at <= p_now), false) INTO past_expiry FROM back;
        IF past_expiry THEN
            IF w.status = 'active' AND w.billing_cycle_start < wallets_period_of(p_now) THEN
                PERFORM wallets_roll_over(p_wallet, p_wallet + 1, wallets_period_of(p_now), p_now);
            END IF;
            PERFORM wallets_grants_expire_due(p_wallet, p_now);
        END IF;
    END IF;
    outcome := 'released';
END
$$;
""",
        ),
        WriteSql(
            'functions',
            'wallets_hold_reserve',
            """-- Set aside the price of `p_quantity` units of `p_action` on `p_reference` for a request until it
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
    previous record;
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
    SELECT k.id, k.status,
           p_checks_in_flight AND EXISTS (  -- a hold past its expiry is not in flight: its request died
               SELECT 1 FROM wallets_hold h
               WHERE h.wallet_id = p_wallet AND h.action_type = p_action AND h.reference = p_reference
                 AND h.status = 'held' AND h.expires_at > p_now) AS in_flight
    FROM (SELECT 1) AS one
    LEFT JOIN wallets_hold k ON k.wallet_id = p_wallet AND k.idempotency_key = p_key
    INTO previous;
    IF previous.status IN ('captured', 'held') THEN
        outcome := ('retry_' || previous.status)::wallets_reserve_outcome;  -- charged or being served: never again
        hold_id := previous.id;
        RETURN;
    ELSIF previous.status IS NOT NULL THEN
        p_key := NULL;  -- the first attempt failed and was released: try afresh
    END IF;
    IF previous.in_flight THEN
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

    -- In one statement: the credits move from `remaining` to `held` of the grants, in the spending
    -- order; the wallet's `reserved` grows; the hold records which grants hold them.
    WITH take AS (
        SELECT * FROM wallets_spend_plan(p_wallet, p_amount, p_now, NULL, NULL) WHERE p_amount > 0
    ),
    moved AS (
        UPDATE wallets_grant g SET remaining = g.remaining - take.credits, held = g.held + take.credits
        FROM take WHERE g.id = ANY (ARRAY(SELECT grant_id FROM take)) AND g.wallet_id = p_wallet AND g.id = take.grant_id
        RETURNING g.id
    ),
    taken AS (
        SELECT coalesce(jsonb_agg(jsonb_build_array(take.grant_id, take.credits, take.source, take.cost_basis::text,
                                                    take.currency) ORDER BY take.before), '[]'::jsonb) AS moves,
               coalesce(sum(take.credits), 0) AS credits
        FROM take JOIN moved ON moved.id = take.grant_id
    ),
    wallet_row AS (
        UPDATE wallets_wallet
        SET reserved = reserved + p_amount, holds_due_at = LEAST(coalesce(holds_due_at, p_expires_at), p_expires_at),
            updated_at = p_now
        WHERE id = p_wallet
    )
    INSERT INTO wallets_hold AS nh (wallet_id, action_type, quantity, amount, free_units, period, reference,
                                    idempotency_key, member_id, status, allocations, expires_at, created_at)
    SELECT p_wallet, p_action, p_quantity, p_amount, p_free_units, p_period, left(p_reference, 255), p_key, p_member,
           'held', taken.moves, p_expires_at, p_now
    FROM taken WHERE taken.credits = p_amount
    RETURNING nh.id, nh.allocations INTO hold_id, allocations;
    IF NOT FOUND THEN  -- the statement's changes go with the error
        RAISE EXCEPTION 'wallet % totals and grants disagree: fewer than % credits spendable', p_wallet, p_amount
            USING ERRCODE = 'CR001';
    END IF;
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
""",
            previous="""-- Set aside the price of `p_quantity` units of `p_action` on `p_reference` for a request until it
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
CREATE OR REPLACE FUNCTION wallets_hold_reserve(
    p_wallet integer, p_action text, p_reference text, p_key text, p_quantity integer, p_free_units integer,
    p_amount integer, p_free_allowance integer, p_sells_access boolean, p_checks_in_flight boolean, p_period date,
    p_now timestamptz,
    p_expires_at timestamptz, p_member integer,
    OUT outcome wallets_reserve_outcome, OUT hold_id bigint, OUT hold_key text, OUT allocations jsonb,
    OUT balance integer, OUT available integer, OUT free_left integer, OUT member_left integer)
LANGUAGE plpgsql AS $$
DECLARE
    w record;
    previous record;
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
    SELECT k.id, k.status,
           p_checks_in_flight AND EXISTS (  -- a hold past its expiry is not in flight: its request died
               SELECT 1 FROM wallets_hold h
               WHERE h.wallet_id = p_wallet AND h.action_type = p_action AND h.reference = p_reference
                 AND h.status = 'held' AND h.expires_at > p_now) AS in_flight
    FROM (SELECT 1) AS one
    LEFT JOIN wallets_hold k ON k.wallet_id = p_wallet AND k.idempotency_key = p_key
    INTO previous;
    IF previous.status IN ('captured', 'held') THEN
        outcome := ('retry_' || previous.status)::wallets_reserve_outcome;  -- charged or being served: never again
        hold_id := previous.id;
        RETURN;
    ELSIF previous.status IS NOT NULL THEN
        p_key := NULL;  -- the first attempt failed and was released: try afresh
    END IF;
    IF previous.in_flight THEN
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

    -- In one statement: the credits move from `remaining` to `held` of the grants, in the spending
    -- order; the wallet's `reserved` grows; the hold records which grants hold them.
    WITH take AS (
        SELECT * FROM wallets_spend_plan(p_wallet, p_amount, p_now, NULL, NULL) WHERE p_amount > 0
    ),
    moved AS (
        UPDATE wallets_grant g SET remaining = g.remaining - take.credits, held = g.held + take.credits
        FROM take WHERE g.wallet_id = p_wallet AND g.id = take.grant_id
        RETURNING g.id
    ),
    taken AS (
        SELECT coalesce(jsonb_agg(jsonb_build_array(take.grant_id, take.credits, take.source, take.cost_basis::text,
                                                    take.currency) ORDER BY take.before), '[]'::jsonb) AS moves,
               coalesce(sum(take.credits), 0) AS credits
        FROM take JOIN moved ON moved.id = take.grant_id
    ),
    wallet_row AS (
        UPDATE wallets_wallet
        SET reserved = reserved + p_amount, holds_due_at = LEAST(coalesce(holds_due_at, p_expires_at), p_expires_at),
            updated_at = p_now
        WHERE id = p_wallet
    )
    INSERT INTO wallets_hold AS nh (wallet_id, action_type, quantity, amount, free_units, period, reference,
                                    idempotency_key, member_id, status, allocations, expires_at, created_at)
    SELECT p_wallet, p_action, p_quantity, p_amount, p_free_units, p_period, left(p_reference, 255), p_key, p_member,
           'held', taken.moves, p_expires_at, p_now
    FROM taken WHERE taken.credits = p_amount
    RETURNING nh.id, nh.allocations INTO hold_id, allocations;
    IF NOT FOUND THEN  -- the statement's changes go with the error
        RAISE EXCEPTION 'wallet % totals and grants disagree: fewer than % credits spendable', p_wallet, p_amount
            USING ERRCODE = 'CR001';
    END IF;
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
""",
        ),
        WriteSql(
            'functions',
            'wallets_ledger_write',
            """-- The ledger writer: one balance change of one locked wallet, as one ledger row. In one statement:
-- the row, its allocations (`p_moves`: [grant id, credits, source, cost basis, currency], credits
-- counted with `p_sign`: +1 into the grants, -1 out of them), the grants' change (of `held` or
-- `remaining`, per `p_grant_column`; NULL: the caller changed them already), the wallet's totals
-- per bucket (wallets_source_bucket), `reserved` (by `p_reserved`), its row count, and the hold
-- this row captures (`p_captured_hold`, or NULL); on a team's wallet, the member whose request it
-- was (`p_member`). Then the low-balance alert on the new available
-- balance: its state saved, and its events written, only when it changes (a rare crossing); and
-- auto-recharge, when the write leaves the available balance below its threshold
-- (wallets_recharge_start: `recharge_id`, the recharge it started, if any).
-- Every change is relative to the locked rows. The database refuses a negative total.
-- Sequential scans off, for the reason wallets_hold_reserve gives.
CREATE OR REPLACE FUNCTION wallets_ledger_write(
    p_wallet integer, p_type text, p_moves jsonb, p_sign integer, p_grant_column text, p_reserved integer,
    p_action text, p_quantity integer, p_reference text, p_description text, p_key text, p_actor integer,
    p_member integer, p_captured_hold bigint, p_now timestamptz,
    OUT entry_id bigint, OUT balance_after integer, OUT available_after integer, OUT event_ids bigint[],
    OUT recharge_id bigint)
LANGUAGE plpgsql SET enable_seqscan = off SET jit = off AS $$
DECLARE
    written record;
    alert record;
    event_type text;
BEGIN
    WITH moves AS (
        SELECT (m->>0)::bigint AS grant_id, p_sign * (m->>1)::integer AS credits, m->>2 AS source,
               (m->>3)::numeric AS cost_basis, coalesce(m->>4, '') AS currency
        FROM jsonb_array_elements(p_moves) AS m
    ),
    totals AS (
        SELECT coalesce(sum(credits) FILTER (WHERE wallets_source_bucket(source) = 'monthly'), 0) AS monthly,
               coalesce(sum(credits) FILTER (WHERE wallets_source_bucket(source) = 'purchased'), 0) AS purchased,
               coalesce(sum(credits) FILTER (WHERE wallets_source_bucket(source) = 'bonus'), 0) AS bonus,
               coalesce(sum(credits), 0)::integer AS delta
        FROM moves
    ),
    wallet_row AS (
        UPDATE wallets_wallet w
        SET monthly_balance = w.monthly_balance + t.monthly, purchased_balance = w.purchased_balance + t.purchased,
            bonus_balance = w.bonus_balance + t.bonus, reserved = w.reserved + p_reserved,
            ledger_rows = w.ledger_rows + 1, updated_at = p_now
        FROM totals t WHERE w.id = p_wallet
        RETURNING w.monthly_balance + w.purchased_balance + w.bonus_balance AS total, w.reserved,
                  w.low_balance_state, w.low_balance_threshold, w.recharge_enabled, w.recharge_threshold, t.delta
    ),
    entry AS (
        INSERT INTO transactions_ledgerentry
            (wallet_id, transaction_type, amount, delta, balance_after, action_type, quantity, reference,
             description, idempotency_key, actor_id, member_id, created_at)
        SELECT p_wallet, p_type, abs(wallet_row.delta), wallet_row.delta, wallet_row.total, coalesce(p_action, ''),
               p_quantity, left(coalesce(p_reference, ''), 255), left(coalesce(p_description, ''), 255), p_key,
               p_actor, p_member, p_now
        FROM wallet_row
        RETURNING id
    ),
    grants AS (
        UPDATE wallets_grant g
        SET remaining = g.remaining + CASE WHEN p_grant_column = 'remaining' THEN m.credits ELSE 0 END,
            held = g.held + CASE WHEN p_grant_column = 'held' THEN m.credits ELSE 0 END
        FROM (SELECT grant_id, sum(credits)::integer AS credits FROM moves GROUP BY grant_id) AS m
        -- The grants by their ids, an index condition whatever the planner guesses of the moves.
        WHERE p_grant_column IS NOT NULL AND g.id = ANY (ARRAY(SELECT grant_id FROM moves)) AND g.wallet_id = p_wallet
          AND g.id = m.grant_id
    ),
    allocated AS (
        INSERT INTO transactions_ledgerallocation
            (entry_id, wallet_id, grant_id, transaction_type, source, amount, cost_basis, currency, created_at)
        SELECT entry.id, p_wallet, moves.grant_id, p_type, moves.source, moves.credits, moves.cost_basis,
               moves.currency, p_now
        FROM entry, moves
    ),
    settled AS (
        UPDATE wallets_hold SET status = 'captured', settled_at = p_now
        WHERE wallet_id = p_wallet AND id = p_captured_hold
    )
    SELECT entry.id, wallet_row.total, wallet_row.total - wallet_row.reserved AS available,
           wallet_row.low_balance_state AS state, wallet_row.low_balance_threshold AS threshold,
           wallet_row.recharge_enabled, wallet_row.recharge_threshold
    INTO written FROM entry, wallet_row;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'wallet % does not exist', p_wallet USING ERRCODE = 'CR002';
    END IF;
    entry_id := written.id;
    balance_after := written.total;
    available_after := written.available;
    -- An expression, not a query: PL/pgSQL evaluates it without starting an executor.
    alert := wallets_alert_transition(written.state, written.available, written.threshold);
    IF alert.state <> written.state THEN
        UPDATE wallets_wallet SET low_balance_state = alert.state WHERE id = p_wallet;
    END IF;
    FOREACH event_type IN ARRAY alert.events LOOP
        event_ids := event_ids || outbox_emit(p_wallet, event_type, jsonb_build_object(
            'available', available_after, 'current_balance', balance_after, 'threshold', written.threshold,
            'ledger_entry_id', entry_id), p_now);
    END LOOP;
    IF written.recharge_enabled AND written.available < written.recharge_threshold THEN
        recharge_id := wallets_recharge_start(p_wallet, written.available, p_now);
    END IF;
END
$$;
""",
            previous="""-- The ledger writer: one balance change of one locked wallet, as one ledger row. In one statement:
-- the row, its allocations (`p_moves`: [grant id, credits, source, cost basis, currency], credits
-- counted with `p_sign`: +1 into the grants, -1 out of them), the grants' change (of `held` or
-- `remaining`, per `p_grant_column`; NULL: the caller changed them already), the wallet's totals
-- per bucket (wallets_source_bucket), `reserved` (by `p_reserved`), its row count, and the hold
-- this row captures (`p_captured_hold`, or NULL); on a team's wallet, the member whose request it
-- was (`p_member`). Then the low-balance alert on the new available
-- balance: its state saved, and its events written, only when it changes (a rare crossing); and
-- auto-recharge, when the write leaves the available balance below its threshold
-- (wallets_recharge_start: `recharge_id`, the recharge it started, if any).
-- Every change is relative to the locked rows. The database refuses a negative total.
CREATE OR REPLACE FUNCTION wallets_ledger_write(
    p_wallet integer, p_type text, p_moves jsonb, p_sign integer, p_grant_column text, p_reserved integer,
    p_action text, p_quantity integer, p_reference text, p_description text, p_key text, p_actor integer,
    p_member integer, p_captured_hold bigint, p_now timestamptz,
    OUT entry_id bigint, OUT balance_after integer, OUT available_after integer, OUT event_ids bigint[],
    OUT recharge_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    written record;
    alert record;
    event_type text;
BEGIN
    WITH moves AS (
        SELECT (m->>0)::bigint AS grant_id, p_sign * (m->>1)::integer AS credits, m->>2 AS source,
               (m->>3)::numeric AS cost_basis, coalesce(m->>4, '') AS currency
        FROM jsonb_array_elements(p_moves) AS m
    ),
    totals AS (
        SELECT coalesce(sum(credits) FILTER (WHERE wallets_source_bucket(source) = 'monthly'), 0) AS monthly,
               coalesce(sum(credits) FILTER (WHERE wallets_source_bucket(source) = 'purchased'), 0) AS purchased,
               coalesce(sum(credits) FILTER (WHERE wallets_source_bucket(source) = 'bonus'), 0) AS bonus,
               coalesce(sum(credits), 0)::integer AS delta
        FROM moves
    ),
    wallet_row AS (
        UPDATE wallets_wallet w
        SET monthly_balance = w.monthly_balance + t.monthly, purchased_balance = w.purchased_balance + t.purchased,
            bonus_balance = w.bonus_balance + t.bonus, reserved = w.reserved + p_reserved,
            ledger_rows = w.ledger_rows + 1, updated_at = p_now
        FROM totals t WHERE w.id = p_wallet
        RETURNING w.monthly_balance + w.purchased_balance + w.bonus_balance AS total, w.reserved,
                  w.low_balance_state, w.low_balance_threshold, w.recharge_enabled, w.recharge_threshold, t.delta
    ),
    entry AS (
        INSERT INTO transactions_ledgerentry
            (wallet_id, transaction_type, amount, delta, balance_after, action_type, quantity, reference,
             description, idempotency_key, actor_id, member_id, created_at)
        SELECT p_wallet, p_type, abs(wallet_row.delta), wallet_row.delta, wallet_row.total, coalesce(p_action, ''),
               p_quantity, left(coalesce(p_reference, ''), 255), left(coalesce(p_description, ''), 255), p_key,
               p_actor, p_member, p_now
        FROM wallet_row
        RETURNING id
    ),
    grants AS (
        UPDATE wallets_grant g
        SET remaining = g.remaining + CASE WHEN p_grant_column = 'remaining' THEN m.credits ELSE 0 END,
            held = g.held + CASE WHEN p_grant_column = 'held' THEN m.credits ELSE 0 END
        FROM (SELECT grant_id, sum(credits)::integer AS credits FROM moves GROUP BY grant_id) AS m
        WHERE p_grant_column IS NOT NULL AND g.wallet_id = p_wallet AND g.id = m.grant_id
    ),
    allocated AS (
        INSERT INTO transactions_ledgerallocation
            (entry_id, wallet_id, grant_id, transaction_type, source, amount, cost_basis, currency, created_at)
        SELECT entry.id, p_wallet, moves.grant_id, p_type, moves.source, moves.credits, moves.cost_basis,
               moves.currency, p_now
        FROM entry, moves
    ),
    settled AS (
        UPDATE wallets_hold SET status = 'captured', settled_at = p_now
        WHERE wallet_id = p_wallet AND id = p_captured_hold
    )
    SELECT entry.id, wallet_row.total, wallet_row.total - wallet_row.reserved AS available,
           wallet_row.low_balance_state AS state, wallet_row.low_balance_threshold AS threshold,
           wallet_row.recharge_enabled, wallet_row.recharge_threshold
    INTO written FROM entry, wallet_row;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'wallet % does not exist', p_wallet USING ERRCODE = 'CR002';
    END IF;
    entry_id := written.id;
    balance_after := written.total;
    available_after := written.available;
    -- An expression, not a query: PL/pgSQL evaluates it without starting an executor.
    alert := wallets_alert_transition(written.state, written.available, written.threshold);
    IF alert.state <> written.state THEN
        UPDATE wallets_wallet SET low_balance_state = alert.state WHERE id = p_wallet;
    END IF;
    FOREACH event_type IN ARRAY alert.events LOOP
        event_ids := event_ids || outbox_emit(p_wallet, event_type, jsonb_build_object(
            'available', available_after, 'current_balance', balance_after, 'threshold', written.threshold,
            'ledger_entry_id', entry_id), p_now);
    END LOOP;
    IF written.recharge_enabled AND written.available < written.recharge_threshold THEN
        recharge_id := wallets_recharge_start(p_wallet, written.available, p_now);
    END IF;
END
$$;
""",
        ),
        WriteSql(
            'functions',
            'wallets_purchase_ask',
            """-- The gate's ask, read only and nothing locked: the wallet's figures (no wallet: `status` NULL),
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
""",
            previous="""-- The gate's ask, read only and nothing locked: the wallet's figures (no wallet: `status` NULL),
-- whether something is due on it (wallets_is_due),
-- "paid already?" (wallets_access_paid), this month's free units of the action used or held, and
-- the pricing rules' version (for the process's cached rule). A function so that its plans are
-- kept per connection.
CREATE OR REPLACE FUNCTION wallets_purchase_ask(
    p_wallet integer, p_action text, p_reference text, p_period date, p_now timestamptz,
    OUT status text, OUT balance integer, OUT reserved integer, OUT billing_cycle_start date,
    OUT due boolean, OUT already_paid boolean, OUT free_used integer, OUT rules_version bigint)
LANGUAGE plpgsql STABLE AS $$
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
""",
        ),
    ]
