-- Record a paid access until `p_expires_at` (NULL: forever), or renew an expired one, and say true;
-- say false if one is in force (another request paid for it). One statement that is both the
-- question and the answer: INSERT ... ON CONFLICT decides on the latest committed row.
CREATE OR REPLACE FUNCTION wallets_access_grant(p_wallet integer, p_action text, p_reference text,
                                                p_expires_at timestamptz, p_now timestamptz)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wallets_access AS a (wallet_id, action_type, reference, expires_at, created_at, renewed_at)
    VALUES (p_wallet, p_action, left(p_reference, 255), p_expires_at, p_now, p_now)
    ON CONFLICT (wallet_id, action_type, reference) DO UPDATE
    SET expires_at = excluded.expires_at, renewed_at = excluded.renewed_at
    WHERE a.expires_at IS NOT NULL AND a.expires_at <= p_now;
    RETURN FOUND;
END
$$;
