-- Release a wallet's holds past their expiry (requests that died mid-flight), then move the
-- wallet's `holds_due_at` to the next open hold's expiry. Returns how many.
CREATE OR REPLACE FUNCTION wallets_holds_release_expired(p_wallet integer, p_now timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    expired_hold bigint;
    released integer := 0;
BEGIN
    FOR expired_hold IN
        SELECT id FROM wallets_hold
        WHERE wallet_id = p_wallet AND status = 'held' AND expires_at <= p_now ORDER BY id
    LOOP
        PERFORM wallets_hold_release(p_wallet, expired_hold, 'expired', p_now);
        released := released + 1;
    END LOOP;
    UPDATE wallets_wallet
    SET holds_due_at = (SELECT min(expires_at) FROM wallets_hold WHERE wallet_id = p_wallet AND status = 'held'),
        updated_at = p_now
    WHERE id = p_wallet;
    RETURN released;
END
$$;
