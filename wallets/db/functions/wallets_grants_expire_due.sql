-- Expire what is left of a wallet's grants past their expiry: one `expiry` row per grant (through
-- wallets_ledger_write) and a `credits.expired` event, then move the wallet's `grants_due_at` to
-- the next expiry. Held credits are not touched: they settle with their hold. Returns how many.
CREATE OR REPLACE FUNCTION wallets_grants_expire_due(p_wallet integer, p_now timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    g record;
    written record;
    expired integer := 0;
BEGIN
    FOR g IN
        SELECT id, source, remaining, cost_basis, currency, reference, reason, expires_at FROM wallets_grant
        WHERE wallet_id = p_wallet AND remaining > 0 AND expires_at <= p_now
        ORDER BY expires_at, id
    LOOP
        UPDATE wallets_grant SET expired_at = p_now WHERE wallet_id = p_wallet AND id = g.id;
        written := wallets_ledger_write(
            p_wallet, 'expiry',
            jsonb_build_array(jsonb_build_array(g.id, g.remaining, g.source, g.cost_basis::text, g.currency)),
            -1, 'remaining', 0, '', 1, g.reference,
            wallets_source_label(g.source) || ' credits expired' || CASE WHEN g.reason <> '' THEN ' (' || g.reason || ')' ELSE '' END,
            NULL, NULL, NULL, NULL, p_now);
        PERFORM outbox_emit(p_wallet, 'credits.expired', jsonb_build_object(
            'available', written.available_after, 'current_balance', written.balance_after, 'grant_id', g.id,
            'source', g.source, 'credits', g.remaining, 'expired_at', g.expires_at), p_now);
        expired := expired + 1;
    END LOOP;
    UPDATE wallets_wallet
    SET grants_due_at = (SELECT min(expires_at) FROM wallets_grant
                         WHERE wallet_id = p_wallet AND remaining > 0 AND expires_at IS NOT NULL),
        updated_at = p_now
    WHERE id = p_wallet;
    RETURN expired;
END
$$;
