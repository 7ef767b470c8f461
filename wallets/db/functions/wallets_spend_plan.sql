-- The one order credits are spent in: priority, then earliest expiry (never-expiring last), then
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
