"""A wallet's key of its own: the primary key column `user_id` becomes `id` (same values, so every
wallet-scoped row's `wallet_id` still points at it), and `user_id` comes back as an ordinary,
nullable, unique column (a team's wallet has no user). Team wallets take negative keys from
`wallets_team_wallet_id`."""

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion

FORWARD = """
DO $$
DECLARE fk text;
BEGIN
    SELECT conname INTO fk FROM pg_constraint
    WHERE conrelid = 'wallets_wallet'::regclass AND contype = 'f'
      AND conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = 'wallets_wallet'::regclass
                                                             AND attname = 'user_id')];
    EXECUTE format('ALTER TABLE wallets_wallet DROP CONSTRAINT %I', fk);
END $$;
ALTER TABLE wallets_wallet RENAME COLUMN user_id TO id;
ALTER TABLE wallets_wallet ADD COLUMN user_id integer NULL;
UPDATE wallets_wallet SET user_id = id;
ALTER TABLE wallets_wallet ADD CONSTRAINT wallets_wallet_user_id_key UNIQUE (user_id);
ALTER TABLE wallets_wallet ADD CONSTRAINT wallets_wallet_user_id_fk_auth_user_id
    FOREIGN KEY (user_id) REFERENCES auth_user (id) DEFERRABLE INITIALLY DEFERRED;
CREATE SEQUENCE wallets_team_wallet_id INCREMENT BY -1 MAXVALUE -1 START WITH -1;
"""

BACKWARD = """
DROP SEQUENCE wallets_team_wallet_id;
DELETE FROM wallets_wallet WHERE user_id IS NULL;
ALTER TABLE wallets_wallet DROP COLUMN user_id;
ALTER TABLE wallets_wallet RENAME COLUMN id TO user_id;
ALTER TABLE wallets_wallet ADD CONSTRAINT wallets_wallet_user_id_fk_auth_user_id
    FOREIGN KEY (user_id) REFERENCES auth_user (id) DEFERRABLE INITIALLY DEFERRED;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("wallets", "0019_sql_wallets_period_credits_and_more"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(FORWARD, BACKWARD)],
            state_operations=[
                migrations.RemoveField("wallet", "user"),
                migrations.AddField("wallet", "id", models.IntegerField(primary_key=True, serialize=False), preserve_default=False),
                migrations.AddField(
                    "wallet", "user",
                    models.OneToOneField(
                        blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="wallet",
                        to=settings.AUTH_USER_MODEL, help_text="A personal wallet's owner; empty for a team's wallet.",
                    ),
                ),
            ],
        ),
    ]
