-- The ledger writer: one balance change of one locked wallet, as one ledger row. In one statement:
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
