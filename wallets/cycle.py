"""The monthly reset job: every due wallet, in committed batches of thousands of ids.

The reset itself (expire monthly and rollover grants whose period ended, roll over up to the
package's cap, grant the month's credits) is one set-based statement of the ledger writer
(`services.wallets_roll_over`, SQL in `sql.ROLL_OVER`). A wallet touched before the job reached
it has already run the very same statement for its own id. Locked wallets get nothing and stay
behind (unlocking catches them up for the current month).
"""

import logging
import time
from dataclasses import dataclass
from datetime import date

from .models import Wallet, WalletStatus
from .services import BATCH_SIZE, wallets_roll_over

logger = logging.getLogger("credits.cycle")


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
            done += wallets_roll_over(period=period, low=low, high=low + batch_size)
            batches += 1
            if batches % 20 == 0:
                logger.info("reset %s: %d wallets after %d batches", period, done, batches)
        done += wallets_roll_over(period=period, low=first, high=last + 1, skip_locked=False)  # the ones skipped
        batches += 1
    report = ResetReport(f"{period:%Y-%m}", done, batches, time.perf_counter() - started)
    logger.info("reset %s done: %d wallets in %.1fs", report.period, done, report.seconds)
    return report
