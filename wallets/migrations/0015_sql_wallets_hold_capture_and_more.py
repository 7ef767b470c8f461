"""Frozen copies of wallets/db/ (wallets_hold_capture, wallets_ledger_write, wallets_recharge_start), written by `manage.py sqlmigrations`.

Do not edit: change the file under wallets/db/ and run the command again."""

from django.db import migrations

from common.sql_migrations import WriteSql


class Migration(migrations.Migration):
    dependencies = [('wallets', '0014_auto_recharge')]

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
-- it charged, `was_released`, `was_expired`). Outcomes: wallets_settle_outcome; `recharge_id`: an
-- auto-recharge the charge started (wallets_ledger_write).
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
    FROM wallets_wallet WHERE user_id = p_wallet FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'missing';
        RETURN;
    END IF;
    charged := 0;
    SELECT status, action_type, reference, quantity, amount, free_units, period, allocations INTO h
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
            'Free allowance used for ' || h.action_type, 'hold:' || p_hold || ':free', NULL,
            CASE WHEN h.amount = 0 THEN p_hold END, p_now);
        event_ids := written.event_ids;
        recharge_id := written.recharge_id;
    END IF;
    IF h.amount > 0 THEN
        written := wallets_ledger_write(
            p_wallet, 'spend', h.allocations, -1, 'held', -h.amount, h.action_type, h.quantity - h.free_units,
            h.reference, coalesce(nullif(p_description, ''), 'Credits spent for ' || h.action_type),
            'hold:' || p_hold || ':spend', NULL, p_hold, p_now);
        event_ids := event_ids || written.event_ids;
        recharge_id := coalesce(written.recharge_id, recharge_id);
        balance := written.balance_after;
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
-- it charged, `was_released`, `was_expired`). Outcomes: wallets_settle_outcome.
CREATE OR REPLACE FUNCTION wallets_hold_capture(
    p_wallet integer, p_hold bigint, p_description text, p_access boolean, p_access_expires_at timestamptz,
    p_now timestamptz,
    OUT outcome wallets_settle_outcome, OUT charged integer, OUT balance integer, OUT event_ids bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    h record;
    written record;
BEGIN
    SELECT monthly_balance + purchased_balance + bonus_balance INTO balance
    FROM wallets_wallet WHERE user_id = p_wallet FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'missing';
        RETURN;
    END IF;
    charged := 0;
    SELECT status, action_type, reference, quantity, amount, free_units, period, allocations INTO h
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
            'Free allowance used for ' || h.action_type, 'hold:' || p_hold || ':free', NULL,
            CASE WHEN h.amount = 0 THEN p_hold END, p_now);
        event_ids := written.event_ids;
    END IF;
    IF h.amount > 0 THEN
        written := wallets_ledger_write(
            p_wallet, 'spend', h.allocations, -1, 'held', -h.amount, h.action_type, h.quantity - h.free_units,
            h.reference, coalesce(nullif(p_description, ''), 'Credits spent for ' || h.action_type),
            'hold:' || p_hold || ':spend', NULL, p_hold, p_now);
        event_ids := event_ids || written.event_ids;
        balance := written.balance_after;
    END IF;
    charged := h.amount;
    outcome := 'captured';
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
-- this row captures (`p_captured_hold`, or NULL). Then the low-balance alert on the new available
-- balance: its state saved, and its events written, only when it changes (a rare crossing); and
-- auto-recharge, when the write leaves the available balance below its threshold
-- (wallets_recharge_start: `recharge_id`, the recharge it started, if any).
-- Every change is relative to the locked rows. The database refuses a negative total.
CREATE OR REPLACE FUNCTION wallets_ledger_write(
    p_wallet integer, p_type text, p_moves jsonb, p_sign integer, p_grant_column text, p_reserved integer,
    p_action text, p_quantity integer, p_reference text, p_description text, p_key text, p_actor integer,
    p_captured_hold bigint, p_now timestamptz,
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
        FROM totals t WHERE w.user_id = p_wallet
        RETURNING w.monthly_balance + w.purchased_balance + w.bonus_balance AS total, w.reserved,
                  w.low_balance_state, w.low_balance_threshold, w.recharge_enabled, w.recharge_threshold, t.delta
    ),
    entry AS (
        INSERT INTO transactions_ledgerentry
            (wallet_id, transaction_type, amount, delta, balance_after, action_type, quantity, reference,
             description, idempotency_key, actor_id, created_at)
        SELECT p_wallet, p_type, abs(wallet_row.delta), wallet_row.delta, wallet_row.total, coalesce(p_action, ''),
               p_quantity, left(coalesce(p_reference, ''), 255), left(coalesce(p_description, ''), 255), p_key,
               p_actor, p_now
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
        UPDATE wallets_wallet SET low_balance_state = alert.state WHERE user_id = p_wallet;
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
-- this row captures (`p_captured_hold`, or NULL). Then the low-balance alert on the new available
-- balance: its state saved, and its events written, only when it changes (a rare crossing).
-- Every change is relative to the locked rows. The database refuses a negative total.
CREATE OR REPLACE FUNCTION wallets_ledger_write(
    p_wallet integer, p_type text, p_moves jsonb, p_sign integer, p_grant_column text, p_reserved integer,
    p_action text, p_quantity integer, p_reference text, p_description text, p_key text, p_actor integer,
    p_captured_hold bigint, p_now timestamptz,
    OUT entry_id bigint, OUT balance_after integer, OUT available_after integer, OUT event_ids bigint[])
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
        FROM totals t WHERE w.user_id = p_wallet
        RETURNING w.monthly_balance + w.purchased_balance + w.bonus_balance AS total, w.reserved,
                  w.low_balance_state, w.low_balance_threshold, t.delta
    ),
    entry AS (
        INSERT INTO transactions_ledgerentry
            (wallet_id, transaction_type, amount, delta, balance_after, action_type, quantity, reference,
             description, idempotency_key, actor_id, created_at)
        SELECT p_wallet, p_type, abs(wallet_row.delta), wallet_row.delta, wallet_row.total, coalesce(p_action, ''),
               p_quantity, left(coalesce(p_reference, ''), 255), left(coalesce(p_description, ''), 255), p_key,
               p_actor, p_now
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
           wallet_row.low_balance_state AS state, wallet_row.low_balance_threshold AS threshold
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
        UPDATE wallets_wallet SET low_balance_state = alert.state WHERE user_id = p_wallet;
    END IF;
    FOREACH event_type IN ARRAY alert.events LOOP
        event_ids := event_ids || outbox_emit(p_wallet, event_type, jsonb_build_object(
            'available', available_after, 'current_balance', balance_after, 'threshold', written.threshold,
            'ledger_entry_id', entry_id), p_now);
    END LOOP;
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
