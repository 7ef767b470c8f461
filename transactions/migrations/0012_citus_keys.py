"""The ledger's primary keys become (id, wallet_id), the wallet's key being the distribution column
on Citus (Django's model state keeps `id`: from a sequence, it stays unique). The top-up's foreign key
to its ledger entry goes with the old key; payments' migration 0004 makes it (wallet_id, ledger_entry_id)."""

from django.db import migrations

from common.sql_keys import primary_key

KEYS = primary_key("transactions_ledgerentry", "id, wallet_id", cascade=True) + primary_key(
    "transactions_ledgerallocation", "id, wallet_id"
)
KEYS_BACK = primary_key("transactions_ledgerentry", "id", cascade=True) + primary_key(
    "transactions_ledgerallocation", "id"
) + """
ALTER TABLE transactions_topup ADD CONSTRAINT transactions_topup_ledger_entry_id_b05c20fe_fk_transacti
    FOREIGN KEY (ledger_entry_id) REFERENCES transactions_ledgerentry (id) DEFERRABLE INITIALLY DEFERRED;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("transactions", "0011_ledger_member"),
        ("payments", "0003_subscription"),  # the top-up's foreign key this key change drops exists
    ]

    operations = [migrations.RunSQL(KEYS, KEYS_BACK)]
