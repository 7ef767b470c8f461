-- Write one event of a wallet in the caller's transaction (so an event whose cause rolls back was
-- never written); returns its id, for the dispatcher to be told after the commit.
CREATE OR REPLACE FUNCTION outbox_emit(p_wallet integer, p_type text, p_data jsonb, p_now timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    owner text;
    event_id bigint;
BEGIN
    owner := (SELECT u.username FROM auth_user u WHERE u.id = p_wallet);
    INSERT INTO outbox_outboxevent (wallet_id, event_type, data, created_at)
    VALUES (p_wallet, p_type, outbox_event_data(p_wallet, owner, p_data), p_now)
    RETURNING id INTO event_id;
    RETURN event_id;
END
$$;
