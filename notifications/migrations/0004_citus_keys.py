"""Deliveries and their attempts keyed with the wallet's key (the distribution column on Citus).

- notifications_delivery: wallet_id an integer like every other wallet key, primary key
  (id, wallet_id), one delivery per (event, endpoint) as (event_id, endpoint_id, wallet_id) (an
  event has one wallet), and (wallet_id, event_id) referencing the event's (wallet_id, id).
- notifications_deliveryattempt: gets its delivery's wallet_id, primary key (id, wallet_id), and
  (wallet_id, delivery_id) referencing the delivery's (wallet_id, id).
- notifications_notification: a user's, not a wallet's; its event reference has no constraint
  (the event's key is (wallet_id, id)).
Django's model state keeps `id` as each table's primary key (from a sequence, it stays unique)."""

from django.db import migrations, models

from common.sql_keys import primary_key

KEYS = primary_key("notifications_delivery", "id, wallet_id", cascade=True) + """
ALTER TABLE notifications_delivery ADD CONSTRAINT delivery_event_fk
    FOREIGN KEY (wallet_id, event_id) REFERENCES outbox_outboxevent (wallet_id, id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE notifications_deliveryattempt ADD COLUMN wallet_id integer;
UPDATE notifications_deliveryattempt a SET wallet_id = d.wallet_id FROM notifications_delivery d WHERE d.id = a.delivery_id;
ALTER TABLE notifications_deliveryattempt ALTER COLUMN wallet_id SET NOT NULL;
""" + primary_key("notifications_deliveryattempt", "id, wallet_id") + """
ALTER TABLE notifications_deliveryattempt ADD CONSTRAINT deliveryattempt_delivery_fk
    FOREIGN KEY (wallet_id, delivery_id) REFERENCES notifications_delivery (wallet_id, id) DEFERRABLE INITIALLY DEFERRED;
"""

KEYS_BACK = """
ALTER TABLE notifications_deliveryattempt DROP CONSTRAINT deliveryattempt_delivery_fk;
""" + primary_key("notifications_deliveryattempt", "id") + """
ALTER TABLE notifications_deliveryattempt DROP COLUMN wallet_id;
ALTER TABLE notifications_delivery DROP CONSTRAINT delivery_event_fk;
""" + primary_key("notifications_delivery", "id") + """
ALTER TABLE notifications_deliveryattempt ADD CONSTRAINT notifications_delive_delivery_id_3834a62a_fk_notificat
    FOREIGN KEY (delivery_id) REFERENCES notifications_delivery (id) DEFERRABLE INITIALLY DEFERRED;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_subscription_event_types"),
        ("outbox", "0006_citus_keys"),
    ]

    operations = [
        migrations.AlterField(
            model_name="delivery", name="wallet_id",
            field=models.IntegerField(help_text="The event's wallet: deliveries of one wallet go in order."),
        ),
        migrations.RemoveConstraint(model_name="delivery", name="one_delivery_per_event_endpoint"),
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.UniqueConstraint(fields=("event", "endpoint", "wallet_id"),
                                               name="one_delivery_per_event_endpoint"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="delivery", name="event",
                    field=models.ForeignKey(db_constraint=False, on_delete=models.deletion.CASCADE,
                                            related_name="deliveries", to="outbox.outboxevent"),
                ),
                migrations.AlterField(
                    model_name="notification", name="event",
                    field=models.OneToOneField(db_constraint=False, on_delete=models.deletion.CASCADE,
                                               related_name="notification", to="outbox.outboxevent"),
                ),
                migrations.AlterField(
                    model_name="deliveryattempt", name="delivery",
                    field=models.ForeignKey(db_constraint=False, on_delete=models.deletion.CASCADE,
                                            related_name="attempt_log", to="notifications.delivery"),
                ),
                migrations.AddField(
                    model_name="deliveryattempt", name="wallet_id",
                    field=models.IntegerField(help_text="The delivery's wallet (the distribution column on Citus)."),
                    preserve_default=False,
                ),
            ],
            database_operations=[migrations.RunSQL(KEYS, KEYS_BACK)],
        ),
    ]
