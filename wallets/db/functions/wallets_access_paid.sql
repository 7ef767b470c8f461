-- Paid access is a fact of the wallet: has it paid for `p_action` on `p_reference` (a resource the
-- feature app names, e.g. an Instagram username) with an access still in force at `p_now`?
-- PL/pgSQL, not SQL: its query's plan is kept per connection instead of being inlined into (and
-- planned again with) every statement that calls it.
CREATE OR REPLACE FUNCTION wallets_access_paid(p_wallet integer, p_action text, p_reference text, p_now timestamptz)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (
        SELECT 1 FROM wallets_access
        WHERE wallet_id = p_wallet AND action_type = p_action AND reference = p_reference
          AND (expires_at IS NULL OR expires_at > p_now)
    );
END
$$;
