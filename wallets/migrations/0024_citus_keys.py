"""Every per-wallet table's keys include the wallet's key (the distribution column on Citus).

- Primary keys become (id, wallet_id): `id` first, so lookups by id alone keep their index; Django's
  model state keeps `id` as the primary key (from a sequence, it stays unique).
- A membership's key becomes (user_id, team_id); "a user is in one team at most" moves to the
  lookup table wallets_teamseat (keyed by the user, written with the membership).
- "One wallet per user" is no longer a UNIQUE on user_id: a personal wallet's key is its user's id
  (migration 0020), so a CHECK (user_id = id) lets the primary key keep it. user_id keeps a plain
  index for the lookups by user."""

from django.conf import settings
from django.db import migrations, models
from django.db.models import F, Q

from common.sql_keys import primary_key

PER_WALLET = ["wallets_hold", "wallets_grant", "wallets_allowanceusage", "wallets_memberusage", "wallets_recharge",
              "wallets_access"]

KEYS = "".join(primary_key(table, "id, wallet_id") for table in PER_WALLET) + primary_key(
    "wallets_membership", "user_id, team_id"
) + """
ALTER TABLE wallets_wallet DROP CONSTRAINT wallets_wallet_user_id_key;
CREATE INDEX wallets_wallet_user_id_idx ON wallets_wallet (user_id);
"""

KEYS_BACK = "".join(primary_key(table, "id") for table in PER_WALLET) + primary_key(
    "wallets_membership", "user_id"
) + """
DROP INDEX wallets_wallet_user_id_idx;
ALTER TABLE wallets_wallet ADD CONSTRAINT wallets_wallet_user_id_key UNIQUE (user_id);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("wallets", "0023_sql_wallets_hold_capture_and_more"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TeamSeat",
            fields=[
                ("user", models.OneToOneField(on_delete=models.deletion.CASCADE, primary_key=True, related_name="+",
                                              serialize=False, to=settings.AUTH_USER_MODEL)),
                ("team_id", models.IntegerField()),
            ],
        ),
        migrations.RunSQL(
            "INSERT INTO wallets_teamseat (user_id, team_id) SELECT user_id, team_id FROM wallets_membership",
            migrations.RunSQL.noop,
        ),
        migrations.AddConstraint(
            model_name="wallet",
            constraint=models.CheckConstraint(condition=Q(user__isnull=True) | Q(user=F("id")),
                                              name="wallet_key_is_its_user"),
        ),
        migrations.RunSQL(KEYS, KEYS_BACK),
    ]
