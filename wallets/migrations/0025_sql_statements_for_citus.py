"""Frozen copies of wallets/db/ (wallets_announce_expiring, wallets_catch_up, wallets_grants_add, wallets_hold_release, wallets_hold_reserve, wallets_recharge_start, wallets_roll_over, wallets_spend_plan, wallets_take), written by `manage.py sqlmigrations`.

Do not edit: change the file under wallets/db/ and run the command again."""

from django.db import migrations

from common.sql_migrations import WriteSql


class Migration(migrations.Migration):
    dependencies = [('wallets', '0024_citus_keys')]

    operations = [
        WriteSql(
            'functions',
            'wallets_announce_expiring',
            """-- `credits.expiring`: the grants of `p_wallets` (not monthly or rollover: those end at every reset,
-- which `next_reset` announces) with credits left that expire within (p_now, p_until] and were not
-- announced yet: marked, and one outbox row each. SKIP LOCKED: a grant a writer has locked right
-- now is announced by the next run. Named by wallet, so the wallets of one shard are one statement
-- there (Citus locks within a shard only). Returns how many.
CREATE OR REPLACE FUNCTION wallets_announce_expiring(p_wallets integer[], p_now timestamptz, p_until timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    announced integer;
BEGIN
    WITH due AS (
        SELECT id, wallet_id FROM wallets_grant
        WHERE wallet_id = ANY (p_wallets) AND remaining > 0 AND expiring_notified_at IS NULL
          AND source NOT IN ('monthly', 'rollover') AND expires_at > p_now AND expires_at <= p_until
        ORDER BY wallet_id, id
        FOR UPDATE SKIP LOCKED
    ),
    marked AS (
        UPDATE wallets_grant g SET expiring_notified_at = p_now FROM due WHERE g.wallet_id = due.wallet_id AND g.id = due.id
        RETURNING g.id, g.wallet_id, g.source, g.remaining, g.expires_at, g.reason
    )
    INSERT INTO outbox_outboxevent (wallet_id, event_type, data, created_at)
    SELECT m.wallet_id, 'credits.expiring',
           outbox_event_data(m.wallet_id, (SELECT u.username FROM auth_user u WHERE u.id = m.wallet_id),
                             jsonb_build_object('grant_id', m.id, 'source', m.source, 'credits', m.remaining,
                                                'expires_at', m.expires_at, 'reason', m.reason)),
           p_now
    FROM marked m;
    GET DIAGNOSTICS announced = ROW_COUNT;
    RETURN announced;
END
$$;
""",
            previous="""-- `credits.expiring`: grants (not monthly or rollover: those end at every reset, which `next_reset`
-- announces) with credits left that expire within (p_now, p_until] and were not announced yet,
-- at most `p_limit` of them: marked, and one outbox row each. SKIP LOCKED: a grant a writer has
-- locked right now is announced by the next run. Returns how many.
CREATE OR REPLACE FUNCTION wallets_announce_expiring(p_now timestamptz, p_until timestamptz, p_limit integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    announced integer;
BEGIN
    WITH due AS (
        SELECT id, wallet_id FROM wallets_grant
        WHERE remaining > 0 AND expiring_notified_at IS NULL AND source NOT IN ('monthly', 'rollover')
          AND expires_at > p_now AND expires_at <= p_until
        ORDER BY id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    ),
    marked AS (
        UPDATE wallets_grant g SET expiring_notified_at = p_now FROM due WHERE g.wallet_id = due.wallet_id AND g.id = due.id
        RETURNING g.id, g.wallet_id, g.source, g.remaining, g.expires_at, g.reason
    )
    INSERT INTO outbox_outboxevent (wallet_id, event_type, data, created_at)
    SELECT m.wallet_id, 'credits.expiring',
           outbox_event_data(m.wallet_id, jsonb_build_object('grant_id', m.id, 'source', m.source,
                                                             'credits', m.remaining, 'expires_at', m.expires_at,
                                                             'reason', m.reason)),
           p_now
    FROM marked m;
    GET DIAGNOSTICS announced = ROW_COUNT;
    RETURN announced;
END
$$;
""",
        ),
        WriteSql(
            'functions',
            'wallets_catch_up',
            """-- Settle on the spot whatever is due on a wallet, whether or not a job ran (the periodic jobs only
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
""",
            previous="""-- Settle on the spot whatever is due on a wallet, whether or not a job ran (the periodic jobs only
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
        reset := wallets_roll_over(p_wallet, p_wallet + 1, p_period, p_now) > 0;
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
""",
        ),
        WriteSql(
            'functions',
            'wallets_grants_add',
            """-- Add a grant to each of a set of wallets, one statement for the set (a top-up is a set of one, a
-- staff campaign thousands): per wallet, the grant (`p_amount` credits of `p_source`, priority
-- `p_priority` or the source's default, expiring at `p_expires_at` or never), one ledger row of
-- `p_type` with its allocation, the wallet's totals, row count and next expiry, the low-balance
-- alert decided on the new available balance, and the events: the alert's (if it changes), then
-- `p_event` (if given) with `p_event_data` and the wallet's figures. With `p_key`, a wallet that
-- already has that grant gets nothing again (a retry, a second run or a concurrent one).
-- Returns (wallet, ledger row, grant, its events) for each wallet credited now.
CREATE OR REPLACE FUNCTION wallets_grants_add(
    p_wallets integer[], p_source text, p_amount integer, p_type text, p_priority integer,
    p_expires_at timestamptz, p_cost_basis numeric, p_currency text, p_reason text, p_reference text,
    p_description text, p_key text, p_actor integer, p_event text, p_event_data jsonb, p_now timestamptz)
RETURNS TABLE (wallet_id integer, entry_id bigint, grant_id bigint, event_ids bigint[])
LANGUAGE plpgsql
-- Every join here is between sets of the batch's size, which the planner cannot estimate for
-- data-modifying CTEs (it guesses a handful, and a nested loop over thousands is quadratic);
-- JIT's compile time for a statement this size is longer than running it.
SET enable_nestloop = off SET jit = off
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH target AS (
        SELECT w.id AS wallet_id, w.monthly_balance + w.purchased_balance + w.bonus_balance AS total, w.reserved,
               w.low_balance_state, w.low_balance_threshold
        FROM wallets_wallet w
        WHERE w.id = ANY (p_wallets)
        FOR UPDATE OF w
    ),
    new_grants AS (
        INSERT INTO wallets_grant
            (wallet_id, source, amount, remaining, held, priority, effective_at, expires_at, cost_basis,
             currency, reason, reference, idempotency_key, actor_id, created_at)
        SELECT wallet_id, p_source, p_amount, p_amount, 0, coalesce(p_priority, wallets_source_priority(p_source)),
               p_now, p_expires_at, p_cost_basis, p_currency, left(p_reason, 255), left(p_reference, 255), p_key,
               p_actor, p_now
        FROM target
        ON CONFLICT (wallet_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id, wallet_id
    ),
    changed AS (
        SELECT t.wallet_id, g.id AS grant_id, t.total + p_amount AS total, t.total + p_amount - t.reserved AS available,
               t.low_balance_threshold AS threshold, a.state, a.events
        FROM new_grants g
        JOIN target t ON t.wallet_id = g.wallet_id
        CROSS JOIN LATERAL wallets_alert_transition(t.low_balance_state, t.total + p_amount - t.reserved,
                                                    t.low_balance_threshold) AS a
    ),
    entries AS (
        INSERT INTO transactions_ledgerentry
            (wallet_id, transaction_type, amount, delta, balance_after, action_type, quantity,
             reference, description, idempotency_key, actor_id, created_at)
        SELECT wallet_id, p_type, p_amount, p_amount, total, '', 1, left(p_reference, 255), left(p_description, 255),
               p_key, p_actor, p_now
        FROM changed
        ON CONFLICT (wallet_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id, wallet_id
    ),
    allocations AS (
        INSERT INTO transactions_ledgerallocation
            (entry_id, wallet_id, grant_id, transaction_type, source, amount, cost_basis, currency, created_at)
        SELECT e.id, e.wallet_id, c.grant_id, p_type, p_source, p_amount, p_cost_basis, p_currency, p_now
        FROM entries e JOIN changed c ON c.wallet_id = e.wallet_id
    ),
    events AS (
        INSERT INTO outbox_outboxevent (wallet_id, event_type, data, created_at)
        SELECT e.wallet_id, ev.event_type,
               outbox_event_data(e.wallet_id, (SELECT u.username FROM auth_user u WHERE u.id = e.wallet_id), ev.data),
               p_now
        FROM entries e
        JOIN changed c ON c.wallet_id = e.wallet_id
        CROSS JOIN LATERAL (
            SELECT a.event_type, a.n,
                   jsonb_build_object('available', c.available, 'current_balance', c.total,
                                      'threshold', c.threshold, 'ledger_entry_id', e.id) AS data
            FROM unnest(c.events) WITH ORDINALITY AS a(event_type, n)
            UNION ALL
            SELECT p_event, 1000, p_event_data || jsonb_build_object(
                       'available', c.available, 'current_balance', c.total, 'ledger_entry_id', e.id,
                       'grant_id', c.grant_id)
            WHERE p_event IS NOT NULL
        ) AS ev
        ORDER BY e.wallet_id, ev.n  -- a wallet's events in the order they happened
        RETURNING id, wallet_id
    ),
    wallet_events AS (
        SELECT events.wallet_id, array_agg(events.id ORDER BY events.id) AS ids FROM events GROUP BY events.wallet_id
    )
    UPDATE wallets_wallet w
    SET monthly_balance = w.monthly_balance + CASE wallets_source_bucket(p_source) WHEN 'monthly' THEN p_amount ELSE 0 END,
        purchased_balance = w.purchased_balance + CASE wallets_source_bucket(p_source) WHEN 'purchased' THEN p_amount ELSE 0 END,
        bonus_balance = w.bonus_balance + CASE wallets_source_bucket(p_source) WHEN 'bonus' THEN p_amount ELSE 0 END,
        ledger_rows = w.ledger_rows + 1,
        low_balance_state = c.state,
        grants_due_at = CASE WHEN p_expires_at IS NULL THEN w.grants_due_at
                             ELSE LEAST(coalesce(w.grants_due_at, p_expires_at), p_expires_at) END,
        updated_at = p_now
    FROM entries e
    JOIN changed c ON c.wallet_id = e.wallet_id
    LEFT JOIN wallet_events x ON x.wallet_id = e.wallet_id
    WHERE w.id = e.wallet_id AND w.id = ANY (p_wallets)  -- the batch again: its wallets, not a scan
    RETURNING w.id, e.id, c.grant_id, x.ids;
END
$$;
""",
            previous="""-- Add a grant to each of a set of wallets, one statement for the set (a top-up is a set of one, a
-- staff campaign thousands): per wallet, the grant (`p_amount` credits of `p_source`, priority
-- `p_priority` or the source's default, expiring at `p_expires_at` or never), one ledger row of
-- `p_type` with its allocation, the wallet's totals, row count and next expiry, the low-balance
-- alert decided on the new available balance, and the events: the alert's (if it changes), then
-- `p_event` (if given) with `p_event_data` and the wallet's figures. With `p_key`, a wallet that
-- already has that grant gets nothing again (a retry, a second run or a concurrent one).
-- Returns (wallet, ledger row, grant, its events) for each wallet credited now.
CREATE OR REPLACE FUNCTION wallets_grants_add(
    p_wallets integer[], p_source text, p_amount integer, p_type text, p_priority integer,
    p_expires_at timestamptz, p_cost_basis numeric, p_currency text, p_reason text, p_reference text,
    p_description text, p_key text, p_actor integer, p_event text, p_event_data jsonb, p_now timestamptz)
RETURNS TABLE (wallet_id integer, entry_id bigint, grant_id bigint, event_ids bigint[])
LANGUAGE plpgsql
-- Every join here is between sets of the batch's size, which the planner cannot estimate for
-- data-modifying CTEs (it guesses a handful, and a nested loop over thousands is quadratic);
-- JIT's compile time for a statement this size is longer than running it.
SET enable_nestloop = off SET jit = off
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH target AS (
        SELECT w.id AS wallet_id, w.monthly_balance + w.purchased_balance + w.bonus_balance AS total, w.reserved,
               w.low_balance_state, w.low_balance_threshold
        FROM wallets_wallet w
        WHERE w.id = ANY (p_wallets)
        FOR UPDATE OF w
    ),
    new_grants AS (
        INSERT INTO wallets_grant
            (wallet_id, source, amount, remaining, held, priority, effective_at, expires_at, cost_basis,
             currency, reason, reference, idempotency_key, actor_id, created_at)
        SELECT wallet_id, p_source, p_amount, p_amount, 0, coalesce(p_priority, wallets_source_priority(p_source)),
               p_now, p_expires_at, p_cost_basis, p_currency, left(p_reason, 255), left(p_reference, 255), p_key,
               p_actor, p_now
        FROM target
        ON CONFLICT (wallet_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id, wallet_id
    ),
    changed AS (
        SELECT t.wallet_id, g.id AS grant_id, t.total + p_amount AS total, t.total + p_amount - t.reserved AS available,
               t.low_balance_threshold AS threshold, a.state, a.events
        FROM new_grants g
        JOIN target t ON t.wallet_id = g.wallet_id
        CROSS JOIN LATERAL wallets_alert_transition(t.low_balance_state, t.total + p_amount - t.reserved,
                                                    t.low_balance_threshold) AS a
    ),
    entries AS (
        INSERT INTO transactions_ledgerentry
            (wallet_id, transaction_type, amount, delta, balance_after, action_type, quantity,
             reference, description, idempotency_key, actor_id, created_at)
        SELECT wallet_id, p_type, p_amount, p_amount, total, '', 1, left(p_reference, 255), left(p_description, 255),
               p_key, p_actor, p_now
        FROM changed
        ON CONFLICT (wallet_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id, wallet_id
    ),
    allocations AS (
        INSERT INTO transactions_ledgerallocation
            (entry_id, wallet_id, grant_id, transaction_type, source, amount, cost_basis, currency, created_at)
        SELECT e.id, e.wallet_id, c.grant_id, p_type, p_source, p_amount, p_cost_basis, p_currency, p_now
        FROM entries e JOIN changed c ON c.wallet_id = e.wallet_id
    ),
    events AS (
        INSERT INTO outbox_outboxevent (wallet_id, event_type, data, created_at)
        SELECT e.wallet_id, ev.event_type, outbox_event_data(e.wallet_id, ev.data), p_now
        FROM entries e
        JOIN changed c ON c.wallet_id = e.wallet_id
        CROSS JOIN LATERAL (
            SELECT a.event_type, a.n,
                   jsonb_build_object('available', c.available, 'current_balance', c.total,
                                      'threshold', c.threshold, 'ledger_entry_id', e.id) AS data
            FROM unnest(c.events) WITH ORDINALITY AS a(event_type, n)
            UNION ALL
            SELECT p_event, 1000, p_event_data || jsonb_build_object(
                       'available', c.available, 'current_balance', c.total, 'ledger_entry_id', e.id,
                       'grant_id', c.grant_id)
            WHERE p_event IS NOT NULL
        ) AS ev
        ORDER BY e.wallet_id, ev.n  -- a wallet's events in the order they happened
        RETURNING id, wallet_id
    ),
    wallet_events AS (
        SELECT events.wallet_id, array_agg(events.id ORDER BY events.id) AS ids FROM events GROUP BY events.wallet_id
    )
    UPDATE wallets_wallet w
    SET monthly_balance = w.monthly_balance + CASE wallets_source_bucket(p_source) WHEN 'monthly' THEN p_amount ELSE 0 END,
        purchased_balance = w.purchased_balance + CASE wallets_source_bucket(p_source) WHEN 'purchased' THEN p_amount ELSE 0 END,
        bonus_balance = w.bonus_balance + CASE wallets_source_bucket(p_source) WHEN 'bonus' THEN p_amount ELSE 0 END,
        ledger_rows = w.ledger_rows + 1,
        low_balance_state = c.state,
        grants_due_at = CASE WHEN p_expires_at IS NULL THEN w.grants_due_at
                             ELSE LEAST(coalesce(w.grants_due_at, p_expires_at), p_expires_at) END,
        updated_at = p_now
    FROM entries e
    JOIN changed c ON c.wallet_id = e.wallet_id
    LEFT JOIN wallet_events x ON x.wallet_id = e.wallet_id
    WHERE w.id = e.wallet_id AND w.id = ANY (p_wallets)  -- the batch again: its wallets, not a scan
    RETURNING w.id, e.id, c.grant_id, x.ids;
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
                PERFORM wallets_roll_over(p_wallet, p_wallet + 1, ARRAY[p_wallet], wallets_period_of(p_now), p_now);
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
        ),
        WriteSql(
            'functions',
            'wallets_recharge_start',
            """-- Auto-recharge, decided by the ledger writer on the locked wallet row: a write left `p_available`
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
""",
            previous="""-- Auto-recharge, decided by the ledger writer on the locked wallet row: a write left `p_available`
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
    INSERT INTO wallets_recharge AS r (wallet_id, credits, period, status, payment_intent, failure, created_at,
                                       updated_at)
    SELECT p_wallet, credits, this_month, 'pending', '', '', p_now, p_now
    WHERE (SELECT coalesce(sum(m.credits), 0) FROM wallets_recharge m
           WHERE m.wallet_id = p_wallet AND m.period = this_month AND m.status <> 'failed')
          + credits <= w.recharge_monthly_limit
    ON CONFLICT (wallet_id) WHERE status IN ('pending', 'processing') DO NOTHING
    RETURNING r.id INTO started;
    RETURN started;
END
$$;
""",
        ),
        WriteSql(
            'functions',
            'wallets_roll_over',
            """-- The monthly reset of the due wallets with p_low <= id < p_high (of `p_wallets` only, if given)
-- into `p_period`, in one statement:
-- monthly and rollover grants whose period has ended expire, except what the last month's grant
-- rolls over (up to the package's cap) into a `rollover` grant ending with the new period, and the
-- package's monthly grant is added. Ledger: one `expiry` row (the total expired) and one
-- `monthly_grant` row; the rollover is a move between grants recorded as allocations of the
-- month's grant row. Held credits sit in `held`, not `remaining`, so a request in flight never
-- loses them. A new wallet's first grant is this reset too (its cycle starts a month back).
-- The monthly grant is what wallets_period_credits says is owed: nothing to a wallet whose paid
-- subscription has not paid the period yet (its invoice grants it, wallets_period_grant.sql), whose
-- rollover still moves (recorded on a `monthly_grant` row of 0 credits).
-- Locked wallets get nothing. Wallets another transaction has locked are skipped: that one
-- settles its wallet itself, or the job's last pass does. Unique (wallet, key) indexes make a
-- second, concurrent or repeated run write nothing twice. Returns how many wallets were reset.
-- On Citus the statement must name its wallets (`p_wallets`: those of one shard, wallets.shards) to
-- lock them: it refuses FOR UPDATE across shards, and a range of a hashed key spans them all. On
-- plain PostgreSQL the job gives the range alone (NULL), read as one index range.
CREATE OR REPLACE FUNCTION wallets_roll_over(p_low integer, p_high integer, p_wallets integer[], p_period date,
                                             p_now timestamptz)
RETURNS integer LANGUAGE plpgsql
-- Every join is between sets of the batch's size, which the planner cannot estimate for
-- data-modifying CTEs (it guesses a handful: a nested loop over thousands of rows is quadratic);
-- JIT's compile time for a statement this size is longer than running it; each batch's range is
-- planned for its own range (NULL wallets: the condition folds away), as its own statement would be.
SET enable_nestloop = off SET jit = off SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    label text := to_char(p_period, 'YYYY-MM');
    period_start timestamptz := p_period::timestamp AT TIME ZONE 'UTC';
    next_start timestamptz := (p_period + interval '1 month')::timestamp AT TIME ZONE 'UTC';
    reset integer;
BEGIN
    WITH due AS (
        SELECT w.id AS wallet_id, w.monthly_balance + w.purchased_balance + w.bonus_balance AS total,
               p.monthly_credits, wallets_period_credits(p.monthly_credits, w.paid_through, p_period) AS owed,
               p.rollover_cap, p.name AS package_name
        FROM wallets_wallet w
        JOIN pricing_package p ON p.id = w.package_id
        WHERE w.id >= p_low AND w.id < p_high AND (p_wallets IS NULL OR w.id = ANY (p_wallets))
          AND w.status = 'active'
          AND w.billing_cycle_start < p_period
        FOR UPDATE OF w SKIP LOCKED
    ),
    old AS (
        SELECT g.id, g.wallet_id, g.source, g.remaining,
               (g.source = 'monthly' AND g.expires_at = period_start) AS is_last_monthly
        FROM wallets_grant g
        JOIN due ON due.wallet_id = g.wallet_id
        WHERE g.wallet_id >= p_low AND g.wallet_id < p_high  -- the batch again: only its grants are read
          AND (p_wallets IS NULL OR g.wallet_id = ANY (p_wallets))
          AND g.source IN ('monthly', 'rollover') AND g.remaining > 0 AND g.expires_at <= period_start
    ),
    calc AS (
        SELECT due.wallet_id, due.total, due.owed, due.package_name,
               CASE WHEN due.monthly_credits > 0
                    THEN LEAST(due.rollover_cap, COALESCE(SUM(old.remaining) FILTER (WHERE old.is_last_monthly), 0))
                    ELSE 0 END AS roll,
               COALESCE(SUM(old.remaining), 0) AS old_left
        FROM due
        LEFT JOIN old ON old.wallet_id = due.wallet_id
        GROUP BY due.wallet_id, due.total, due.monthly_credits, due.owed, due.package_name, due.rollover_cap
    ),
    shares AS (
        -- The part of the rollover each of last month's grants gives, in id order: a month may have
        -- several (its grant, a subscription's partial first period, an upgrade's difference).
        SELECT old.id, old.wallet_id, old.source, old.remaining,
               CASE WHEN old.is_last_monthly
                    THEN GREATEST(0, LEAST(old.remaining, calc.roll - COALESCE(SUM(old.remaining) FILTER (
                        WHERE old.is_last_monthly) OVER (PARTITION BY old.wallet_id ORDER BY old.id
                                                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)))
                    ELSE 0 END AS rolled
        FROM old JOIN calc ON calc.wallet_id = old.wallet_id
    ),
    emptied AS (
        -- `remaining > 0` (true of every grant in old) lets the spending index find the batch's grants.
        UPDATE wallets_grant g SET remaining = 0, expired_at = p_now
        FROM old WHERE g.id = old.id AND g.wallet_id = old.wallet_id
          AND g.wallet_id >= p_low AND g.wallet_id < p_high
          AND (p_wallets IS NULL OR g.wallet_id = ANY (p_wallets)) AND g.remaining > 0
    ),
    new_grants AS (
        INSERT INTO wallets_grant
            (wallet_id, source, amount, remaining, held, priority, effective_at, expires_at, cost_basis,
             currency, reason, reference, idempotency_key, created_at)
        SELECT wallet_id, source, amount, amount, 0, wallets_source_priority(source), period_start, next_start, 0,
               '', reason, label, key, p_now
        FROM (
            SELECT wallet_id, 'rollover' AS source, roll AS amount,
                   'Unused monthly credits rolled over into ' || label AS reason, 'rollover:' || label AS key
            FROM calc WHERE roll > 0
            UNION ALL
            SELECT wallet_id, 'monthly', owed, 'Monthly credits for ' || label || ' (' || package_name || ')',
                   'monthly:' || label
            FROM calc WHERE owed > 0
        ) AS rows
        ON CONFLICT (wallet_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id, wallet_id, source, amount
    ),
    entries AS (
        -- One INSERT for both rows, ordered so each wallet's expiry precedes its grant in id order.
        INSERT INTO transactions_ledgerentry
            (wallet_id, transaction_type, amount, delta, balance_after, action_type, quantity,
             reference, description, idempotency_key, created_at)
        SELECT wallet_id, kind, amount, delta, balance_after, '', 1, '', description, key, p_now
        FROM (
            SELECT wallet_id, 1 AS step, 'expiry' AS kind, old_left - roll AS amount, roll - old_left AS delta,
                   total - (old_left - roll) AS balance_after,
                   'Unused monthly credits expired at the ' || label || ' reset' AS description,
                   'expiry:' || label AS key
            FROM calc WHERE old_left - roll > 0
            UNION ALL
            -- Also written (for 0 credits) when only the rollover moves: it carries the move's allocations.
            SELECT wallet_id, 2, 'monthly_grant', owed, owed,
                   total - (old_left - roll) + owed,
                   CASE WHEN owed > 0 THEN 'Monthly credits for ' || label || ' (' || package_name || ')'
                        ELSE 'Unused monthly credits rolled over into ' || label || ' (its credits come when paid)'
                   END,
                   'monthly_grant:' || label
            FROM calc WHERE owed > 0 OR roll > 0
        ) AS rows
        ORDER BY wallet_id, step
        ON CONFLICT (wallet_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id, wallet_id, transaction_type
    ),
    allocations AS (
        INSERT INTO transactions_ledgerallocation
            (entry_id, wallet_id, grant_id, transaction_type, source, amount, cost_basis, currency, created_at)
        SELECT e.id, e.wallet_id, s.id, 'expiry', s.source, -(s.remaining - s.rolled), 0, '', p_now
        FROM entries e
        JOIN shares s ON s.wallet_id = e.wallet_id
        WHERE e.transaction_type = 'expiry' AND s.remaining - s.rolled > 0
        UNION ALL
        SELECT e.id, e.wallet_id, g.id, 'monthly_grant', g.source, g.amount, 0, '', p_now
        FROM entries e
        JOIN new_grants g ON g.wallet_id = e.wallet_id
        WHERE e.transaction_type = 'monthly_grant'
        UNION ALL
        SELECT e.id, e.wallet_id, s.id, 'monthly_grant', s.source, -s.rolled, 0, '', p_now
        FROM entries e
        JOIN shares s ON s.wallet_id = e.wallet_id
        WHERE e.transaction_type = 'monthly_grant' AND s.rolled > 0
    )
    UPDATE wallets_wallet w
    SET monthly_balance = w.monthly_balance - (calc.old_left - calc.roll) + calc.owed,
        ledger_rows = w.ledger_rows + (calc.old_left - calc.roll > 0)::int + (calc.owed > 0 OR calc.roll > 0)::int,
        billing_cycle_start = p_period,
        grants_due_at = LEAST(COALESCE(w.grants_due_at, next_start), next_start),
        updated_at = p_now
    FROM calc
    WHERE w.id = calc.wallet_id AND w.id >= p_low AND w.id < p_high
      AND (p_wallets IS NULL OR w.id = ANY (p_wallets));
    GET DIAGNOSTICS reset = ROW_COUNT;
    RETURN reset;
END
$$;
""",
            previous="""-- The monthly reset of the due wallets with p_low <= id < p_high into `p_period`, in one statement:
-- monthly and rollover grants whose period has ended expire, except what the last month's grant
-- rolls over (up to the package's cap) into a `rollover` grant ending with the new period, and the
-- package's monthly grant is added. Ledger: one `expiry` row (the total expired) and one
-- `monthly_grant` row; the rollover is a move between grants recorded as allocations of the
-- month's grant row. Held credits sit in `held`, not `remaining`, so a request in flight never
-- loses them. A new wallet's first grant is this reset too (its cycle starts a month back).
-- The monthly grant is what wallets_period_credits says is owed: nothing to a wallet whose paid
-- subscription has not paid the period yet (its invoice grants it, wallets_period_grant.sql), whose
-- rollover still moves (recorded on a `monthly_grant` row of 0 credits).
-- Locked wallets get nothing. Wallets another transaction has locked are skipped: that one
-- settles its wallet itself, or the job's last pass does. Unique (wallet, key) indexes make a
-- second, concurrent or repeated run write nothing twice. Returns how many wallets were reset.
CREATE OR REPLACE FUNCTION wallets_roll_over(p_low integer, p_high integer, p_period date, p_now timestamptz)
RETURNS integer LANGUAGE plpgsql
-- Every join is between sets of the batch's size, which the planner cannot estimate for
-- data-modifying CTEs (it guesses a handful: a nested loop over thousands of rows is quadratic);
-- JIT's compile time for a statement this size is longer than running it; each batch's range is
-- planned for itself, as its own statement would be.
SET enable_nestloop = off SET jit = off SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    label text := to_char(p_period, 'YYYY-MM');
    period_start timestamptz := p_period::timestamp AT TIME ZONE 'UTC';
    next_start timestamptz := (p_period + interval '1 month')::timestamp AT TIME ZONE 'UTC';
    reset integer;
BEGIN
    WITH due AS (
        SELECT w.id AS wallet_id, w.monthly_balance + w.purchased_balance + w.bonus_balance AS total,
               p.monthly_credits, wallets_period_credits(p.monthly_credits, w.paid_through, p_period) AS owed,
               p.rollover_cap, p.name AS package_name
        FROM wallets_wallet w
        JOIN pricing_package p ON p.id = w.package_id
        WHERE w.id >= p_low AND w.id < p_high
          AND w.status = 'active'
          AND w.billing_cycle_start < p_period
        FOR UPDATE OF w SKIP LOCKED
    ),
    old AS (
        SELECT g.id, g.wallet_id, g.source, g.remaining,
               (g.source = 'monthly' AND g.expires_at = period_start) AS is_last_monthly
        FROM wallets_grant g
        JOIN due ON due.wallet_id = g.wallet_id
        WHERE g.wallet_id >= p_low AND g.wallet_id < p_high  -- the batch's range again: only its grants are read
          AND g.source IN ('monthly', 'rollover') AND g.remaining > 0 AND g.expires_at <= period_start
    ),
    calc AS (
        SELECT due.wallet_id, due.total, due.owed, due.package_name,
               CASE WHEN due.monthly_credits > 0
                    THEN LEAST(due.rollover_cap, COALESCE(SUM(old.remaining) FILTER (WHERE old.is_last_monthly), 0))
                    ELSE 0 END AS roll,
               COALESCE(SUM(old.remaining), 0) AS old_left
        FROM due
        LEFT JOIN old ON old.wallet_id = due.wallet_id
        GROUP BY due.wallet_id, due.total, due.monthly_credits, due.owed, due.package_name, due.rollover_cap
    ),
    shares AS (
        -- The part of the rollover each of last month's grants gives, in id order: a month may have
        -- several (its grant, a subscription's partial first period, an upgrade's difference).
        SELECT old.id, old.wallet_id, old.source, old.remaining,
               CASE WHEN old.is_last_monthly
                    THEN GREATEST(0, LEAST(old.remaining, calc.roll - COALESCE(SUM(old.remaining) FILTER (
                        WHERE old.is_last_monthly) OVER (PARTITION BY old.wallet_id ORDER BY old.id
                                                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)))
                    ELSE 0 END AS rolled
        FROM old JOIN calc ON calc.wallet_id = old.wallet_id
    ),
    emptied AS (
        -- `remaining > 0` (true of every grant in old) lets the spending index find the batch's grants.
        UPDATE wallets_grant g SET remaining = 0, expired_at = p_now
        FROM old WHERE g.id = old.id AND g.wallet_id = old.wallet_id
          AND g.wallet_id >= p_low AND g.wallet_id < p_high AND g.remaining > 0
    ),
    new_grants AS (
        INSERT INTO wallets_grant
            (wallet_id, source, amount, remaining, held, priority, effective_at, expires_at, cost_basis,
             currency, reason, reference, idempotency_key, created_at)
        SELECT wallet_id, source, amount, amount, 0, wallets_source_priority(source), period_start, next_start, 0,
               '', reason, label, key, p_now
        FROM (
            SELECT wallet_id, 'rollover' AS source, roll AS amount,
                   'Unused monthly credits rolled over into ' || label AS reason, 'rollover:' || label AS key
            FROM calc WHERE roll > 0
            UNION ALL
            SELECT wallet_id, 'monthly', owed, 'Monthly credits for ' || label || ' (' || package_name || ')',
                   'monthly:' || label
            FROM calc WHERE owed > 0
        ) AS rows
        ON CONFLICT (wallet_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id, wallet_id, source, amount
    ),
    entries AS (
        -- One INSERT for both rows, ordered so each wallet's expiry precedes its grant in id order.
        INSERT INTO transactions_ledgerentry
            (wallet_id, transaction_type, amount, delta, balance_after, action_type, quantity,
             reference, description, idempotency_key, created_at)
        SELECT wallet_id, kind, amount, delta, balance_after, '', 1, '', description, key, p_now
        FROM (
            SELECT wallet_id, 1 AS step, 'expiry' AS kind, old_left - roll AS amount, roll - old_left AS delta,
                   total - (old_left - roll) AS balance_after,
                   'Unused monthly credits expired at the ' || label || ' reset' AS description,
                   'expiry:' || label AS key
            FROM calc WHERE old_left - roll > 0
            UNION ALL
            -- Also written (for 0 credits) when only the rollover moves: it carries the move's allocations.
            SELECT wallet_id, 2, 'monthly_grant', owed, owed,
                   total - (old_left - roll) + owed,
                   CASE WHEN owed > 0 THEN 'Monthly credits for ' || label || ' (' || package_name || ')'
                        ELSE 'Unused monthly credits rolled over into ' || label || ' (its credits come when paid)'
                   END,
                   'monthly_grant:' || label
            FROM calc WHERE owed > 0 OR roll > 0
        ) AS rows
        ORDER BY wallet_id, step
        ON CONFLICT (wallet_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id, wallet_id, transaction_type
    ),
    allocations AS (
        INSERT INTO transactions_ledgerallocation
            (entry_id, wallet_id, grant_id, transaction_type, source, amount, cost_basis, currency, created_at)
        SELECT e.id, e.wallet_id, s.id, 'expiry', s.source, -(s.remaining - s.rolled), 0, '', p_now
        FROM entries e
        JOIN shares s ON s.wallet_id = e.wallet_id
        WHERE e.transaction_type = 'expiry' AND s.remaining - s.rolled > 0
        UNION ALL
        SELECT e.id, e.wallet_id, g.id, 'monthly_grant', g.source, g.amount, 0, '', p_now
        FROM entries e
        JOIN new_grants g ON g.wallet_id = e.wallet_id
        WHERE e.transaction_type = 'monthly_grant'
        UNION ALL
        SELECT e.id, e.wallet_id, s.id, 'monthly_grant', s.source, -s.rolled, 0, '', p_now
        FROM entries e
        JOIN shares s ON s.wallet_id = e.wallet_id
        WHERE e.transaction_type = 'monthly_grant' AND s.rolled > 0
    )
    UPDATE wallets_wallet w
    SET monthly_balance = w.monthly_balance - (calc.old_left - calc.roll) + calc.owed,
        ledger_rows = w.ledger_rows + (calc.old_left - calc.roll > 0)::int + (calc.owed > 0 OR calc.roll > 0)::int,
        billing_cycle_start = p_period,
        grants_due_at = LEAST(COALESCE(w.grants_due_at, next_start), next_start),
        updated_at = p_now
    FROM calc
    WHERE w.id = calc.wallet_id AND w.id >= p_low AND w.id < p_high;
    GET DIAGNOSTICS reset = ROW_COUNT;
    RETURN reset;
END
$$;
""",
        ),
        WriteSql(
            'functions',
            'wallets_spend_plan',
            """-- The one order credits are spent in: priority, then earliest expiry (never-expiring last), then
-- oldest. Which spendable grants of a locked wallet (of `p_sources`, or the grant keyed
-- `p_grant_key`, when given) give `p_amount` credits, and how many each: `moves`, as
-- [grant id, credits, source, cost basis, currency] in that order, and `credits`, their sum (less
-- than `p_amount` when the wallet has fewer). Read only: the caller moves the credits.
-- PL/pgSQL, called on its own rather than inside the caller's statement: on Citus a statement is
-- sent whole to the shard's node, and there a function it calls that reads a distributed table
-- would read the table's empty local shell instead of the shard (and Citus refuses SQL functions
-- that read distributed tables when they are called on their own). It plans with its caller's
-- settings (the reserve's: sequential scans and JIT off), set by no clause of its own: a clause
-- would save and restore them on every call.
CREATE OR REPLACE FUNCTION wallets_spend_plan(p_wallet integer, p_amount integer, p_now timestamptz,
                                              p_sources text[], p_grant_key text,
                                              OUT moves jsonb, OUT credits integer)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT coalesce(jsonb_agg(jsonb_build_array(ordered.id, LEAST(ordered.remaining, p_amount - ordered.before),
                                                ordered.source, ordered.cost_basis::text, ordered.currency)
                              ORDER BY ordered.before), '[]'::jsonb),
           coalesce(sum(LEAST(ordered.remaining, p_amount - ordered.before)), 0)
    INTO moves, credits
    FROM (
        SELECT g.id, g.remaining, g.source, g.cost_basis, g.currency,
               COALESCE(SUM(g.remaining) OVER (ORDER BY g.priority, g.expires_at ASC NULLS LAST, g.id
                                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
        FROM wallets_grant g
        WHERE g.wallet_id = p_wallet AND g.remaining > 0 AND (g.expires_at IS NULL OR g.expires_at > p_now)
          AND (p_sources IS NULL OR g.source = ANY (p_sources))
          AND (p_grant_key IS NULL OR g.idempotency_key = p_grant_key)
    ) AS ordered
    WHERE ordered.before < p_amount;
END
$$;
""",
            previous="""-- The one order credits are spent in: priority, then earliest expiry (never-expiring last), then
-- oldest. Which spendable grants (of `p_sources`, or the grant keyed `p_grant_key`, when given)
-- give `p_amount` credits, and how many each: `before` is what the grants ahead of it give.
-- Fewer rows than needed when the wallet has fewer credits. Read only, and plain SQL so that the
-- statements that take or hold credits inline it into their own plan.
CREATE OR REPLACE FUNCTION wallets_spend_plan(p_wallet integer, p_amount integer, p_now timestamptz,
                                              p_sources text[], p_grant_key text)
RETURNS TABLE (grant_id bigint, credits integer, source text, cost_basis numeric, currency text, before bigint)
LANGUAGE sql STABLE AS $$
    SELECT ordered.id, LEAST(ordered.remaining, p_amount - ordered.before)::integer, ordered.source::text,
           ordered.cost_basis, ordered.currency::text, ordered.before
    FROM (
        SELECT g.id, g.remaining, g.source, g.cost_basis, g.currency,
               COALESCE(SUM(g.remaining) OVER (ORDER BY g.priority, g.expires_at ASC NULLS LAST, g.id
                                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
        FROM wallets_grant g
        WHERE g.wallet_id = p_wallet AND g.remaining > 0 AND (g.expires_at IS NULL OR g.expires_at > p_now)
          AND (p_sources IS NULL OR g.source = ANY (p_sources))
          AND (p_grant_key IS NULL OR g.idempotency_key = p_grant_key)
    ) AS ordered
    WHERE ordered.before < p_amount
    ORDER BY ordered.before
$$;
""",
        ),
        WriteSql(
            'functions',
            'wallets_take',
            """-- Take up to `p_amount` spendable credits out of a locked wallet's grants, in the spending order
-- (wallets_spend_plan), for good: a refund, an expiry ahead of time, a staff correction. Returns
-- what came from which grant ([grant id, credits, source, cost basis, currency], in that order),
-- for the ledger row that records it (wallets_ledger_write, the grants already changed). Unless
-- `p_up_to`, fewer credits than asked is an error (CR001: the wallet's totals and grants disagree).
CREATE OR REPLACE FUNCTION wallets_take(p_wallet integer, p_amount integer, p_now timestamptz, p_sources text[],
                                        p_grant_key text, p_up_to boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    plan record;
BEGIN
    plan := wallets_spend_plan(p_wallet, p_amount, p_now, p_sources, p_grant_key);
    IF plan.credits <> p_amount AND NOT p_up_to THEN
        RAISE EXCEPTION 'wallet % totals and grants disagree: fewer than % credits spendable', p_wallet, p_amount
            USING ERRCODE = 'CR001';
    END IF;
    UPDATE wallets_grant g SET remaining = g.remaining - m.credits
    FROM (SELECT (e->>0)::bigint AS grant_id, (e->>1)::integer AS credits
          FROM jsonb_array_elements(plan.moves) AS e) AS m
    WHERE g.wallet_id = p_wallet
      AND g.id = ANY (ARRAY(SELECT (e->>0)::bigint FROM jsonb_array_elements(plan.moves) AS e))
      AND g.id = m.grant_id;
    RETURN plan.moves;
END
$$;
""",
            previous="""-- Take up to `p_amount` spendable credits out of a locked wallet's grants, in the spending order
-- (wallets_spend_plan), for good: a refund, an expiry ahead of time, a staff correction. Returns
-- what came from which grant ([grant id, credits, source, cost basis, currency], in that order),
-- for the ledger row that records it (wallets_ledger_write, the grants already changed). Unless
-- `p_up_to`, fewer credits than asked is an error (CR001: the wallet's totals and grants disagree).
CREATE OR REPLACE FUNCTION wallets_take(p_wallet integer, p_amount integer, p_now timestamptz, p_sources text[],
                                        p_grant_key text, p_up_to boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    moves jsonb;
    taken integer;
BEGIN
    WITH take AS (
        SELECT * FROM wallets_spend_plan(p_wallet, p_amount, p_now, p_sources, p_grant_key)
    ),
    moved AS (
        UPDATE wallets_grant g SET remaining = g.remaining - take.credits
        FROM take WHERE g.wallet_id = p_wallet AND g.id = take.grant_id
        RETURNING g.id
    )
    SELECT coalesce(jsonb_agg(jsonb_build_array(take.grant_id, take.credits, take.source, take.cost_basis::text,
                                                take.currency) ORDER BY take.before), '[]'::jsonb),
           coalesce(sum(take.credits), 0)
    INTO moves, taken
    FROM take JOIN moved ON moved.id = take.grant_id;
    IF taken <> p_amount AND NOT p_up_to THEN
        RAISE EXCEPTION 'wallet % totals and grants disagree: fewer than % credits spendable', p_wallet, p_amount
            USING ERRCODE = 'CR001';
    END IF;
    RETURN moves;
END
$$;
""",
        ),
    ]
