-- The monthly reset of the due wallets with p_low <= id < p_high (of `p_wallets` only, if given)
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
