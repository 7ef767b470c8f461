-- Add a grant to each of a set of wallets, one statement for the set (a top-up is a set of one, a
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
