-- Which wallet total a grant's credits count in, by the grant's source: `monthly` (monthly and
-- rollover grants: the API's monthly_credits_balance), `purchased` (purchase grants) or `bonus`
-- (promo, trial, compensation). The one definition; a test holds wallets.models.GrantSource to it.
CREATE OR REPLACE FUNCTION wallets_source_bucket(p_source text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_source
        WHEN 'monthly' THEN 'monthly'
        WHEN 'rollover' THEN 'monthly'
        WHEN 'purchase' THEN 'purchased'
        WHEN 'promo' THEN 'bonus'
        WHEN 'trial' THEN 'bonus'
        WHEN 'compensation' THEN 'bonus'
    END
$$;
