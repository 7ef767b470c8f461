"""Payments' per-wallet tables keyed with the wallet's key (the distribution column on Citus), and
the Stripe ids that must stay unique across wallets kept so by lookup tables of their own (keyed by
the id, written with the row: `common.claims`), since a UNIQUE on the wallet's table must include
the wallet's key.

- transactions_topup, payments_subscription: primary key (id, wallet_id) (Django's state keeps `id`).
- provider_reference, customer_id, stripe_subscription_id: UNIQUE (value, wallet_id) on the table
  (the value first: lookups by it alone keep an index), unique across wallets by
  payments_topupreference, payments_customerreference, payments_subscriptionreference.
- The top-up's ledger entry: (wallet_id, ledger_entry_id) references the entry's (wallet_id, id)
  (the single-column key went with transactions' migration 0012)."""

from django.db import migrations, models

from common.sql_keys import primary_key

KEYS = primary_key("transactions_topup", "id, wallet_id") + primary_key("payments_subscription", "id, wallet_id") + """
ALTER TABLE transactions_topup ADD CONSTRAINT topup_ledger_entry_fk
    FOREIGN KEY (wallet_id, ledger_entry_id) REFERENCES transactions_ledgerentry (wallet_id, id)
    DEFERRABLE INITIALLY DEFERRED;
"""
KEYS_BACK = """
ALTER TABLE transactions_topup DROP CONSTRAINT topup_ledger_entry_fk;
""" + primary_key("transactions_topup", "id") + primary_key("payments_subscription", "id")

CLAIMS = """
INSERT INTO payments_topupreference (provider_reference, wallet_id)
    SELECT provider_reference, wallet_id FROM transactions_topup WHERE provider_reference IS NOT NULL;
INSERT INTO payments_customerreference (customer_id, wallet_id) SELECT customer_id, wallet_id FROM payments_stripecustomer;
INSERT INTO payments_subscriptionreference (stripe_subscription_id, wallet_id)
    SELECT stripe_subscription_id, wallet_id FROM payments_subscription;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0003_subscription"),
        ("transactions", "0012_citus_keys"),
    ]

    operations = [
        migrations.CreateModel(
            name="CustomerReference",
            fields=[
                ("customer_id", models.CharField(max_length=255, primary_key=True, serialize=False)),
                ("wallet_id", models.IntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="SubscriptionReference",
            fields=[
                ("stripe_subscription_id", models.CharField(max_length=255, primary_key=True, serialize=False)),
                ("wallet_id", models.IntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="TopUpReference",
            fields=[
                ("provider_reference", models.CharField(max_length=255, primary_key=True, serialize=False)),
                ("wallet_id", models.IntegerField()),
            ],
        ),
        migrations.RunSQL(CLAIMS, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="stripecustomer", name="customer_id", field=models.CharField(max_length=255),
        ),
        migrations.AlterField(
            model_name="subscription", name="stripe_subscription_id", field=models.CharField(max_length=255),
        ),
        migrations.AlterField(
            model_name="topup", name="provider_reference",
            field=models.CharField(blank=True, max_length=255, null=True),
        ),
        migrations.AddConstraint(
            model_name="stripecustomer",
            constraint=models.UniqueConstraint(fields=("customer_id", "wallet"), name="stripe_customer_unique"),
        ),
        migrations.AddConstraint(
            model_name="subscription",
            constraint=models.UniqueConstraint(fields=("stripe_subscription_id", "wallet"),
                                               name="subscription_stripe_id_unique"),
        ),
        migrations.AddConstraint(
            model_name="topup",
            constraint=models.UniqueConstraint(fields=("provider_reference", "wallet"), name="topup_reference_unique"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="topup", name="ledger_entry",
                    field=models.ForeignKey(blank=True, db_constraint=False, null=True,
                                            on_delete=models.deletion.PROTECT, related_name="+",
                                            to="transactions.ledgerentry"),
                ),
            ],
            database_operations=[migrations.RunSQL(KEYS, KEYS_BACK)],
        ),
    ]
