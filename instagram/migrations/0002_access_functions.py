"""The access policy's two questions as SQL functions, so the wallets' gate functions can ask them
inside their own statements (after the wallet lock) without knowing this app's tables:

    instagram_access_paid(wallet, action_type, username, now) -> boolean
        an access to the resource is in force at `now`;
    instagram_access_grant(wallet, action_type, username, expires_at, now) -> boolean
        record the access until `expires_at` (NULL: forever), or renew an expired one, and say true;
        say false if one is in force. INSERT ... ON CONFLICT decides on the latest committed row.

`instagram.access.InstagramAccess` names them (`sql_paid`, `sql_grant`) and its `grant()` calls
the second one, so there is one implementation of each."""

from django.db import migrations

CREATE = """
CREATE FUNCTION instagram_access_paid(p_wallet integer, p_action text, p_username text, p_now timestamptz)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- PL/pgSQL, not SQL: its query's plan is kept per connection instead of being inlined into
    -- (and planned again with) every statement that calls it.
    RETURN EXISTS (
        SELECT 1 FROM instagram_access
        WHERE wallet_id = p_wallet AND action_type = p_action AND username = p_username
          AND (expires_at IS NULL OR expires_at > p_now)
    );
END
$$;

CREATE FUNCTION instagram_access_grant(p_wallet integer, p_action text, p_username text,
                                       p_expires_at timestamptz, p_now timestamptz)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO instagram_access AS a (wallet_id, action_type, username, expires_at, created_at, renewed_at)
    VALUES (p_wallet, p_action, p_username, p_expires_at, p_now, p_now)
    ON CONFLICT (wallet_id, action_type, username) DO UPDATE
    SET expires_at = excluded.expires_at, renewed_at = excluded.renewed_at
    WHERE a.expires_at IS NOT NULL AND a.expires_at <= p_now;
    RETURN FOUND;
END
$$;
"""

DROP = """
DROP FUNCTION instagram_access_grant(integer, text, text, timestamptz, timestamptz);
DROP FUNCTION instagram_access_paid(integer, text, text, timestamptz);
"""


class Migration(migrations.Migration):
    dependencies = [("instagram", "0001_initial")]
    operations = [migrations.RunSQL(CREATE, DROP)]
