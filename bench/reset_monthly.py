"""Benchmark: the monthly reset of N wallets on PostgreSQL, against one raw INSERT ... SELECT.

    .venv/bin/python -m bench.reset_monthly [--wallets 100000] [--batch-size 5000]

Uses its own database (credits_bench by default, dropped and recreated), never the app's or the tests'.
"""

import argparse
import sys
import time
from datetime import date

from .common import recreate_database, setup_django


def seed(wallets: int, previous: date, period: date) -> None:
    """N users with wallets on the Professional package (100 a month, 50 roll over), each holding what
    is left of last month's grant (80 to 119 credits) as a monthly grant ending at `period`."""
    from django.db import connection

    label = f"{previous:%Y-%m}"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,"
            " is_staff, is_active, date_joined)"
            " SELECT '!', false, 'bench' || g, '', '', '', false, true, now() FROM generate_series(1, %s) g",
            [wallets],
        )
        cursor.execute("SELECT id FROM pricing_package WHERE name = 'Professional'")
        package_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO wallets_wallet (id, user_id, package_id, status, monthly_balance, purchased_balance,"
            " bonus_balance, reserved, billing_cycle_start, ledger_rows, grants_due_at, created_at, updated_at)"
            " SELECT id, id, %s, 'active', 80 + id %% 40, 0, 0, 0, %s, 1, %s, now(), now() FROM auth_user",
            [package_id, previous, period],
        )
        cursor.execute(
            "INSERT INTO wallets_grant (wallet_id, source, amount, remaining, held, priority, effective_at,"
            " expires_at, cost_basis, currency, reason, reference, idempotency_key, created_at)"
            " SELECT id, 'monthly', monthly_balance, monthly_balance, 0, 10, %s, %s, 0, '', 'seed', %s, %s, now()"
            " FROM wallets_wallet",
            [previous, period, label, f"monthly:{label}"],
        )
        cursor.execute(
            "INSERT INTO transactions_ledgerentry (wallet_id, transaction_type, amount, delta, balance_after,"
            " action_type, quantity, reference, description, idempotency_key, created_at)"
            " SELECT id, 'monthly_grant', monthly_balance, monthly_balance, monthly_balance, '', 1, '',"
            " 'seed', %s, now() FROM wallets_wallet",
            [f"monthly_grant:{label}"],
        )
        cursor.execute(
            "INSERT INTO transactions_ledgerallocation (entry_id, wallet_id, grant_id, transaction_type, source,"
            " amount, cost_basis, currency, created_at)"
            " SELECT e.id, e.wallet_id, g.id, 'monthly_grant', 'monthly', e.amount, 0, '', now()"
            " FROM transactions_ledgerentry e JOIN wallets_grant g ON g.wallet_id = e.wallet_id"
        )
        cursor.execute("ANALYZE")


def raw_insert_select(period: date) -> float:
    """The same rows the reset writes (per wallet: an expiry and a grant ledger row, a rollover and a
    monthly grant, four allocations), each written by one INSERT ... SELECT into a copy of its table
    (same indexes): the floor for writing those rows at all, with no locking and no updates."""
    from django.db import connection

    label = f"{period:%Y-%m}"
    due = (" FROM wallets_wallet w JOIN pricing_package p ON p.id = w.package_id"
           " WHERE w.status = 'active' AND w.billing_cycle_start < %(period)s")
    roll = "LEAST(p.rollover_cap, w.monthly_balance)"
    with connection.cursor() as cursor:
        for table in ("transactions_ledgerentry", "wallets_grant", "transactions_ledgerallocation"):
            cursor.execute(f"CREATE TABLE bench_{table} (LIKE {table} INCLUDING ALL)")
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO bench_transactions_ledgerentry (wallet_id, transaction_type, amount, delta, balance_after,"
            " action_type, quantity, reference, description, idempotency_key, created_at)"
            f" SELECT w.id, r.kind, r.amount, r.delta, 0, '', 1, '', '', r.kind || ':' || %(label)s, now()"
            f" {due.split(' WHERE ')[0]}"
            f" CROSS JOIN LATERAL (VALUES ('expiry', w.monthly_balance - {roll}, {roll} - w.monthly_balance),"
            "                            ('monthly_grant', p.monthly_credits, p.monthly_credits)) AS r(kind, amount, delta)"
            " WHERE w.status = 'active' AND w.billing_cycle_start < %(period)s",
            {"label": label, "period": period},
        )
        cursor.execute(
            "INSERT INTO bench_wallets_grant (wallet_id, source, amount, remaining, held, priority, effective_at,"
            " expires_at, cost_basis, currency, reason, reference, idempotency_key, created_at)"
            f" SELECT w.id, r.source, r.amount, r.amount, 0, 10, now(), now(), 0, '', '', %(label)s,"
            f" r.source || ':' || %(label)s, now() {due.split(' WHERE ')[0]}"
            f" CROSS JOIN LATERAL (VALUES ('rollover', {roll}), ('monthly', p.monthly_credits)) AS r(source, amount)"
            " WHERE w.status = 'active' AND w.billing_cycle_start < %(period)s",
            {"label": label, "period": period},
        )
        cursor.execute(
            "INSERT INTO bench_transactions_ledgerallocation (entry_id, wallet_id, grant_id, transaction_type,"
            " source, amount, cost_basis, currency, created_at)"
            f" SELECT w.id, w.id, w.id, r.kind, r.source, r.amount, 0, '', now() {due.split(' WHERE ')[0]}"
            f" CROSS JOIN LATERAL (VALUES ('expiry', 'monthly', {roll} - w.monthly_balance),"
            "                            ('monthly_grant', 'monthly', p.monthly_credits),"
            f"                            ('monthly_grant', 'rollover', {roll}),"
            f"                            ('monthly_grant', 'monthly', -{roll})) AS r(kind, source, amount)"
            " WHERE w.status = 'active' AND w.billing_cycle_start < %(period)s",
            {"period": period},
        )
        return time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wallets", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=None, help="batches at once (default: CREDITS_RESET_WORKERS)")
    args = parser.parse_args(argv)

    recreate_database()
    setup_django()
    from django.db import connection

    from transactions.models import LedgerEntry
    from wallets.services import reset_period

    previous, period = date(2026, 10, 1), date(2026, 11, 1)
    with connection.cursor() as cursor:  # seeding a million wallets is not a web request
        cursor.execute("SET statement_timeout = 0")
    started = time.perf_counter()
    seed(args.wallets, previous, period)
    print(f"seeded {args.wallets} wallets in {time.perf_counter() - started:.1f}s")

    raw_seconds = raw_insert_select(period)
    print(f"raw INSERT ... SELECT of the same rows: {raw_seconds:.2f}s = {args.wallets / raw_seconds:,.0f} wallets/s",
          flush=True)
    report = reset_period(period, batch_size=args.batch_size, workers=args.workers)
    rows = LedgerEntry.objects.filter(idempotency_key__in=[f"expiry:{period:%Y-%m}", f"monthly_grant:{period:%Y-%m}"]).count()
    print(f"monthly reset: {report.wallets_reset} wallets, {rows} ledger rows in {report.seconds:.2f}s "
          f"= {report.per_second:,.0f} wallets/s (batch {args.batch_size}, {args.workers or 'default'} workers)", flush=True)
    print(f"ratio reset / raw: {report.seconds / raw_seconds:.2f}x", flush=True)
    again = reset_period(period, batch_size=args.batch_size, workers=args.workers)
    print(f"second run: {again.wallets_reset} wallets in {again.seconds:.2f}s", flush=True)
    from wallets.verification import ledger_problems

    started = time.perf_counter()
    problems = ledger_problems(stale_holds=False)
    print(f"verify_ledger over {args.wallets} wallets: {len(problems)} problems in {time.perf_counter() - started:.1f}s")
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
