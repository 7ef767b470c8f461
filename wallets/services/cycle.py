"""The monthly reset job: every due wallet, in committed batches of thousands of ids.

The reset itself (expire monthly and rollover grants whose period ended, roll over up to the
package's cap, grant the month's credits) is one set-based function, wallets_roll_over.sql. A
wallet touched before the job reached it has already run the very same function for its own id
(wallets_catch_up). Locked wallets get nothing and stay behind (unlocking catches them up).

Batches are disjoint ranges of wallet ids, so `workers` connections run them side by side (the
database does the work; one connection keeps one core busy at most). On Citus a batch's due
wallets are reset a shard at a time (wallets.shards): it locks within one shard only. Inside a
transaction the job runs on the caller's connection alone: other connections could not see its
uncommitted rows.
"""

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from common.db_calls import fetch_row, fetch_rows
from common.db_timeouts import use_job_timeouts

from ..locking import lock_wallet
from ..models import Wallet, WalletStatus
from ..shards import distributed, shard_of
from .grants import BATCH_SIZE

logger = logging.getLogger("credits.cycle")

ROLL_OVER = "SELECT wallets_roll_over(%s, %s, %s, %s, %s)"
# On Citus: a range's due wallets, by shard (unlocked: wallets_roll_over locks them and checks again).
DUE_BY_SHARD = """
SELECT array_agg(id ORDER BY id) FROM wallets_wallet
WHERE id >= %s AND id < %s AND status = 'active' AND billing_cycle_start < %s
GROUP BY {shard}
"""


def wallets_roll_over(*, period: date, low: int, high: int, wallet_ids: list[int] | None = None) -> int:
    """Apply `period`'s reset to the due wallets with low <= user_id < high (of `wallet_ids` only, if
    given: on Citus, the wallets of one shard), in one statement and one transaction; returns how
    many. Wallets another transaction has locked are skipped (that transaction catches its wallet up
    itself, or the job's last pass does)."""
    with transaction.atomic():
        use_job_timeouts()
        (reset,) = fetch_row(ROLL_OVER, [low, high, wallet_ids, period, timezone.now()])
        return reset


def _roll_over_range(period: date, low: int, high: int) -> int:
    """The reset of the due wallets with low <= id < high: one statement on plain PostgreSQL, one
    per shard on Citus (which locks within one shard only)."""
    if not distributed():
        return wallets_roll_over(period=period, low=low, high=high)
    shards = fetch_rows(DUE_BY_SHARD.format(shard=shard_of("id")), [low, high, period])
    return sum(wallets_roll_over(period=period, low=low, high=high, wallet_ids=wallet_ids) for (wallet_ids,) in shards)


@dataclass(frozen=True)
class ResetReport:
    period: str
    wallets_reset: int
    batches: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.wallets_reset / self.seconds if self.seconds else 0.0


class _Batches:
    """The id ranges still to do, handed out one at a time to whichever worker asks, with the
    running totals (shared by the workers, hence the lock)."""

    def __init__(self, period: date, first: int, last: int, batch_size: int, on_batch=None):
        self.period, self._lock, self.on_batch = period, threading.Lock(), on_batch
        self._ranges = iter(range(first, last + 1, batch_size))
        self.batch_size, self.done, self.count = batch_size, 0, 0

    def work(self) -> None:
        while True:
            with self._lock:
                low = next(self._ranges, None)
            if low is None:
                return
            reset = _roll_over_range(self.period, low, low + self.batch_size)
            with self._lock:
                self.done += reset
                self.count += 1
                if self.on_batch:
                    self.on_batch(reset)
                if self.count % 20 == 0:
                    logger.info("reset %s: %d wallets after %d batches", self.period, self.done, self.count)

    def work_on_own_connection(self) -> None:
        try:
            self.work()
        finally:
            connection.close()  # this thread's own connection


def _due(period: date):
    return Wallet.objects.filter(status=WalletStatus.ACTIVE, billing_cycle_start__lt=period).order_by("pk")


def reset_period(period: date, *, batch_size: int = BATCH_SIZE, workers: int | None = None, on_batch=None) -> ResetReport:
    """Reset every due wallet for `period`, one committed batch of ids at a time, `workers` batches
    at once (default `CREDITS_RESET_WORKERS`). `on_batch(wallets_reset)` is told after each batch.

    Resumable: a crash loses at most the batches in flight, and a rerun skips wallets already
    advanced. Wallets locked by a request during the batches are skipped there (that request
    catches its wallet up itself) and picked up by a last pass, one wallet at a time, that waits
    for their locks.
    """
    workers = workers or settings.CREDITS_RESET_WORKERS
    started = time.perf_counter()
    first, last = _due(period).values_list("pk", flat=True).first(), _due(period).values_list("pk", flat=True).last()
    done = batches = 0
    if first is not None:
        plan = _Batches(period, first, last, batch_size, on_batch)
        if workers == 1 or connection.in_atomic_block:
            plan.work()
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reset") as pool:
                for future in [pool.submit(plan.work_on_own_connection) for _ in range(workers)]:
                    future.result()  # re-raises a worker's error
        skipped = 0
        for wallet_id in _due(period).filter(pk__lte=last).values_list("pk", flat=True):
            with transaction.atomic():
                lock_wallet(wallet_id)  # waits for the request that holds it; then its own lock is no skip
                skipped += wallets_roll_over(period=period, low=wallet_id, high=wallet_id + 1,
                                             wallet_ids=[wallet_id])
        if on_batch and skipped:
            on_batch(skipped)
        done, batches = plan.done + skipped, plan.count + (1 if skipped else 0)
    report = ResetReport(f"{period:%Y-%m}", done, batches, time.perf_counter() - started)
    logger.info("reset %s done: %d wallets in %.1fs", report.period, done, report.seconds)
    return report
