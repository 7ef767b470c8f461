"""The monthly cycle: expire monthly credits over the rollover cap, grant the package's monthly
credits, move the cycle start to the 1st. Locked wallets get nothing and stay behind (unlocking
catches them up for the current month).

One SQL statement applies the cycle to a set of wallets: the batch job runs it over ranges of
thousands of wallet ids, and a wallet touched before the job reached it runs the very same
statement for its own id (`roll_over_locked_wallet`). The ledger's unique
(wallet_id, idempotency_key) index makes a second, concurrent or redelivered run write nothing.
"""

import logging
import time
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from credits_platform.db_timeouts import use_job_timeouts

from transactions.models import TransactionType

from .models import Wallet, WalletStatus

logger = logging.getLogger("credits.cycle")

BATCH_SIZE = 5000

GRANT_DESCRIPTION = "Monthly credits for {period} ({package})"
EXPIRY_DESCRIPTION = "Unused monthly credits expired at the {period} reset"

# %(selector)s is filled in by the caller (a range or one id); everything else is a parameter.
ROLL_OVER_SQL = """
WITH due AS (
    SELECT w.user_id, w.monthly_balance, w.purchased_balance, w.reserved,
           p.monthly_credits, p.rollover_cap, p.name AS package_name
    FROM wallets_wallet w
    JOIN pricing_package p ON p.id = w.package_id
    WHERE {selector}
      AND w.status = %(active)s
      AND w.billing_cycle_start < %(period)s
    FOR UPDATE OF w {skip_locked}
),
calc AS (
    SELECT due.*,
           GREATEST(0, LEAST(monthly_balance - rollover_cap,
                             monthly_balance + purchased_balance - reserved)) AS expire
    FROM due
),
ledger_rows AS (
    -- One INSERT for both rows, ordered so each wallet's expiry precedes its grant in id order.
    INSERT INTO transactions_ledgerentry
        (wallet_id, transaction_type, amount, delta, balance_after, action_type, quantity,
         reference, description, idempotency_key, created_at)
    SELECT user_id, kind, amount, delta, balance_after, '', 1, '', description, key, %(now)s
    FROM (
        SELECT user_id, 1 AS step, %(expiry)s AS kind, expire AS amount, -expire AS delta,
               monthly_balance + purchased_balance - expire AS balance_after,
               %(expiry_description)s AS description, %(expiry_key)s AS key
        FROM calc WHERE expire > 0
        UNION ALL
        SELECT user_id, 2, %(grant)s, monthly_credits, monthly_credits,
               monthly_balance + purchased_balance - expire + monthly_credits,
               replace(%(grant_description)s, '{{package}}', package_name), %(grant_key)s
        FROM calc WHERE monthly_credits > 0
    ) AS rows
    ORDER BY user_id, step
    ON CONFLICT (wallet_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
)
UPDATE wallets_wallet w
SET monthly_balance = calc.monthly_balance - calc.expire + calc.monthly_credits,
    ledger_rows = w.ledger_rows + (calc.expire > 0)::int + (calc.monthly_credits > 0)::int,
    billing_cycle_start = %(period)s,
    updated_at = %(now)s
FROM calc
WHERE w.user_id = calc.user_id
"""


def _params(period: date) -> dict:
    label = f"{period:%Y-%m}"
    return {
        "active": WalletStatus.ACTIVE,
        "period": period,
        "now": timezone.now(),
        "expiry": TransactionType.EXPIRY,
        "grant": TransactionType.MONTHLY_GRANT,
        "expiry_key": f"expiry:{label}",
        "grant_key": f"monthly_grant:{label}",
        "expiry_description": EXPIRY_DESCRIPTION.format(period=label),
        "grant_description": GRANT_DESCRIPTION.format(period=label, package="{package}"),
    }


def _run(selector: str, params: dict, *, skip_locked: bool) -> int:
    sql = ROLL_OVER_SQL.format(selector=selector, skip_locked="SKIP LOCKED" if skip_locked else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def roll_over_range(period: date, low: int, high: int, *, skip_locked: bool = True) -> int:
    """Apply `period`'s reset to the due wallets with low <= user_id < high; returns how many."""
    with transaction.atomic():
        use_job_timeouts()  # the last pass waits for row locks requests hold
        return _run("w.user_id >= %(low)s AND w.user_id < %(high)s", {**_params(period), "low": low, "high": high},
                    skip_locked=skip_locked)


def roll_over_locked_wallet(wallet: Wallet, period: date) -> None:
    """Apply `period`'s reset to one wallet the caller has locked (the lazy path), then refresh it."""
    if wallet.billing_cycle_start >= period or wallet.is_locked:
        return
    _run("w.user_id = %(user_id)s", {**_params(period), "user_id": wallet.pk}, skip_locked=False)
    wallet.refresh_from_db(fields=["monthly_balance", "purchased_balance", "reserved", "billing_cycle_start", "ledger_rows"])


@dataclass(frozen=True)
class ResetReport:
    period: str
    wallets_reset: int
    batches: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.wallets_reset / self.seconds if self.seconds else 0.0


def reset_period(period: date, *, batch_size: int = BATCH_SIZE) -> ResetReport:
    """Reset every due wallet for `period`, one committed batch of ids at a time.

    Resumable: a crash loses at most the batch in flight, and a rerun skips wallets already
    advanced. Wallets locked by a request during the first pass are skipped there (that request
    catches its wallet up itself) and picked up by a final pass that waits for their locks.
    """
    started = time.perf_counter()
    bounds = Wallet.objects.filter(status=WalletStatus.ACTIVE, billing_cycle_start__lt=period).order_by("pk")
    first, last = bounds.values_list("pk", flat=True).first(), bounds.values_list("pk", flat=True).last()
    done = batches = 0
    if first is not None:
        for low in range(first, last + 1, batch_size):
            done += roll_over_range(period, low, low + batch_size)
            batches += 1
            if batches % 20 == 0:
                logger.info("reset %s: %d wallets after %d batches", period, done, batches)
        done += roll_over_range(period, first, last + 1, skip_locked=False)  # the ones skipped above
        batches += 1
    report = ResetReport(f"{period:%Y-%m}", done, batches, time.perf_counter() - started)
    logger.info("reset %s done: %d wallets in %.1fs", report.period, done, report.seconds)
    return report
