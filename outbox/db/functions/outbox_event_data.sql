-- The one shape of an event's data: what the cause says (p_data) plus whose wallet it is
-- (`wallet_id`, `username`: the owner's name in Django's user table, AUTH_USER_MODEL = auth.User;
-- a team's wallet, a negative key, has none: null). Every writer of outbox rows builds its data
-- here, one event or a million (a set-based INSERT calls it per row). The caller reads the name in
-- its own statement (`auth_user` by the wallet's key; a test holds every such read to the user
-- table): on Citus a statement is sent whole to a shard's node, where a function that read the
-- users itself would not find them.
CREATE OR REPLACE FUNCTION outbox_event_data(p_wallet integer, p_username text, p_data jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_data || jsonb_build_object('wallet_id', p_wallet, 'username', p_username)
$$;
