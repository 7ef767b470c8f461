-- The one order credits are spent in: priority, then earliest expiry (never-expiring last), then
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
