"""The capture, leaner: its hold found by the primary key alone, and less for PostgreSQL to start.

1. It read the hold (and later updated it) `WHERE wallet_id = p_wallet AND id = p_hold`. With both
   conditions the planner may take the hold's `wallet_id` index instead of the primary key, and
   does whenever the table's statistics are older than its rows (a new database, a wallet that
   has just been busy): the capture then walked every hold the wallet ever had, twice, a cost
   that grew with the wallet's history (0.28 ms of each lookup at a thousand holds, half of a
   capture's time in PostgreSQL). By the key alone only the primary key can serve the lookup; the
   hold's wallet is checked on the row instead (a hold of another wallet is `missing`, as before).
2. Starting a statement's executor is a large part of a short statement's cost (a profile of the
   capture under load: a sixth in `ExecutorStart`, another in building CHECK constraints for each
   table written). The low-balance rule is now a PL/pgSQL expression (no executor), and the outbox
   rows of an alert are a statement of their own, run only by the capture that crosses a threshold,
   instead of an INSERT node (with its join and aggregate) that every capture started and left
   empty. Same results, same outbox rows (`wallets/tests/test_purchase.py`, the alert tests)."""

import importlib

from django.db import migrations

CAPTURE = """
CREATE OR REPLACE FUNCTION wallets_purchase_capture(
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
    alert record;
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
    SELECT hh.wallet_id, hh.status, hh.action_type, hh.reference, hh.quantity, hh.amount, hh.free_units,
           hh.allocations, s.monthly, s.purchased, s.bonus
    INTO h
    FROM wallets_hold hh,
         LATERAL (SELECT coalesce(sum((m->>1)::integer) FILTER (WHERE m->>2 IN ('monthly', 'rollover')), 0) AS monthly,
                         coalesce(sum((m->>1)::integer) FILTER (WHERE m->>2 = 'purchase'), 0) AS purchased,
                         coalesce(sum((m->>1)::integer) FILTER (WHERE m->>2 IN ('promo', 'trial', 'compensation')), 0)
                             AS bonus
                  FROM jsonb_array_elements(hh.allocations) AS m) AS s
    WHERE hh.id = p_hold;  -- the primary key alone: see the module's docstring
    IF NOT FOUND OR h.wallet_id <> p_wallet THEN
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
    -- An expression, not a query: PL/pgSQL evaluates it without starting an executor.
    alert := wallets_alert_transition(w.low_balance_state, available_after, w.low_balance_threshold);

    -- In one statement: the hold, the wallet's totals, the `spend` row, the grants' `held` and the
    -- allocations, every change relative to the locked rows.
    WITH held AS (
        UPDATE wallets_hold SET status = 'captured', settled_at = p_now WHERE id = p_hold
    ),
    wallet_row AS (
        UPDATE wallets_wallet
        SET monthly_balance = monthly_balance - h.monthly, purchased_balance = purchased_balance - h.purchased,
            bonus_balance = bonus_balance - h.bonus, reserved = reserved - h.amount, ledger_rows = ledger_rows + 1,
            low_balance_state = alert.state, updated_at = p_now
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
    )
    SELECT entry.id INTO entry_id FROM entry;
    IF cardinality(alert.events) > 0 THEN
        -- The outbox rows of the alerts that fire (as `outbox.services.event_emit` writes them): a
        -- statement of their own, run only by the rare capture that crosses a threshold.
        WITH events AS (
            INSERT INTO outbox_outboxevent (wallet_id, event_type, data, created_at)
            SELECT p_wallet, a.event_type,
                   jsonb_build_object('available', available_after, 'current_balance', total_after,
                                      'threshold', w.low_balance_threshold, 'ledger_entry_id', entry_id,
                                      'wallet_id', p_wallet, 'username', u.username),
                   p_now
            FROM unnest(alert.events) WITH ORDINALITY AS a(event_type, n)
            JOIN auth_user u ON u.id = p_wallet
            ORDER BY a.n
            RETURNING id
        )
        SELECT array_agg(events.id ORDER BY events.id) INTO event_ids FROM events;
    END IF;
    charged := h.amount;
    balance := total_after;
    outcome := 'captured';
END
$$;
"""

PREVIOUS = importlib.import_module("wallets.migrations.0009_gate_functions").CAPTURE.replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
)


class Migration(migrations.Migration):
    dependencies = [("wallets", "0010_alert_transition_plpgsql")]

    operations = [migrations.RunSQL(CAPTURE, PREVIOUS)]
