"""A database from before grants (two buckets) migrates to grants with the ledger untouched."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from wallets.models import Grant, Hold, Wallet
from wallets.verification import ledger_problems

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BEFORE_GRANTS = [("wallets", "0003_wallet_holds_due_at"), ("transactions", "0005_payment_events")]


def test_buckets_become_grants_with_held_credits_kept(make_user, rule):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_GRANTS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM pricing_package WHERE is_default")
        package = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,"
            " is_active, date_joined) VALUES ('!', false, 'old-timer', '', '', '', false, true, now()) RETURNING id"
        )
        user_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO wallets_wallet (user_id, package_id, status, monthly_balance, purchased_balance, reserved,"
            " billing_cycle_start, ledger_rows, created_at, updated_at)"
            " VALUES (%s, %s, 'active', 30, 70, 40, date_trunc('month', now())::date, 2, now(), now())",
            [user_id, package],
        )
        cursor.execute(
            "INSERT INTO transactions_ledgerentry (wallet_id, transaction_type, amount, delta, balance_after,"
            " action_type, quantity, reference, description, created_at) VALUES"
            " (%s, 'monthly_grant', 30, 30, 30, '', 1, '', 'old grant', now()),"
            " (%s, 'top_up', 70, 70, 100, '', 1, '', 'old top-up', now())",
            [user_id, user_id],
        )
        cursor.execute(
            "INSERT INTO wallets_hold (wallet_id, action_type, quantity, amount, free_units, period, reference,"
            " status, expires_at, created_at) VALUES (%s, 'test_action', 2, 40, 0, date_trunc('month', now())::date,"
            " 'x', 'held', now() + interval '1 hour', now())",
            [user_id],
        )
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    wallet = Wallet.objects.get(pk=user_id)
    grants = {g.source: (g.amount, g.remaining, g.held) for g in Grant.objects.filter(wallet=wallet)}
    assert grants == {"monthly": (30, 0, 30), "purchase": (70, 60, 10)}  # held credits: monthly first
    assert (wallet.current_balance, wallet.reserved) == (100, 40)
    assert ledger_problems() == []
    # The old hold settles against the migrated grants: capture spends what they hold.
    from wallets import services

    services.credits_capture(hold=Hold.objects.get(wallet=wallet))
    assert {g.source: (g.remaining, g.held) for g in Grant.objects.filter(wallet=wallet)} == {
        "monthly": (0, 0), "purchase": (60, 0)}
    assert ledger_problems() == []
