"""The gate's two writes as PL/pgSQL functions, each one call and so (outside a transaction) one
single-statement transaction: `wallets_purchase_reserve` and `wallets_purchase_capture`, called
only by `wallets.services.purchase_reserve` / `purchase_capture`; its ask, `wallets_purchase_state`
(`wallets.selectors.purchase_state`); `wallets_alert_transition` is `wallets.alerts.alert_transition`
in SQL (a test holds the two to the same answers).

Why functions: PL/pgSQL keeps the plans of the statements inside per connection, while the client
binds parameters itself, so a statement sent from Django is planned again on every call; and
every statement inside a VOLATILE function takes a fresh snapshot under READ COMMITTED, so the
checks made after the wallet lock see what the request that held the lock committed.

Also an index for the reserve's "a hold in flight for this resource?" question: held holds only,
so it stays small however many holds a wallet has had; and the holds' two indexes on action_type
alone (a SlugField's default), which nothing reads, are dropped: every reserve inserts a hold and
every settle rewrites it, so each index costs both phases."""

from django.db import migrations, models

ALERT_TRANSITION = """
CREATE FUNCTION wallets_alert_transition(p_state integer, p_available integer, p_threshold integer,
                                         OUT state integer, OUT events text[])
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_available <= 0 THEN 2 WHEN p_available < p_threshold THEN 1 ELSE 0 END,
           CASE WHEN p_available <= 0 THEN
                    CASE WHEN p_state = 2 THEN ARRAY[]::text[]
                         WHEN p_state = 0 AND p_threshold > 0 THEN ARRAY['balance.low', 'balance.depleted']
                         ELSE ARRAY['balance.depleted'] END
                WHEN p_available < p_threshold THEN
                    CASE WHEN p_state = 0 THEN ARRAY['balance.low'] ELSE ARRAY[]::text[] END
                WHEN p_state <> 0 THEN ARRAY['balance.recovered']
                ELSE ARRAY[]::text[] END
$$;
"""

# The gate's ask, read only: the wallet's figures (no row: `status` NULL), "paid already?" through
# the access policy's `p_paid_fn`, the month's free units of the action used or held, and the
# pricing rules' version (pricing/migrations/0005_rules_version.py). A function so that its plans
# are kept: sent as a plain statement, the same read was planned again on every request.
STATE = """
CREATE FUNCTION wallets_purchase_state(
    p_wallet integer, p_action text, p_reference text, p_paid_fn text, p_period date, p_now timestamptz,
    OUT status text, OUT balance integer, OUT reserved integer, OUT billing_cycle_start date,
    OUT holds_due_at timestamptz, OUT grants_due_at timestamptz, OUT already_paid boolean, OUT free_used integer,
    OUT rules_version bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT w.status, w.monthly_balance + w.purchased_balance + w.bonus_balance, w.reserved, w.billing_cycle_start,
           w.holds_due_at, w.grants_due_at
    INTO status, balance, reserved, billing_cycle_start, holds_due_at, grants_due_at
    FROM wallets_wallet w WHERE w.user_id = p_wallet;
    already_paid := false;
    IF FOUND AND p_paid_fn IS NOT NULL THEN
        EXECUTE format('SELECT %s($1, $2, $3, $4)', p_paid_fn) INTO already_paid
            USING p_wallet, p_action, p_reference, p_now;
    END IF;
    SELECT u.used + u.reserved INTO free_used
    FROM wallets_allowanceusage u WHERE u.wallet_id = p_wallet AND u.period = p_period AND u.action_type = p_action;
    SELECT v.version INTO rules_version FROM pricing_rules_version v;
END
$$;
"""

# One unit of `p_action` on `p_reference`, at `p_price` credits (or a free unit while the month's
# allowance lasts). Outcomes: missing, locked, due (something is due on the wallet: the caller
# settles it and calls again), paid (an access is in force), retry_captured / retry_held (this
# Idempotency-Key's hold), in_flight (a held hold for the same resource), short (402: `available`
# is what the wallet can spend), reserved (`hold_id`, `hold_key`: the key stored, NULL when a released
# first attempt keeps it; `amount`, `free_units`, `allocations`).
RESERVE = """
CREATE FUNCTION wallets_purchase_reserve(
    p_wallet integer, p_action text, p_reference text, p_key text, p_price integer, p_free_allowance integer,
    p_paid_fn text, p_paid boolean, p_period date, p_now timestamptz, p_expires_at timestamptz,
    OUT outcome text, OUT hold_id bigint, OUT hold_key text, OUT amount integer, OUT free_units integer,
    OUT allocations jsonb, OUT balance integer, OUT available integer)
LANGUAGE plpgsql AS $$
DECLARE
    w record;
    paid boolean := coalesce(p_paid, false);
    previous text;
    in_flight boolean;
    -- This call is a transaction of its own (autocommit), not a step of a caller's transaction:
    -- the transaction began with this statement, and nothing before it wrote anything.
    on_its_own boolean := transaction_timestamp() = statement_timestamp() AND pg_current_xact_id_if_assigned() IS NULL;
BEGIN
    SELECT status, monthly_balance + purchased_balance + bonus_balance AS total, reserved, billing_cycle_start,
           holds_due_at, grants_due_at
    INTO w FROM wallets_wallet WHERE user_id = p_wallet FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'missing';
        RETURN;
    END IF;
    balance := w.total;
    available := w.total - w.reserved;
    -- Every statement below starts after the lock was obtained: it sees what the request we may
    -- have waited for committed (an access, a hold), which the locking statement itself cannot.
    IF p_paid_fn IS NOT NULL THEN
        EXECUTE format('SELECT %s($1, $2, $3, $4)', p_paid_fn) INTO paid USING p_wallet, p_action, p_reference, p_now;
    END IF;
    IF paid THEN
        outcome := 'paid';
        RETURN;
    END IF;
    SELECT (SELECT h.status FROM wallets_hold h WHERE h.wallet_id = p_wallet AND h.idempotency_key = p_key),
           EXISTS (SELECT 1 FROM wallets_hold h  -- a hold past its expiry is not in flight: its request died
                   WHERE h.wallet_id = p_wallet AND h.action_type = p_action AND h.reference = p_reference
                     AND h.status = 'held' AND h.expires_at > p_now)
    INTO previous, in_flight;
    IF previous IN ('captured', 'held') THEN
        outcome := 'retry_' || previous;  -- charged (or being served): never charge it again
        RETURN;
    ELSIF previous IS NOT NULL THEN
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
    IF w.billing_cycle_start < p_period OR w.holds_due_at <= p_now OR w.grants_due_at <= p_now THEN
        outcome := 'due';
        RETURN;
    END IF;

    amount := p_price;
    free_units := 0;
    IF p_free_allowance > 0 THEN
        INSERT INTO wallets_allowanceusage AS u (wallet_id, period, action_type, used, reserved)
        VALUES (p_wallet, p_period, p_action, 0, 1)
        ON CONFLICT (wallet_id, period, action_type) DO UPDATE SET reserved = u.reserved + 1
        WHERE u.used + u.reserved < p_free_allowance;
        IF FOUND THEN
            amount := 0;
            free_units := 1;
        END IF;
    END IF;
    IF amount > available THEN
        outcome := 'short';
        RETURN;
    END IF;

    -- In one statement: the credits move from `remaining` to `held` of the spendable grants, in the
    -- consumption order; the wallet's `reserved` grows; the hold records which grants hold them.
    WITH ordered AS (
        SELECT id, remaining, source, cost_basis, currency,
               COALESCE(SUM(remaining) OVER (ORDER BY priority, expires_at ASC NULLS LAST, id
                                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
        FROM wallets_grant
        WHERE wallet_id = p_wallet AND remaining > 0 AND (expires_at IS NULL OR expires_at > p_now)
    ),
    take AS (
        SELECT id, LEAST(remaining, amount - before) AS credits, source, cost_basis, currency, before
        FROM ordered WHERE before < amount
    ),
    moved AS (
        UPDATE wallets_grant g SET remaining = g.remaining - take.credits, held = g.held + take.credits
        FROM take WHERE g.id = take.id
        RETURNING g.id
    ),
    taken AS (
        SELECT coalesce(jsonb_agg(jsonb_build_array(take.id, take.credits, take.source, take.cost_basis::text,
                                                    take.currency) ORDER BY take.before), '[]'::jsonb) AS moves,
               coalesce(sum(take.credits), 0) AS credits
        FROM take JOIN moved ON moved.id = take.id
    ),
    wallet_row AS (
        UPDATE wallets_wallet
        SET reserved = reserved + amount, holds_due_at = LEAST(coalesce(holds_due_at, p_expires_at), p_expires_at),
            updated_at = p_now
        WHERE user_id = p_wallet
    )
    INSERT INTO wallets_hold AS nh (wallet_id, action_type, quantity, amount, free_units, period, reference,
                                    idempotency_key, status, allocations, expires_at, created_at)
    SELECT p_wallet, p_action, 1, amount, free_units, p_period, left(p_reference, 255), p_key, 'held', taken.moves,
           p_expires_at, p_now
    FROM taken WHERE taken.credits = amount
    RETURNING nh.id, nh.allocations INTO hold_id, allocations;
    IF NOT FOUND THEN  -- the statement's changes go with the error
        RAISE EXCEPTION 'wallet % totals and grants disagree: fewer than % credits spendable', p_wallet, amount
            USING ERRCODE = 'CR001';
    END IF;
    hold_key := p_key;
    available := available - amount;
    IF on_its_own THEN
        -- Its commit need not wait for the disk: a hold lost in a crash only gives its credits
        -- back, and a capture's durable commit flushes the WAL up to it, this hold included.
        SET LOCAL synchronous_commit = off;
    END IF;
    outcome := 'reserved';
END
$$;
"""

# The capture of a reserved hold of credits (no free units): the access is recorded through
# `p_grant_fn` (unless NULL: the caller's policy recorded it), then the hold, the wallet's totals,
# the grants' `held`, the `spend` row and its allocations, and the low-balance events, decided on
# the locked wallet row as `services._record` does. Outcomes: missing, captured (done now),
# paid_already (an access was in force: nothing written, the caller releases the hold), general
# (a hold this function does not settle: free units, or no allocations), or `was_` and the hold's
# status when it is no longer held (was_captured, was_released, was_expired).
CAPTURE = """
CREATE FUNCTION wallets_purchase_capture(
    p_wallet integer, p_hold bigint, p_description text, p_grant_fn text, p_access_expires_at timestamptz,
    p_now timestamptz,
    OUT outcome text, OUT charged integer, OUT balance integer, OUT event_ids bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    w record;
    h record;
    granted boolean := true;
    total_after integer;
    available_after integer;
    alert_state integer;
    alerts text[];
    entry_id bigint;
BEGIN
    SELECT monthly_balance + purchased_balance + bonus_balance AS total, reserved, low_balance_state,
           low_balance_threshold
    INTO w FROM wallets_wallet WHERE user_id = p_wallet FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'missing';
        RETURN;
    END IF;
    balance := w.total;
    charged := 0;
    SELECT hh.status, hh.action_type, hh.reference, hh.quantity, hh.amount, hh.free_units, hh.allocations,
           s.monthly, s.purchased, s.bonus
    INTO h
    FROM wallets_hold hh,
         LATERAL (SELECT coalesce(sum((m->>1)::integer) FILTER (WHERE m->>2 IN ('monthly', 'rollover')), 0) AS monthly,
                         coalesce(sum((m->>1)::integer) FILTER (WHERE m->>2 = 'purchase'), 0) AS purchased,
                         coalesce(sum((m->>1)::integer) FILTER (WHERE m->>2 IN ('promo', 'trial', 'compensation')), 0)
                             AS bonus
                  FROM jsonb_array_elements(hh.allocations) AS m) AS s
    WHERE hh.wallet_id = p_wallet AND hh.id = p_hold;
    IF NOT FOUND THEN
        outcome := 'missing';
        RETURN;
    ELSIF h.status <> 'held' THEN
        outcome := 'was_' || h.status;
        charged := CASE WHEN h.status = 'captured' THEN h.amount ELSE 0 END;
        RETURN;
    ELSIF h.free_units <> 0 OR h.amount = 0 OR h.allocations IS NULL THEN
        outcome := 'general';
        RETURN;
    END IF;
    IF p_grant_fn IS NOT NULL THEN
        -- After the lock, so it decides on what a request settling the same resource committed.
        EXECUTE format('SELECT %s($1, $2, $3, $4, $5)', p_grant_fn) INTO granted
            USING p_wallet, h.action_type, h.reference, p_access_expires_at, p_now;
    END IF;
    IF NOT granted THEN
        outcome := 'paid_already';
        RETURN;
    END IF;

    total_after := w.total - h.monthly - h.purchased - h.bonus;
    available_after := total_after - (w.reserved - h.amount);
    SELECT t.state, t.events INTO alert_state, alerts
    FROM wallets_alert_transition(w.low_balance_state, available_after, w.low_balance_threshold) AS t;

    -- In one statement: the hold, the wallet's totals, the `spend` row, the grants' `held`, the
    -- allocations and the outbox rows of the alerts that fire (as `outbox.services.event_emit`
    -- writes them), every change relative to the locked rows.
    WITH held AS (
        UPDATE wallets_hold SET status = 'captured', settled_at = p_now WHERE wallet_id = p_wallet AND id = p_hold
    ),
    wallet_row AS (
        UPDATE wallets_wallet
        SET monthly_balance = monthly_balance - h.monthly, purchased_balance = purchased_balance - h.purchased,
            bonus_balance = bonus_balance - h.bonus, reserved = reserved - h.amount, ledger_rows = ledger_rows + 1,
            low_balance_state = alert_state, updated_at = p_now
        WHERE user_id = p_wallet
    ),
    entry AS (
        INSERT INTO transactions_ledgerentry
            (wallet_id, transaction_type, amount, delta, balance_after, action_type, quantity, reference,
             description, idempotency_key, created_at)
        VALUES (p_wallet, 'spend', h.amount, -h.amount, total_after, h.action_type, h.quantity, left(h.reference, 255),
                left(coalesce(nullif(p_description, ''), 'Credits spent for ' || h.action_type), 255),
                'hold:' || p_hold || ':spend', p_now)
        RETURNING id
    ),
    moves AS (
        SELECT (e->>0)::bigint AS grant_id, (e->>1)::integer AS credits, e->>2 AS source,
               (e->>3)::numeric AS cost_basis, e->>4 AS currency
        FROM jsonb_array_elements(h.allocations) AS e
    ),
    grants AS (
        UPDATE wallets_grant g SET held = g.held - m.credits
        FROM (SELECT grant_id, sum(credits) AS credits FROM moves GROUP BY grant_id) AS m
        WHERE g.id = m.grant_id
    ),
    allocated AS (
        INSERT INTO transactions_ledgerallocation
            (entry_id, wallet_id, grant_id, transaction_type, source, amount, cost_basis, currency, created_at)
        SELECT entry.id, p_wallet, moves.grant_id, 'spend', moves.source, -moves.credits, moves.cost_basis,
               moves.currency, p_now
        FROM entry, moves
    ),
    events AS (
        INSERT INTO outbox_outboxevent (wallet_id, event_type, data, created_at)
        SELECT p_wallet, a.event_type,
               jsonb_build_object('available', available_after, 'current_balance', total_after,
                                  'threshold', w.low_balance_threshold, 'ledger_entry_id', entry.id,
                                  'wallet_id', p_wallet, 'username', u.username),
               p_now
        FROM entry, unnest(alerts) WITH ORDINALITY AS a(event_type, n)
        JOIN auth_user u ON u.id = p_wallet
        ORDER BY a.n
        RETURNING id
    )
    SELECT entry.id, (SELECT array_agg(events.id ORDER BY events.id) FROM events) INTO entry_id, event_ids FROM entry;
    charged := h.amount;
    balance := total_after;
    outcome := 'captured';
END
$$;
"""

DROP = """
DROP FUNCTION wallets_purchase_state(integer, text, text, text, date, timestamptz);
DROP FUNCTION wallets_purchase_capture(integer, bigint, text, text, timestamptz, timestamptz);
DROP FUNCTION wallets_purchase_reserve(integer, text, text, text, integer, integer, text, boolean, date,
                                       timestamptz, timestamptz);
DROP FUNCTION wallets_alert_transition(integer, integer, integer);
"""


class Migration(migrations.Migration):

    dependencies = [
        ("wallets", "0008_reset_indexes"),
        ("transactions", "0009_reset_indexes"),  # the capture writes ledger rows and allocations
        ("outbox", "0001_initial"),  # ... and events
        ("pricing", "0005_rules_version"),  # the ask reads the rules' version
    ]

    operations = [
        migrations.AlterField(
            model_name="hold", name="action_type", field=models.SlugField(db_index=False, max_length=64),
        ),
        migrations.AddIndex(
            model_name="hold",
            index=models.Index(
                condition=models.Q(status="held"), fields=["wallet", "action_type", "reference"],
                name="hold_in_flight_idx",
            ),
        ),
        migrations.RunSQL(ALERT_TRANSITION + STATE + RESERVE + CAPTURE, DROP),
    ]
