"""Frozen copies of outbox/db/ (outbox_emit, outbox_event_data), written by `manage.py sqlmigrations`.

Do not edit: change the file under outbox/db/ and run the command again."""

from django.db import migrations

from common.sql_migrations import WriteSql


class Migration(migrations.Migration):
    dependencies = [('outbox', '0006_citus_keys')]

    operations = [
        WriteSql(
            'functions',
            'outbox_emit',
            """-- Write one event of a wallet in the caller's transaction (so an event whose cause rolls back was
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
""",
            previous="""-- Write one event of a wallet in the caller's transaction (so an event whose cause rolls back was
-- never written); returns its id, for the dispatcher to be told after the commit.
CREATE OR REPLACE FUNCTION outbox_emit(p_wallet integer, p_type text, p_data jsonb, p_now timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    event_id bigint;
BEGIN
    INSERT INTO outbox_outboxevent (wallet_id, event_type, data, created_at)
    VALUES (p_wallet, p_type, outbox_event_data(p_wallet, p_data), p_now)
    RETURNING id INTO event_id;
    RETURN event_id;
END
$$;
""",
        ),
        WriteSql(
            'functions',
            'outbox_event_data',
            """-- The one shape of an event's data: what the cause says (p_data) plus whose wallet it is
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
""",
            previous="""-- The one shape of an event's data: what the cause says (p_data) plus whose wallet it is
-- (`wallet_id`, `username`). Every writer of outbox rows builds its data here, one event or a
-- million (a set-based INSERT calls it per row, the plan cached for the statement).
-- The owner is read from Django's user table (AUTH_USER_MODEL = auth.User; a test holds the two
-- together): this is the one place SQL names it. A personal wallet's key is its user's id; a
-- team's wallet (a negative key) has no username (null).
CREATE OR REPLACE FUNCTION outbox_event_data(p_wallet integer, p_data jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT p_data || jsonb_build_object(
        'wallet_id', p_wallet, 'username', (SELECT u.username FROM auth_user u WHERE u.id = p_wallet))
$$;
""",
        ),
    ]
