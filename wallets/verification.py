"""Invariants of the ledger, checked set-based for every wallet at once:
totals == sum of the grants == ledger sum == sum of allocations; reserved == what grants hold ==
what open holds hold; every ledger row's allocations sum to its delta, every grant's to what it holds."""

from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from .models import Hold, HoldStatus

BUCKETS = ("monthly_balance", "purchased_balance", "bonus_balance")  # wallets_source_bucket.sql's three


@dataclass(frozen=True)
class Problem:
    wallet_id: int
    message: str


# One pass over each table (GROUP BY wallet, hash-joined), returning only the wallets where some
# figure disagrees: linear in the size of the tables, so the daily check scales to millions of
# wallets (correlated subqueries per wallet did not).
DISAGREEING_WALLETS = """
WITH ledger AS (
    SELECT wallet_id, sum(delta) AS total, count(*) AS rows FROM transactions_ledgerentry GROUP BY wallet_id
),
holds AS (
    SELECT wallet_id, sum(amount) AS held FROM wallets_hold WHERE status = 'held' GROUP BY wallet_id
),
grants AS (
    SELECT wallet_id, sum(held) AS held,
           sum(remaining + held) FILTER (WHERE wallets_source_bucket(source) = 'monthly') AS monthly_balance,
           sum(remaining + held) FILTER (WHERE wallets_source_bucket(source) = 'purchased') AS purchased_balance,
           sum(remaining + held) FILTER (WHERE wallets_source_bucket(source) = 'bonus') AS bonus_balance
    FROM wallets_grant GROUP BY wallet_id
),
allocated AS (
    SELECT wallet_id, sum(amount) AS total FROM transactions_ledgerallocation GROUP BY wallet_id
),
figures AS (
    SELECT w.id AS wallet_id, w.monthly_balance, w.purchased_balance, w.bonus_balance, w.reserved, w.ledger_rows,
           w.monthly_balance + w.purchased_balance + w.bonus_balance AS balance,
           coalesce(ledger.total, 0) AS ledger_sum, coalesce(ledger.rows, 0) AS ledger_count,
           coalesce(holds.held, 0) AS holds_held, coalesce(grants.held, 0) AS grants_held,
           coalesce(grants.monthly_balance, 0) AS grants_monthly_balance,
           coalesce(grants.purchased_balance, 0) AS grants_purchased_balance,
           coalesce(grants.bonus_balance, 0) AS grants_bonus_balance,
           coalesce(allocated.total, 0) AS allocated
    FROM wallets_wallet w
    LEFT JOIN ledger ON ledger.wallet_id = w.id
    LEFT JOIN holds ON holds.wallet_id = w.id
    LEFT JOIN grants ON grants.wallet_id = w.id
    LEFT JOIN allocated ON allocated.wallet_id = w.id
)
SELECT * FROM figures
WHERE ledger_sum <> balance OR ledger_count <> ledger_rows OR holds_held <> reserved OR grants_held <> reserved
   OR allocated <> balance OR grants_monthly_balance <> monthly_balance
   OR grants_purchased_balance <> purchased_balance OR grants_bonus_balance <> bonus_balance
ORDER BY wallet_id
"""


# Allocations carry no foreign-key constraints (the reset writes millions of them), so this pass
# checks what constraints would, and more: each ledger row's allocations exist only for a row of
# the same wallet and sum to its delta; each grant's allocations belong to an existing grant of
# the same wallet and sum to what it still holds (remaining + held).
UNBALANCED_ROWS = """
WITH allocated AS (
    SELECT entry_id, wallet_id, sum(amount) AS total FROM transactions_ledgerallocation
    WHERE entry_id IS NOT NULL GROUP BY entry_id, wallet_id
)
SELECT a.wallet_id, a.entry_id, a.total, e.delta, e.wallet_id AS entry_wallet_id
FROM allocated a LEFT JOIN transactions_ledgerentry e ON e.id = a.entry_id
WHERE e.id IS NULL OR e.wallet_id <> a.wallet_id OR e.delta <> a.total
ORDER BY a.wallet_id, a.entry_id
"""
UNBALANCED_GRANTS = """
WITH allocated AS (
    SELECT grant_id, wallet_id, sum(amount) AS total FROM transactions_ledgerallocation GROUP BY grant_id, wallet_id
)
SELECT coalesce(a.wallet_id, g.wallet_id) AS wallet_id, coalesce(a.grant_id, g.id) AS grant_id,
       coalesce(a.total, 0) AS total, g.remaining + g.held AS holds, g.wallet_id AS grant_wallet_id
FROM allocated a FULL JOIN wallets_grant g ON g.id = a.grant_id
WHERE g.id IS NULL OR a.grant_id IS NULL OR g.wallet_id <> a.wallet_id OR g.remaining + g.held <> a.total
ORDER BY 1, 2
"""


def _disagreeing_wallets() -> list[Problem]:
    problems = []
    with connection.cursor() as cursor:
        cursor.execute(DISAGREEING_WALLETS)
        columns = [column.name for column in cursor.description]
        rows = [dict(zip(columns, row)) for row in cursor.fetchall()]
    for w in rows:
        wallet_id = w["wallet_id"]
        if w["ledger_sum"] != w["balance"]:
            problems.append(Problem(wallet_id, f"ledger sum {w['ledger_sum']} != balance {w['balance']}"))
        if w["ledger_count"] != w["ledger_rows"]:
            problems.append(Problem(wallet_id, f"ledger rows {w['ledger_count']} != counter {w['ledger_rows']}"))
        if w["holds_held"] != w["reserved"]:
            problems.append(Problem(wallet_id, f"open holds {w['holds_held']} != reserved {w['reserved']}"))
        if w["grants_held"] != w["reserved"]:
            problems.append(Problem(wallet_id, f"grants hold {w['grants_held']} != reserved {w['reserved']}"))
        if w["allocated"] != w["balance"]:
            problems.append(Problem(wallet_id, f"allocations {w['allocated']} != balance {w['balance']}"))
        for bucket in BUCKETS:
            if w[f"grants_{bucket}"] != w[bucket]:
                problems.append(Problem(wallet_id, f"grants {w[f'grants_{bucket}']} != {bucket} {w[bucket]}"))
    return problems


def _unbalanced_rows() -> list[Problem]:
    problems = []
    with connection.cursor() as cursor:
        cursor.execute(UNBALANCED_ROWS)
        for wallet_id, entry_id, total, delta, entry_wallet_id in cursor.fetchall():
            if delta is None:
                problems.append(Problem(wallet_id, f"allocations of ledger row {entry_id}, which does not exist"))
            elif entry_wallet_id != wallet_id:
                problems.append(Problem(wallet_id, f"allocations of ledger row {entry_id} of wallet {entry_wallet_id}"))
            else:
                problems.append(Problem(wallet_id, f"ledger row {entry_id}: allocations {total} != delta {delta}"))
    return problems


def _unbalanced_grants() -> list[Problem]:
    problems = []
    with connection.cursor() as cursor:
        cursor.execute(UNBALANCED_GRANTS)
        for wallet_id, grant_id, total, holds, grant_wallet_id in cursor.fetchall():
            if holds is None:
                problems.append(Problem(wallet_id, f"allocations of grant {grant_id}, which does not exist"))
            elif grant_wallet_id != wallet_id:
                problems.append(Problem(wallet_id, f"allocations of grant {grant_id} of wallet {grant_wallet_id}"))
            else:
                problems.append(Problem(wallet_id, f"grant {grant_id}: allocations {total} != remaining + held {holds}"))
    return problems


def _stale_holds(now) -> list[Problem]:
    return [
        Problem(hold.wallet_id, f"stale hold {hold.pk} ({hold.amount} credits, expired {hold.expires_at:%Y-%m-%d %H:%M:%S})")
        for hold in Hold.objects.filter(status=HoldStatus.HELD, expires_at__lt=now).order_by("wallet_id")
    ]


# The checks, in the order they run (each one pass over its tables); `verify_ledger` counts them.
CHECKS = ("wallet totals", "ledger rows", "grants", "stale holds")


def ledger_problems(*, now=None, stale_holds: bool = True, on_check=None) -> list[Problem]:
    """Every broken invariant, by wallet. `stale_holds`: also report holds past their TTL that nobody
    released yet (harmless, a read of the wallet releases them, but a sign the sweeper is not running).
    `on_check(name)` is told after each of CHECKS."""
    now = now or timezone.now()
    checks = {
        "wallet totals": _disagreeing_wallets,
        "ledger rows": _unbalanced_rows,
        "grants": _unbalanced_grants,
        "stale holds": (lambda: _stale_holds(now)) if stale_holds else list,
    }
    problems = []
    for name in CHECKS:
        problems += checks[name]()
        if on_check:
            on_check(name)
    return problems
