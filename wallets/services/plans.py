"""A wallet whose package a subscription pays for: what the payments side tells it when a period is
paid, the plan changes or the subscription ends (README, "Subscriptions").

Credits come through the one writer: a paid period's grant is the monthly reset's own grant
(wallets_period_grant.sql, key `monthly:YYYY-MM`: of the reset and the payment, whichever comes
first grants it), a part of a period (the first, partial one; an upgrade's difference) a `monthly`
grant of wallets_grants_add that ends with the period. The rule they share with the reset (a paid
subscription's period is owed once paid) is wallets_period_credits.sql. Call inside an atomic block.
"""

from dataclasses import dataclass
from datetime import date

from common.periods import next_period, period_of, period_start
from transactions.models import TransactionType

from ..locking import lock_wallet
from ..models import GrantSource, Wallet, WalletStatus
from .lifecycle import wallet_catch_up, wallet_period_grant, wallet_set_status
from .writes import grants_add


@dataclass(frozen=True)
class PeriodPart:
    """Credits for part of a period (the first, partial one; an upgrade's difference), given once per
    wallet and `key`, ending with the period."""

    credits: int
    key: str
    description: str


def plan_paid(*, wallet_id: int, package_id: int, period: date, part: PeriodPart | None = None,
              unlock: bool = False) -> None:
    """`period` is paid for `package_id`: the wallet takes that package and is owed the period, granted
    now unless it already has it (whole, or `part` of it). `unlock`: the subscription had locked the
    wallet for want of payment."""
    wallet_catch_up(user_id=wallet_id)  # a month the wallet had not started yet, on the terms it had
    wallet = lock_wallet(wallet_id)
    wallet.package_id = package_id
    wallet.paid_through = max(period, wallet.paid_through or period)
    wallet.save(update_fields=["package", "paid_through", "updated_at"])
    if unlock and wallet.status == WalletStatus.LOCKED:
        wallet_set_status(user_id=wallet_id, status=WalletStatus.ACTIVE)  # wallet.unlocked; catches up
    if part is None:
        wallet_period_grant(user_id=wallet_id, period=period)
    elif part.credits > 0:
        grants_add(
            wallet_ids=[wallet_id], source=GrantSource.MONTHLY, amount=part.credits,
            transaction_type=TransactionType.MONTHLY_GRANT, expires_at=period_start(next_period(period)),
            reason=part.description, reference=f"{period:%Y-%m}", description=part.description,
            idempotency_key=part.key,
        )


def plan_ended(*, wallet_id: int, package_id: int, unlock: bool = False) -> Wallet:
    """The subscription is over: the wallet goes back to `package_id` (the default), whose monthly
    credits come every month again, starting with this one if it has not had its grant yet."""
    wallet_catch_up(user_id=wallet_id)
    wallet = lock_wallet(wallet_id)
    wallet.package_id, wallet.paid_through = package_id, None
    wallet.save(update_fields=["package", "paid_through", "updated_at"])
    if unlock and wallet.status == WalletStatus.LOCKED:
        wallet_set_status(user_id=wallet_id, status=WalletStatus.ACTIVE)
    wallet_period_grant(user_id=wallet_id, period=period_of())
    return lock_wallet(wallet_id)


def plan_lock(*, wallet_id: int) -> bool:
    """The subscription ended unpaid: the wallet is locked (402 `wallet_locked`) until a paid invoice.
    Returns whether this locked it (False: it was locked already, by staff or before)."""
    wallet = lock_wallet(wallet_id)
    if wallet.status == WalletStatus.LOCKED:
        return False
    wallet_set_status(user_id=wallet_id, status=WalletStatus.LOCKED)
    return True
