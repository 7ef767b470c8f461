"""Frozen copies of wallets/db/ (wallets_hold_release, wallets_period_of, wallets_recharge_start), written by `manage.py sqlmigrations`.

Do not edit: change the file under wallets/db/ and run the command again."""

from django.db import migrations

from common.sql_migrations import WriteSql


class Migration(migrations.Migration):
    dependencies = [('wallets', '0015_sql_wallets_hold_capture_and_more')]

    operations = [
        WriteSql(
            'functions',
            'wallets_hold_release',
            """-- Give a held hold's credits back to the grants that hold them and its free units back to the
-- month, marking it `p_status` (`released`: its request failed; `expired`: its request died).
-- Credits of a grant that expired while they were held expire now (wallets_grants_expire_due), after
-- the month's reset if one is due (a monthly grant's rollover is decided on what it still holds).
-- A hold settled before changes nothing and says how. Outcomes: wallets_settle_outcome.
CREATE OR REPLACE FUNCTION wallets_hold_release(p_wallet integer, p_hold bigint, p_status text, p_now timestamptz,
                                                OUT outcome wallets_settle_outcome)
LANGUAGE plpgsql AS $$
DECLARE
    h record;
    w record;
    past_expiry boolean;
BEGIN
    SELECT status, billing_cycle_start INTO w FROM wallets_wallet WHERE user_id = p_wallet FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'missing';
        RETURN;
    END IF;
    UPDATE wallets_hold SET status = p_status, settled_at = p_now
    WHERE wallet_id = p_wallet AND id = p_hold AND status = 'held'
    RETURNING amount, free_units, period, action_type, allocations INTO h;
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
    IF h.amount > 0 THEN
        WITH back AS (
            UPDATE wallets_grant g SET held = g.held - m.credits, remaining = g.remaining + m.credits
            FROM (SELECT (e->>0)::bigint AS grant_id, sum((e->>1)::integer)::integer AS credits
                  FROM jsonb_array_elements(h.allocations) AS e GROUP BY 1) AS m
            WHERE g.wallet_id = p_wallet AND g.id = m.grant_id
            RETURNING g.expires_at
        ),
        wallet_row AS (
            UPDATE wallets_wallet SET reserved = reserved - h.amount, updated_at = p_now WHERE user_id = p_wallet
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
-- Credits of a grant that expired while they were held expire now (wallets_grants_expire_due).
-- A hold settled before changes nothing and says how. Outcomes: wallets_settle_outcome.
CREATE OR REPLACE FUNCTION wallets_hold_release(p_wallet integer, p_hold bigint, p_status text, p_now timestamptz,
                                                OUT outcome wallets_settle_outcome)
LANGUAGE plpgsql AS $$
DECLARE
    h record;
    past_expiry boolean;
BEGIN
    PERFORM 1 FROM wallets_wallet WHERE user_id = p_wallet FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'missing';
        RETURN;
    END IF;
    UPDATE wallets_hold SET status = p_status, settled_at = p_now
    WHERE wallet_id = p_wallet AND id = p_hold AND status = 'held'
    RETURNING amount, free_units, period, action_type, allocations INTO h;
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
    IF h.amount > 0 THEN
        WITH back AS (
            UPDATE wallets_grant g SET held = g.held - m.credits, remaining = g.remaining + m.credits
            FROM (SELECT (e->>0)::bigint AS grant_id, sum((e->>1)::integer)::integer AS credits
                  FROM jsonb_array_elements(h.allocations) AS e GROUP BY 1) AS m
            WHERE g.wallet_id = p_wallet AND g.id = m.grant_id
            RETURNING g.expires_at
        ),
        wallet_row AS (
            UPDATE wallets_wallet SET reserved = reserved - h.amount, updated_at = p_now WHERE user_id = p_wallet
        )
        SELECT coalesce(bool_or(expires_at <= p_now), false) INTO past_expiry FROM back;
        IF past_expiry THEN
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
            'wallets_period_of',
            """-- The billing period a moment falls in: its calendar month in UTC, named by its first day (as
-- common.periods.period_of says it in Python; a test holds the two together). For the functions
-- that decide by the clock alone, with no period from their caller.
CREATE OR REPLACE FUNCTION wallets_period_of(p_now timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT date_trunc('month', p_now AT TIME ZONE 'UTC')::date
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
    INTO w FROM wallets_wallet WHERE user_id = p_wallet;
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
            previous="""-- Auto-recharge, decided by the ledger writer on the locked wallet row: a write left `p_available`
-- below the wallet's threshold, so one recharge starts (top up by `recharge_credits`, or up to
-- `recharge_target`), unless one is in flight already (one_recharge_in_flight: one per crossing,
-- however many writes cross at once), auto-recharge is off or was turned off by a failure, or it
-- would take the month past `recharge_monthly_limit` (recharges that did not fail count). The
-- month is the wallet's billing cycle, which every write finds current (a charge catches its wallet
-- up first). Returns the new recharge's id, or NULL: the caller's transaction commits it, then
-- `payments` asks for the payment.
CREATE OR REPLACE FUNCTION wallets_recharge_start(p_wallet integer, p_available integer, p_now timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    w record;
    credits integer;
    started bigint;
BEGIN
    SELECT recharge_enabled, recharge_status, recharge_threshold, recharge_credits, recharge_target,
           recharge_monthly_limit, billing_cycle_start
    INTO w FROM wallets_wallet WHERE user_id = p_wallet;
    IF NOT w.recharge_enabled OR w.recharge_status <> 'ok' OR p_available >= w.recharge_threshold THEN
        RETURN NULL;
    END IF;
    credits := coalesce(w.recharge_credits, w.recharge_target - p_available);
    IF credits IS NULL OR credits <= 0 THEN
        RETURN NULL;
    END IF;
    INSERT INTO wallets_recharge AS r (wallet_id, credits, period, status, payment_intent, failure, created_at,
                                       updated_at)
    SELECT p_wallet, credits, w.billing_cycle_start, 'pending', '', '', p_now, p_now
    WHERE (SELECT coalesce(sum(m.credits), 0) FROM wallets_recharge m
           WHERE m.wallet_id = p_wallet AND m.period = w.billing_cycle_start AND m.status <> 'failed')
          + credits <= w.recharge_monthly_limit
    ON CONFLICT (wallet_id) WHERE status IN ('pending', 'processing') DO NOTHING
    RETURNING r.id INTO started;
    RETURN started;
END
$$;
""",
        ),
    ]
