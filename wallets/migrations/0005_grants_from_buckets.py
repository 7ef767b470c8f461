"""Existing wallets' buckets become grants, the ledger untouched: monthly credits a `monthly` grant
ending with the wallet's cycle, purchased credits one `purchase` grant (never expiring, cost basis
unknown: 0). Held credits stay held, monthly first (the order they would have been spent in). Each
grant gets an opening allocation (no ledger row), so allocations sum to the balance from the start."""

from django.db import migrations

FORWARD = """
WITH held AS (
    SELECT user_id, LEAST(reserved, monthly_balance) AS monthly_held,
           reserved - LEAST(reserved, monthly_balance) AS purchase_held,
           monthly_balance, purchased_balance, billing_cycle_start
    FROM wallets_wallet
),
made AS (
    INSERT INTO wallets_grant
        (wallet_id, source, amount, remaining, held, priority, effective_at, expires_at, cost_basis,
         currency, reason, reference, idempotency_key, created_at)
    SELECT user_id, 'monthly', monthly_balance, monthly_balance - monthly_held, monthly_held, 10,
           billing_cycle_start::timestamp AT TIME ZONE 'UTC',
           (billing_cycle_start + interval '1 month')::timestamp AT TIME ZONE 'UTC', 0, '',
           'Monthly credits (from the balance before grants)', to_char(billing_cycle_start, 'YYYY-MM'),
           'monthly:' || to_char(billing_cycle_start, 'YYYY-MM'), now()
    FROM held WHERE monthly_balance > 0
    UNION ALL
    SELECT user_id, 'purchase', purchased_balance, purchased_balance - purchase_held, purchase_held, 30,
           now(), NULL, 0, '', 'Purchased credits (from the balance before grants)', '', 'migrated:purchase', now()
    FROM held WHERE purchased_balance > 0
    RETURNING id, wallet_id, source, amount
),
opening AS (
    INSERT INTO transactions_ledgerallocation
        (entry_id, wallet_id, grant_id, transaction_type, source, amount, cost_basis, currency, created_at)
    SELECT NULL, wallet_id, id, 'opening', source, amount, 0, '', now() FROM made
)
UPDATE wallets_wallet w
SET grants_due_at = (w.billing_cycle_start + interval '1 month')::timestamp AT TIME ZONE 'UTC'
WHERE w.monthly_balance > 0
"""

BACKWARD = """
DELETE FROM transactions_ledgerallocation;
DELETE FROM wallets_grant;
UPDATE wallets_wallet SET grants_due_at = NULL;
"""


class Migration(migrations.Migration):
    dependencies = [("wallets", "0004_grants"), ("transactions", "0006_ledger_allocations")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
