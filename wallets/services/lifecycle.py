"""A wallet's life: created (with its first monthly grant), brought up to date when read, locked and
unlocked, its low-balance threshold changed."""

import logging
from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from common.db_calls import fetch_row
from common.periods import period_of, previous_period
from outbox.events import EventType
from outbox.services import event_emit
from pricing.exceptions import InvalidAmount
from pricing.models import Package
from pricing.selectors import package_get_default

from ..locking import lock_wallet
from ..models import Wallet, WalletStatus
from .writes import MAX_CREDITS_PER_OPERATION, events_queued

logger = logging.getLogger("credits.ledger")

CATCH_UP = "SELECT * FROM wallets_catch_up(%s, %s, %s)"
ALERT_TRANSITION = "SELECT * FROM wallets_alert_transition(%s, %s, %s)"
PERIOD_GRANT = "SELECT * FROM wallets_period_grant(%s, %s, %s)"


@dataclass(frozen=True)
class CaughtUp:
    reset: bool
    holds_released: int
    grants_expired: int


def wallet_catch_up(*, user_id: int, now=None) -> CaughtUp:
    """Settle whatever is due on the wallet at `now` (wallets_catch_up.sql: the month's reset,
    expired holds, then expired grants). Call inside an atomic block; the call locks the wallet row."""
    now = now or timezone.now()
    reset, holds_released, grants_expired = fetch_row(CATCH_UP, [user_id, period_of(now), now])
    if holds_released:
        logger.warning("released %d expired holds wallet=%s", holds_released, user_id)
    return CaughtUp(reset, holds_released, grants_expired)


def wallet_period_grant(*, user_id: int, period: date) -> int | None:
    """The period's monthly grant, if the wallet is owed it and has not had it (a paid subscription's
    period paid after the reset, a wallet back on its default package or unlocked within the month);
    its ledger row, or None. A period already over is not granted after the fact."""
    if period != period_of():
        return None
    entry_id, event_ids = fetch_row(PERIOD_GRANT, [user_id, period, timezone.now()])
    events_queued(event_ids)
    return entry_id


def wallet_create(*, user, package: Package | None = None) -> tuple[Wallet, bool]:
    """Give `user` a wallet and its package's first monthly grant; returns (wallet, created).

    The first grant is the monthly reset itself: the wallet starts in the previous period, and
    catching it up grants the current one, as every later month is granted."""
    existing = Wallet.objects.filter(pk=user.pk).select_related("package").first()
    if existing is not None:
        return existing, False
    package = package or package_get_default()
    try:
        with transaction.atomic():
            # By id, not the user object: its cached `wallet` would keep the row as created, a month back.
            Wallet.objects.create(id=user.pk, user_id=user.pk, package=package, billing_cycle_start=previous_period(period_of()))
            wallet_catch_up(user_id=user.pk)
    except IntegrityError:
        pass  # a concurrent request created it first: that one is the wallet
    else:
        return Wallet.objects.select_related("package").get(pk=user.pk), True
    return Wallet.objects.select_related("package").get(pk=user.pk), False


def wallet_refresh(*, user_id: int) -> Wallet:
    """The wallet, with whatever was due settled (the lazy side of the monthly reset and the sweepers)."""
    wallet = Wallet.objects.with_due().select_related("package").filter(pk=user_id).first()
    if wallet is not None and not wallet.due:
        return wallet  # the common case: one read, no transaction, no lock
    with transaction.atomic():
        lock_wallet(user_id)  # raises WalletNotFound
        wallet_catch_up(user_id=user_id)
        return lock_wallet(user_id)  # as caught up


@transaction.atomic
def wallet_set_status(*, user_id: int, status: str, actor=None) -> Wallet:
    if status not in WalletStatus.values:
        raise InvalidAmount(f"Status must be one of: {', '.join(WalletStatus.values)}.")
    wallet = lock_wallet(user_id)
    changed = wallet.status != status
    wallet.status = status
    wallet.save(update_fields=["status", "updated_at"])
    logger.info("wallet status wallet=%s status=%s actor=%s", user_id, status, getattr(actor, "pk", None))
    if changed:
        event_emit(wallet_id=wallet.pk, event_type=(
            EventType.WALLET_LOCKED if status == WalletStatus.LOCKED else EventType.WALLET_UNLOCKED
        ), data={"available": wallet.available, "current_balance": wallet.current_balance})
    if status == WalletStatus.ACTIVE:
        wallet_catch_up(user_id=user_id)  # unlocking catches the wallet up for the current month
        wallet_period_grant(user_id=user_id, period=period_of())  # its reset ran while it waited for a payment
        wallet = lock_wallet(user_id)
    return wallet


@transaction.atomic
def wallet_set_low_balance_threshold(*, user_id: int, threshold: int) -> Wallet:
    """Change the threshold; the alert is decided again at once (a threshold raised above the balance
    fires `balance.low` now, one lowered below it re-arms quietly)."""
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 0 <= threshold <= MAX_CREDITS_PER_OPERATION:
        raise InvalidAmount(f"The threshold must be a whole number of credits between 0 and {MAX_CREDITS_PER_OPERATION}.")
    wallet = lock_wallet(user_id)
    state, events = fetch_row(ALERT_TRANSITION, [wallet.low_balance_state, wallet.available, threshold])
    wallet.low_balance_threshold, wallet.low_balance_state = threshold, state
    wallet.save(update_fields=["low_balance_threshold", "low_balance_state", "updated_at"])
    for event_type in events:
        if event_type != EventType.BALANCE_RECOVERED:  # nothing was credited
            event_emit(wallet_id=wallet.pk, event_type=event_type, data={
                "available": wallet.available, "current_balance": wallet.current_balance, "threshold": threshold,
                "ledger_entry_id": None,
            })
    return wallet
