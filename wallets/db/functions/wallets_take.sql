-- Take up to `p_amount` spendable credits out of a locked wallet's grants, in the spending order
-- (wallets_spend_plan), for good: a refund, an expiry ahead of time, a staff correction. Returns
-- what came from which grant ([grant id, credits, source, cost basis, currency], in that order),
-- for the ledger row that records it (wallets_ledger_write, the grants already changed). Unless
-- `p_up_to`, fewer credits than asked is an error (CR001: the wallet's totals and grants disagree).
CREATE OR REPLACE FUNCTION wallets_take(p_wallet integer, p_amount integer, p_now timestamptz, p_sources text[],
                                        p_grant_key text, p_up_to boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    moves jsonb;
    taken integer;
BEGIN
    WITH take AS (
        SELECT * FROM wallets_spend_plan(p_wallet, p_amount, p_now, p_sources, p_grant_key)
    ),
    moved AS (
        UPDATE wallets_grant g SET remaining = g.remaining - take.credits
        FROM take WHERE g.wallet_id = p_wallet AND g.id = take.grant_id
        RETURNING g.id
    )
    SELECT coalesce(jsonb_agg(jsonb_build_array(take.grant_id, take.credits, take.source, take.cost_basis::text,
                                                take.currency) ORDER BY take.before), '[]'::jsonb),
           coalesce(sum(take.credits), 0)
    INTO moves, taken
    FROM take JOIN moved ON moved.id = take.grant_id;
    IF taken <> p_amount AND NOT p_up_to THEN
        RAISE EXCEPTION 'wallet % totals and grants disagree: fewer than % credits spendable', p_wallet, p_amount
            USING ERRCODE = 'CR001';
    END IF;
    RETURN moves;
END
$$;
