-- A grant's default priority by its source (lower spends first): free credits that expire soonest
-- go before paid ones that never do. Staff may give a grant another priority.
CREATE OR REPLACE FUNCTION wallets_source_priority(p_source text) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_source
        WHEN 'promo' THEN 0
        WHEN 'trial' THEN 0
        WHEN 'monthly' THEN 10
        WHEN 'rollover' THEN 10
        WHEN 'compensation' THEN 20
        WHEN 'purchase' THEN 30
    END::smallint
$$;
