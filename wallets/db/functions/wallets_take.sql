-- Take up to `p_amount` spendable credits out of a locked wallet's grants, in the spending order
-- (wallets_spend_plan), for good: a refund, an expiry ahead of time, a staff correction. Returns
-- what came from which grant ([grant id, credits, source, cost basis, currency], in that order),
-- for the ledger row that records it (wallets_ledger_write, the grants already changed). Unless
-- `p_up_to`, fewer credits than asked is an error (CR001: the wallet's totals and grants disagree).
CREATE OR REPLACE FUNCTION wallets_take(p_wallet integer, p_amount integer, p_now timestamptz, p_sources text[],
                                        p_grant_key text, p_up_to boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    plan record;
BEGIN
    plan := wallets_spend_plan(p_wallet, p_amount, p_now, p_sources, p_grant_key);
    IF plan.credits <> p_amount AND NOT p_up_to THEN
        RAISE EXCEPTION 'wallet % totals and grants disagree: fewer than % credits spendable', p_wallet, p_amount
            USING ERRCODE = 'CR001';
    END IF;
    UPDATE wallets_grant g SET remaining = g.remaining - m.credits
    FROM (SELECT (e->>0)::bigint AS grant_id, (e->>1)::integer AS credits
          FROM jsonb_array_elements(plan.moves) AS e) AS m
    WHERE g.wallet_id = p_wallet
      AND g.id = ANY (ARRAY(SELECT (e->>0)::bigint FROM jsonb_array_elements(plan.moves) AS e))
      AND g.id = m.grant_id;
    RETURN plan.moves;
END
$$;
