"""The outbox keyed with the wallet's key (the distribution column on Citus): wallet_id becomes an
integer like every other wallet key, the primary key (id, wallet_id) (Django's state keeps `id`),
and the uid unique per wallet (uid, wallet_id); across wallets it stays unique by being a random
UUID. The deliveries' and notifications' single-column foreign keys to the event go with the old
key; notifications' migration 0004 replaces the deliveries' one with (wallet_id, event_id)."""

from django.contrib.postgres.functions import RandomUUID
from django.db import migrations, models

from common.sql_keys import primary_key

KEYS_BACK = primary_key("outbox_outboxevent", "id", cascade=True) + """
ALTER TABLE notifications_delivery ADD CONSTRAINT notifications_delive_event_id_b0d7d368_fk_outbox_ou
    FOREIGN KEY (event_id) REFERENCES outbox_outboxevent (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE notifications_notification ADD CONSTRAINT notifications_notifi_event_id_28551f97_fk_outbox_ou
    FOREIGN KEY (event_id) REFERENCES outbox_outboxevent (id) DEFERRABLE INITIALLY DEFERRED;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0005_sql_outbox_event_data"),
        ("notifications", "0003_subscription_event_types"),  # the foreign keys this key change drops exist
    ]

    operations = [
        migrations.AlterField(
            model_name="outboxevent", name="wallet_id", field=models.IntegerField(),
        ),
        migrations.AlterField(
            model_name="outboxevent", name="uid",
            field=models.UUIDField(db_default=RandomUUID(), editable=False),
        ),
        migrations.AddConstraint(
            model_name="outboxevent",
            constraint=models.UniqueConstraint(fields=("uid", "wallet_id"), name="outbox_uid_unique"),
        ),
        migrations.RunSQL(primary_key("outbox_outboxevent", "id, wallet_id", cascade=True), KEYS_BACK),
    ]
