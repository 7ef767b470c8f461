"""The monthly cycle for one locked wallet: expire monthly credits over the rollover cap, grant the
package's monthly credits, move the cycle start. Idempotent through the ledger's unique keys."""

from datetime import date

from transactions.models import TransactionType

from .models import Wallet


def cycle_amounts(*, monthly_balance: int, available: int, rollover_cap: int) -> int:
    """Credits to expire: monthly credits beyond the cap, but never credits held by a request."""
    return max(0, min(monthly_balance - rollover_cap, available))


def roll_over_locked_wallet(wallet: Wallet, period: date) -> None:
    """Apply `period`'s reset to a wallet the caller has locked. Locked wallets are left behind:
    they get nothing, and are caught up for the current month when unlocked."""
    from .services import _record  # the one writer of ledger rows

    if wallet.billing_cycle_start >= period or wallet.is_locked:
        return
    package = wallet.package
    expire = cycle_amounts(
        monthly_balance=wallet.monthly_balance, available=wallet.available, rollover_cap=package.rollover_cap
    )
    if expire:
        wallet.monthly_balance -= expire
        _record(
            wallet,
            TransactionType.EXPIRY,
            -expire,
            description=f"Unused monthly credits expired at the {period:%Y-%m} reset",
            idempotency_key=f"expiry:{period:%Y-%m}",
        )
    wallet.billing_cycle_start = period
    wallet.save(update_fields=["billing_cycle_start"])
    if package.monthly_credits:
        wallet.monthly_balance += package.monthly_credits
        _record(
            wallet,
            TransactionType.MONTHLY_GRANT,
            package.monthly_credits,
            description=f"Monthly credits for {period:%Y-%m} ({package.name})",
            idempotency_key=f"monthly_grant:{period:%Y-%m}",
        )
