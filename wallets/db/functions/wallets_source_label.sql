-- A grant source as people read it, in ledger descriptions ("Promotion credits expired"); the same
-- labels as wallets.models.GrantSource shows in the admin and API (a test holds them equal).
CREATE OR REPLACE FUNCTION wallets_source_label(p_source text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_source
        WHEN 'monthly' THEN 'Monthly allowance'
        WHEN 'rollover' THEN 'Rollover'
        WHEN 'purchase' THEN 'Purchase'
        WHEN 'promo' THEN 'Promotion'
        WHEN 'trial' THEN 'Trial'
        WHEN 'compensation' THEN 'Compensation'
    END
$$;
