-- `credits.expiring`: the grants of `p_wallets` (not monthly or rollover: those end at every reset,
-- which `next_reset` announces) with credits left that expire within (p_now, p_until] and were not
-- announced yet: marked, and one outbox row each. SKIP LOCKED: a grant a writer has locked right
-- now is announced by the next run. Named by wallet, so the wallets of one shard are one statement
-- there (Citus locks within a shard only). Returns how many.
CREATE OR REPLACE FUNCTION wallets_announce_expiring(p_wallets integer[], p_now timestamptz, p_until timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    announced integer;
BEGIN
    WITH due AS (
        SELECT id, wallet_id FROM wallets_grant
        WHERE wallet_id = ANY (p_wallets) AND remaining > 0 AND expiring_notified_at IS NULL
          AND source NOT IN ('monthly', 'rollover') AND expires_at > p_now AND expires_at <= p_until
        ORDER BY wallet_id, id
        FOR UPDATE SKIP LOCKED
    ),
    marked AS (
        UPDATE wallets_grant g SET expiring_notified_at = p_now FROM due WHERE g.wallet_id = due.wallet_id AND g.id = due.id
        RETURNING g.id, g.wallet_id, g.source, g.remaining, g.expires_at, g.reason
    )
    INSERT INTO outbox_outboxevent (wallet_id, event_type, data, created_at)
    SELECT m.wallet_id, 'credits.expiring',
           outbox_event_data(m.wallet_id, (SELECT u.username FROM auth_user u WHERE u.id = m.wallet_id),
                             jsonb_build_object('grant_id', m.id, 'source', m.source, 'credits', m.remaining,
                                                'expires_at', m.expires_at, 'reason', m.reason)),
           p_now
    FROM marked m;
    GET DIAGNOSTICS announced = ROW_COUNT;
    RETURN announced;
END
$$;
