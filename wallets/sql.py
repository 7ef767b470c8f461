"""The ledger writer's set-based statements (run only by `wallets.services`).

Each is one statement of data-modifying CTEs over a set of wallets chosen by `{selector}` (and, for
the grants it reads, `{grant_selector}`: the same set, so scans stay inside the batch): it locks
the wallets, writes grants, ledger rows and their allocations, and updates the wallet totals, so a
batch of thousands of wallets is one round trip. Unique (wallet_id, idempotency_key) indexes on
grants and ledger rows make a second, concurrent or redelivered run write nothing twice.
"""

# The monthly reset of a set of wallets into %(period)s. Monthly and rollover grants whose period
# has ended expire, except what the last month's grant rolls over (up to the package's cap) into a
# `rollover` grant ending with the new period; the package's monthly grant is added. Ledger: one
# `expiry` row (the total expired) and one `monthly_grant` row, as before grants existed; the
# rollover is a move between grants recorded as allocations of the month's grant row. Held credits
# sit in `held`, not `remaining`, so a request in flight never loses them.
ROLL_OVER = """
WITH due AS (
    SELECT w.user_id, w.monthly_balance + w.purchased_balance + w.bonus_balance AS total,
           p.monthly_credits, p.rollover_cap, p.name AS package_name
    FROM wallets_wallet w
    JOIN pricing_package p ON p.id = w.package_id
    WHERE {selector}
      AND w.status = %(active)s
      AND w.billing_cycle_start < %(period)s
    FOR UPDATE OF w {skip_locked}
),
old AS (
    SELECT g.id, g.wallet_id, g.source, g.remaining,
           (g.source = 'monthly' AND g.expires_at = %(period_start)s) AS is_last_monthly
    FROM wallets_grant g
    JOIN due ON due.user_id = g.wallet_id
    WHERE {grant_selector}  -- the batch's range again, so the planner reads only its grants
      AND g.source IN ('monthly', 'rollover') AND g.remaining > 0 AND g.expires_at <= %(period_start)s
),
calc AS (
    SELECT due.user_id, due.total, due.monthly_credits, due.package_name,
           CASE WHEN due.monthly_credits > 0
                THEN LEAST(due.rollover_cap, COALESCE(SUM(old.remaining) FILTER (WHERE old.is_last_monthly), 0))
                ELSE 0 END AS roll,
           COALESCE(SUM(old.remaining), 0) AS old_left
    FROM due
    LEFT JOIN old ON old.wallet_id = due.user_id
    GROUP BY due.user_id, due.total, due.monthly_credits, due.package_name, due.rollover_cap
),
emptied AS (
    -- `remaining > 0` (true of every grant in old) lets the spending index find the batch's grants.
    UPDATE wallets_grant g SET remaining = 0, expired_at = %(now)s
    FROM old WHERE g.id = old.id AND {grant_selector} AND g.remaining > 0
),
new_grants AS (
    INSERT INTO wallets_grant
        (wallet_id, source, amount, remaining, held, priority, effective_at, expires_at, cost_basis,
         currency, reason, reference, idempotency_key, created_at)
    SELECT user_id, source, amount, amount, 0, %(priority)s, %(period_start)s, %(next_start)s, 0,
           '', reason, %(label)s, key, %(now)s
    FROM (
        SELECT user_id, 'rollover' AS source, roll AS amount, %(rollover_reason)s AS reason,
               %(rollover_key)s AS key
        FROM calc WHERE roll > 0
        UNION ALL
        SELECT user_id, 'monthly', monthly_credits, replace(%(grant_description)s, '{{package}}', package_name),
               %(monthly_key)s
        FROM calc WHERE monthly_credits > 0
    ) AS rows
    ON CONFLICT (wallet_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id, wallet_id, source, amount
),
entries AS (
    -- One INSERT for both rows, ordered so each wallet's expiry precedes its grant in id order.
    INSERT INTO transactions_ledgerentry
        (wallet_id, transaction_type, amount, delta, balance_after, action_type, quantity,
         reference, description, idempotency_key, created_at)
    SELECT user_id, kind, amount, delta, balance_after, '', 1, '', description, key, %(now)s
    FROM (
        SELECT user_id, 1 AS step, 'expiry' AS kind, old_left - roll AS amount, roll - old_left AS delta,
               total - (old_left - roll) AS balance_after,
               %(expiry_description)s AS description, %(expiry_key)s AS key
        FROM calc WHERE old_left - roll > 0
        UNION ALL
        SELECT user_id, 2, 'monthly_grant', monthly_credits, monthly_credits,
               total - (old_left - roll) + monthly_credits,
               replace(%(grant_description)s, '{{package}}', package_name), %(grant_key)s
        FROM calc WHERE monthly_credits > 0
    ) AS rows
    ORDER BY user_id, step
    ON CONFLICT (wallet_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id, wallet_id, transaction_type
),
allocations AS (
    INSERT INTO transactions_ledgerallocation
        (entry_id, wallet_id, grant_id, transaction_type, source, amount, cost_basis, currency, created_at)
    SELECT e.id, e.wallet_id, old.id, 'expiry', old.source,
           -(old.remaining - CASE WHEN old.is_last_monthly THEN calc.roll ELSE 0 END), 0, '', %(now)s
    FROM entries e
    JOIN old ON old.wallet_id = e.wallet_id
    JOIN calc ON calc.user_id = e.wallet_id
    WHERE e.transaction_type = 'expiry'
      AND old.remaining - CASE WHEN old.is_last_monthly THEN calc.roll ELSE 0 END > 0
    UNION ALL
    SELECT e.id, e.wallet_id, g.id, 'monthly_grant', g.source, g.amount, 0, '', %(now)s
    FROM entries e
    JOIN new_grants g ON g.wallet_id = e.wallet_id
    WHERE e.transaction_type = 'monthly_grant'
    UNION ALL
    SELECT e.id, e.wallet_id, old.id, 'monthly_grant', old.source, -calc.roll, 0, '', %(now)s
    FROM entries e
    JOIN old ON old.wallet_id = e.wallet_id
    JOIN calc ON calc.user_id = e.wallet_id
    WHERE e.transaction_type = 'monthly_grant' AND old.is_last_monthly AND calc.roll > 0
)
UPDATE wallets_wallet w
SET monthly_balance = w.monthly_balance - (calc.old_left - calc.roll) + calc.monthly_credits,
    ledger_rows = w.ledger_rows + (calc.old_left - calc.roll > 0)::int + (calc.monthly_credits > 0)::int,
    billing_cycle_start = %(period)s,
    grants_due_at = LEAST(COALESCE(w.grants_due_at, %(next_start)s), %(next_start)s),
    updated_at = %(now)s
FROM calc
WHERE w.user_id = calc.user_id AND {selector}
"""

# A staff grant (promo, trial, compensation) to a set of wallets: one grant, one `grant` ledger row
# and its allocation per wallet. Returns the ids of the wallets credited.
STAFF_GRANT = """
WITH target AS (
    SELECT w.user_id, w.monthly_balance + w.purchased_balance + w.bonus_balance AS total
    FROM wallets_wallet w
    WHERE {selector}
    FOR UPDATE OF w
),
new_grants AS (
    INSERT INTO wallets_grant
        (wallet_id, source, amount, remaining, held, priority, effective_at, expires_at, cost_basis,
         currency, reason, reference, idempotency_key, actor_id, created_at)
    SELECT user_id, %(source)s, %(amount)s, %(amount)s, 0, %(priority)s, %(now)s, %(expires_at)s, 0,
           '', %(reason)s, %(reference)s, %(key)s, %(actor)s, %(now)s
    FROM target
    ON CONFLICT (wallet_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id, wallet_id
),
entries AS (
    INSERT INTO transactions_ledgerentry
        (wallet_id, transaction_type, amount, delta, balance_after, action_type, quantity,
         reference, description, idempotency_key, actor_id, created_at)
    SELECT g.wallet_id, 'grant', %(amount)s, %(amount)s, t.total + %(amount)s, '', 1,
           %(reference)s, %(description)s, %(key)s, %(actor)s, %(now)s
    FROM new_grants g
    JOIN target t ON t.user_id = g.wallet_id
    ON CONFLICT (wallet_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id, wallet_id
),
allocations AS (
    INSERT INTO transactions_ledgerallocation
        (entry_id, wallet_id, grant_id, transaction_type, source, amount, cost_basis, currency, created_at)
    SELECT e.id, e.wallet_id, g.id, 'grant', %(source)s, %(amount)s, 0, '', %(now)s
    FROM entries e
    JOIN new_grants g ON g.wallet_id = e.wallet_id
),
-- The outbox rows (credits.granted), in the same statement and so the same transaction.
events AS (
    INSERT INTO outbox_outboxevent (wallet_id, event_type, data, created_at)
    SELECT e.wallet_id, 'credits.granted',
           jsonb_build_object('wallet_id', e.wallet_id,
                              'username', (SELECT u.username FROM auth_user u WHERE u.id = e.wallet_id),
                              'grant_id', g.id,
                              'source', %(source)s, 'credits', %(amount)s, 'expires_at', %(expires_at)s::timestamptz,
                              'reason', %(reason)s, 'current_balance', t.total + %(amount)s),
           %(now)s
    FROM entries e
    JOIN new_grants g ON g.wallet_id = e.wallet_id
    JOIN target t ON t.user_id = e.wallet_id
)
UPDATE wallets_wallet w
SET bonus_balance = w.bonus_balance + %(amount)s,
    ledger_rows = w.ledger_rows + 1,
    grants_due_at = CASE WHEN %(expires_at)s::timestamptz IS NULL THEN w.grants_due_at
                         ELSE LEAST(COALESCE(w.grants_due_at, %(expires_at)s), %(expires_at)s) END,
    updated_at = %(now)s
FROM new_grants g
WHERE w.user_id = g.wallet_id AND {selector}  -- the batch again: its wallets, not a scan of all
RETURNING w.user_id
"""

# Take %(amount)s spendable credits of one wallet from its grants in the one consumption order:
# out of `remaining`, and into `held` when %(hold)s (a reservation). Returns what came from which
# grant, in that order. The caller holds the wallet lock and checked that the credits are there.
TAKE = """
WITH ordered AS (
    SELECT id, remaining, source, cost_basis, currency, priority, expires_at,
           COALESCE(SUM(remaining) OVER (ORDER BY priority, expires_at ASC NULLS LAST, id
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
    FROM wallets_grant
    WHERE wallet_id = %(wallet)s AND remaining > 0 {only}
      AND (expires_at IS NULL OR expires_at > %(now)s)
),
take AS (
    SELECT id, LEAST(remaining, %(amount)s - before) AS credits, source, cost_basis, currency, before
    FROM ordered WHERE before < %(amount)s
),
moved AS (
    UPDATE wallets_grant g
    SET remaining = g.remaining - take.credits,
        held = g.held + CASE WHEN %(hold)s THEN take.credits ELSE 0 END
    FROM take WHERE g.id = take.id
    RETURNING g.id
)
SELECT take.id, take.credits, take.source, take.cost_basis, take.currency
FROM take JOIN moved ON moved.id = take.id
ORDER BY take.before
"""

# One ledger row, its allocations and the grants' changes, in one statement (the wallet's totals
# are saved by the caller). %(moves)s is a JSON array of
# [grant id, credits into the grant, source, cost basis, currency, change of remaining, change of held].
LEDGER_ROW = """
WITH entry AS (
    INSERT INTO transactions_ledgerentry
        (wallet_id, transaction_type, amount, delta, balance_after, action_type, quantity, reference,
         description, idempotency_key, actor_id, created_at)
    VALUES (%(wallet)s, %(type)s, %(amount)s, %(delta)s, %(balance_after)s, %(action_type)s, %(quantity)s,
            %(reference)s, %(description)s, %(key)s, %(actor)s, %(now)s)
    RETURNING id
),
moves AS (
    SELECT (m->>0)::bigint AS grant_id, (m->>1)::int AS credits, m->>2 AS source,
           (m->>3)::numeric AS cost_basis, m->>4 AS currency, (m->>5)::int AS d_remaining, (m->>6)::int AS d_held
    FROM jsonb_array_elements(%(moves)s::jsonb) AS m
),
changed AS (
    UPDATE wallets_grant g
    SET remaining = g.remaining + moves.d_remaining, held = g.held + moves.d_held
    FROM moves WHERE g.id = moves.grant_id AND (moves.d_remaining <> 0 OR moves.d_held <> 0)
),
allocated AS (
    INSERT INTO transactions_ledgerallocation
        (entry_id, wallet_id, grant_id, transaction_type, source, amount, cost_basis, currency, created_at)
    SELECT entry.id, %(wallet)s, moves.grant_id, %(type)s, moves.source, moves.credits, moves.cost_basis,
           moves.currency, %(now)s
    FROM entry, moves
)
SELECT id FROM entry
"""

# A released hold's credits go back from `held` to `remaining` of their grants. Returns whether any
# of those grants is past its expiry (its returned credits must expire now).
UNHOLD = """
WITH moves AS (
    SELECT (m->>0)::bigint AS grant_id, (m->>1)::int AS credits FROM jsonb_array_elements(%(moves)s::jsonb) AS m
),
back AS (
    UPDATE wallets_grant g SET held = g.held - moves.credits, remaining = g.remaining + moves.credits
    FROM moves WHERE g.id = moves.grant_id
    RETURNING g.expires_at
)
SELECT coalesce(bool_or(expires_at <= %(now)s), false) FROM back
"""

# A reservation: TAKE into `held`, the wallet's new `reserved` and `holds_due_at` (computed by the
# caller, which holds the wallet lock), and the hold that records which grants hold its credits, in
# one statement. Returns the hold's id and allocations ([grant id, credits, source, cost basis, currency]).
RESERVE = TAKE.replace(
    "moved AS (",
    """wallet_row AS (
    UPDATE wallets_wallet SET reserved = %(reserved)s, holds_due_at = %(holds_due_at)s, updated_at = %(now)s
    WHERE user_id = %(wallet)s
),
moved AS (""",
).replace(
    """SELECT take.id, take.credits, take.source, take.cost_basis, take.currency
FROM take JOIN moved ON moved.id = take.id
ORDER BY take.before
""",
    """INSERT INTO wallets_hold
    (wallet_id, action_type, quantity, amount, free_units, period, reference, idempotency_key, status,
     allocations, expires_at, created_at)
SELECT %(wallet)s, %(action_type)s, %(quantity)s, %(amount)s, %(free_units)s, %(period)s, %(reference)s,
       %(key)s, 'held',
       (SELECT coalesce(jsonb_agg(jsonb_build_array(take.id, take.credits, take.source, take.cost_basis::text,
                                                    take.currency) ORDER BY take.before), '[]'::jsonb)
        FROM take JOIN moved ON moved.id = take.id),
       %(expires_at)s, %(now)s
RETURNING id, allocations
""",
).format(only="")

# A capture of a hold's credits (no free units), in one statement: the hold moves to `captured`
# only if it is still held, and only then do the wallet's totals drop by what each bucket held for
# it, the grants' `held` drop, and the `spend` row with its allocations (%(moves)s: [grant id,
# credits, source, cost basis, currency] as the hold recorded them) get written. Every change is
# conditional on that hold update and relative (x = x - n), so it is decided on the latest
# committed rows even if the statement waited for a lock. No row returned: the hold was settled.
# %(alert_state)s: the low-balance alert's state after the charge, decided by the caller on the
# wallet it locked (as `services._record` does).
CAPTURE = """
WITH hold AS (
    UPDATE wallets_hold SET status = 'captured', settled_at = %(now)s
    WHERE wallet_id = %(wallet)s AND id = %(hold)s AND status = 'held'
    RETURNING id
),
w AS (
    UPDATE wallets_wallet
    SET monthly_balance = monthly_balance - %(monthly)s, purchased_balance = purchased_balance - %(purchased)s,
        bonus_balance = bonus_balance - %(bonus)s, reserved = reserved - %(amount)s,
        ledger_rows = ledger_rows + 1, low_balance_state = %(alert_state)s, updated_at = %(now)s
    FROM hold WHERE user_id = %(wallet)s
    RETURNING monthly_balance, purchased_balance, bonus_balance, reserved, ledger_rows
),
entry AS (
    INSERT INTO transactions_ledgerentry
        (wallet_id, transaction_type, amount, delta, balance_after, action_type, quantity, reference,
         description, idempotency_key, created_at)
    SELECT %(wallet)s, 'spend', %(amount)s, -%(amount)s, w.monthly_balance + w.purchased_balance + w.bonus_balance,
           %(action_type)s, %(quantity)s, %(reference)s, %(description)s, %(key)s, %(now)s
    FROM w
    RETURNING id
),
moves AS (
    SELECT (m->>0)::bigint AS grant_id, (m->>1)::int AS credits, m->>2 AS source,
           (m->>3)::numeric AS cost_basis, m->>4 AS currency
    FROM jsonb_array_elements(%(moves)s::jsonb) AS m
),
changed AS (
    UPDATE wallets_grant g SET held = g.held - moves.credits
    FROM moves, hold WHERE g.id = moves.grant_id
),
allocated AS (
    INSERT INTO transactions_ledgerallocation
        (entry_id, wallet_id, grant_id, transaction_type, source, amount, cost_basis, currency, created_at)
    SELECT entry.id, %(wallet)s, moves.grant_id, 'spend', moves.source, -moves.credits, moves.cost_basis,
           moves.currency, %(now)s
    FROM entry, moves
)
SELECT entry.id, w.monthly_balance, w.purchased_balance, w.bonus_balance, w.reserved, w.ledger_rows FROM entry, w
"""

# credits.expiring: grants (not monthly or rollover) with credits left that expire within the window
# and were not announced yet; marks them and writes one outbox row each. SKIP LOCKED: a grant a
# writer has locked right now is announced by the next run.
ANNOUNCE_EXPIRING = """
WITH due AS (
    SELECT id FROM wallets_grant
    WHERE remaining > 0 AND expiring_notified_at IS NULL AND source NOT IN ('monthly', 'rollover')
      AND expires_at > %(now)s AND expires_at <= %(until)s
    ORDER BY id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
),
marked AS (
    UPDATE wallets_grant g SET expiring_notified_at = %(now)s FROM due WHERE g.id = due.id
    RETURNING g.id, g.wallet_id, g.source, g.remaining, g.expires_at, g.reason
)
INSERT INTO outbox_outboxevent (wallet_id, event_type, data, created_at)
SELECT m.wallet_id, 'credits.expiring',
       jsonb_build_object('wallet_id', m.wallet_id, 'username', u.username, 'grant_id', m.id, 'source', m.source,
                          'credits', m.remaining, 'expires_at', m.expires_at, 'reason', m.reason),
       %(now)s
FROM marked m JOIN auth_user u ON u.id = m.wallet_id
"""
