"""Frozen copies of outbox/db/ (outbox_event_data), written by `manage.py sqlmigrations`.

Do not edit: change the file under outbox/db/ and run the command again."""

from django.db import migrations

from common.sql_migrations import WriteSql


class Migration(migrations.Migration):
    dependencies = [('outbox', '0004_subscription_event_types')]

    operations = [
        WriteSql(
            'functions',
            'outbox_event_data',
            """-- The one shape of an event's data: what the cause says (p_data) plus whose wallet it is
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
            previous="""-- The one shape of an event's data: what the cause says (p_data) plus whose wallet it is
-- (`wallet_id`, `username`). Every writer of outbox rows builds its data here, one event or a
-- million (a set-based INSERT calls it per row, the plan cached for the statement).
-- The owner is read from Django's user table (AUTH_USER_MODEL = auth.User; a test holds the two
-- together): this is the one place SQL names it.
CREATE OR REPLACE FUNCTION outbox_event_data(p_wallet integer, p_data jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT p_data || jsonb_build_object('wallet_id', u.id, 'username', u.username)
    FROM auth_user u WHERE u.id = p_wallet
$$;
""",
        ),
    ]
