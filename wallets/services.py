"""The only code that changes a balance.

Every function is one short atomic block that locks one wallet row (see `locking`), changes it
and writes exactly one ledger row per balance change. Nothing here talks to the network, so a
lock is never held across a provider or payment call.

The hold functions also accept `wallet=`, a wallet the caller has already locked inside its own
atomic block (the gate does, to read what it needs in the same locking query); they then run in
the caller's block without a savepoint of their own.
"""

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Min
from django.utils import timezone

from pricing.models import Package, PricingRule
from pricing.quotes import quote
from pricing.selectors import default_package
from transactions.models import LedgerEntry, TransactionType

from .exceptions import HoldNotActive, InsufficientCredits, InvalidAmount, UnknownAction, WalletLocked
from .locking import lock_wallet
from .models import AllowanceUsage, Hold, HoldStatus, Wallet, WalletStatus
from .periods import period_of

logger = logging.getLogger("credits.ledger")

MAX_CREDITS_PER_OPERATION = 10_000_000


# --- helpers -----------------------------------------------------------------------------------


def _check_amount(amount: int, *, allow_negative: bool = False) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount()
    if amount == 0 or (amount < 0 and not allow_negative) or abs(amount) > MAX_CREDITS_PER_OPERATION:
        raise InvalidAmount()


def _record(
    wallet: Wallet,
    transaction_type: str,
    delta: int,
    *,
    action_type: str = "",
    quantity: int = 1,
    reference: str = "",
    description: str = "",
    idempotency_key: str | None = None,
    actor=None,
) -> LedgerEntry:
    """Write the ledger row for a change already applied to `wallet` (locked) and save the wallet."""
    wallet.ledger_rows += 1
    wallet.save(update_fields=["monthly_balance", "purchased_balance", "reserved", "ledger_rows", "updated_at"])
    entry = LedgerEntry.objects.create(
        wallet=wallet,
        transaction_type=transaction_type,
        amount=abs(delta),
        delta=delta,
        balance_after=wallet.current_balance,
        action_type=action_type,
        quantity=quantity,
        reference=reference[:255],
        description=description[:255],
        idempotency_key=idempotency_key,
        actor=actor,
    )
    logger.info(
        "ledger write wallet=%s type=%s amount=%s delta=%s balance_after=%s key=%s",
        wallet.pk, transaction_type, entry.amount, delta, entry.balance_after, idempotency_key,
    )
    return entry


def _existing_entry(wallet: Wallet, idempotency_key: str | None) -> LedgerEntry | None:
    # Safe without a race: every writer of this wallet's ledger holds the wallet lock first.
    if idempotency_key is None:
        return None
    return LedgerEntry.objects.filter(wallet=wallet, idempotency_key=idempotency_key).first()


def _take(wallet: Wallet, amount: int) -> None:
    """Remove `amount` from the buckets, monthly credits first (they expire, purchased ones don't)."""
    from_monthly = min(amount, wallet.monthly_balance)
    wallet.monthly_balance -= from_monthly
    wallet.purchased_balance -= amount - from_monthly


def _catch_up(wallet: Wallet) -> None:
    """Settle on the spot what is due on a locked wallet, whether or not a job ran: the monthly grant
    of a new period, then the release of holds past their expiry (a request that died mid-flight)."""
    from .cycle import roll_over_locked_wallet

    now = timezone.now()
    roll_over_locked_wallet(wallet, period_of(now))
    if wallet.holds_due_at is not None and wallet.holds_due_at <= now:
        _release_expired_holds(wallet, now)


def _release_expired_holds(wallet: Wallet, now) -> int:
    """Release the locked wallet's holds that expired by `now`, then move `holds_due_at` to the next."""
    expired = list(Hold.objects.filter(wallet=wallet, status=HoldStatus.HELD, expires_at__lte=now))
    for hold in expired:
        credits_release(hold=hold, status=HoldStatus.EXPIRED, wallet=wallet)
    wallet.holds_due_at = Hold.objects.filter(wallet=wallet, status=HoldStatus.HELD).aggregate(
        due=Min("expires_at")
    )["due"]
    wallet.save(update_fields=["holds_due_at", "updated_at"])
    if expired:
        logger.warning("released %d expired holds wallet=%s", len(expired), wallet.pk)
    return len(expired)


@contextmanager
def _locked(user_id: int, wallet: Wallet | None):
    """The wallet row, locked for the block: here, in a new atomic block, or by the caller."""
    if wallet is None:
        with transaction.atomic():
            yield lock_wallet(user_id)
        return
    if wallet.pk != user_id or not transaction.get_connection().in_atomic_block:
        raise ValueError("wallet= must be the caller's locked wallet, inside its atomic block")
    yield wallet


def _settle(hold: Hold, status: str) -> Hold | None:
    """Move a held hold to `status`; None if it was settled already. Callers hold the wallet lock,
    which every writer of holds takes first, so the conditional UPDATE is the whole decision."""
    now = timezone.now()
    held = Hold.objects.filter(wallet_id=hold.wallet_id, pk=hold.pk, status=HoldStatus.HELD)  # by wallet: one shard
    if not held.update(status=status, settled_at=now):
        return None
    hold.status, hold.settled_at = status, now
    return hold


def active_rule(action_type: str) -> PricingRule:
    rule = PricingRule.objects.filter(action_type=action_type, is_active=True).prefetch_related("bulk_tiers").first()
    if rule is None:
        raise UnknownAction(action_type)
    return rule


# --- wallets -----------------------------------------------------------------------------------


def wallet_create(*, user, package: Package | None = None) -> tuple[Wallet, bool]:
    """Give `user` a wallet with its package's first monthly grant; returns (wallet, created)."""
    existing = Wallet.objects.filter(pk=user.pk).select_related("package").first()
    if existing is not None:
        return existing, False
    package = package or default_package()
    period = period_of()
    try:
        with transaction.atomic():
            wallet = Wallet.objects.create(user=user, package=package, billing_cycle_start=period)
            if package.monthly_credits:
                wallet.monthly_balance = package.monthly_credits
                _record(
                    wallet,
                    TransactionType.MONTHLY_GRANT,
                    package.monthly_credits,
                    description=f"Monthly credits for {period:%Y-%m} ({package.name})",
                    idempotency_key=f"monthly_grant:{period:%Y-%m}",
                )
    except IntegrityError:
        # A concurrent request created it first: that one is the wallet.
        return Wallet.objects.select_related("package").get(pk=user.pk), False
    return wallet, True


def wallet_refresh(*, user_id: int) -> Wallet:
    """The wallet, brought up to date with the current period (the lazy side of the monthly reset)."""
    wallet = Wallet.objects.select_related("package").filter(pk=user_id).first()
    if wallet is not None and not wallet.is_due():
        return wallet  # the common case: one read, no transaction, no lock
    with transaction.atomic():
        wallet = lock_wallet(user_id)
        _catch_up(wallet)
        return wallet


@transaction.atomic
def wallet_set_status(*, user_id: int, status: str, actor=None) -> Wallet:
    if status not in WalletStatus.values:
        raise InvalidAmount(f"Status must be one of: {', '.join(WalletStatus.values)}.")
    wallet = lock_wallet(user_id)
    wallet.status = status
    wallet.save(update_fields=["status", "updated_at"])
    logger.info("wallet status wallet=%s status=%s actor=%s", user_id, status, getattr(actor, "pk", None))
    if status == WalletStatus.ACTIVE:
        _catch_up(wallet)
    return wallet


# --- holds: reserve, capture, release ------------------------------------------------------------


def credits_reserve(
    *,
    user_id: int,
    action_type: str,
    quantity: int = 1,
    reference: str = "",
    idempotency_key: str | None = None,
    rule: PricingRule | None = None,
    wallet: Wallet | None = None,
) -> Hold:
    """Set aside the price of `quantity` actions (free units first) or raise why not.

    `rule`, if the caller has read the active rule for `action_type` already, saves reading it again."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 10_000:
        raise InvalidAmount("Quantity must be a whole number between 1 and 10000.")
    if rule is not None and rule.action_type != action_type:
        raise ValueError("rule= must be the rule of action_type")
    with _locked(user_id, wallet) as wallet:
        if idempotency_key is not None:
            existing = Hold.objects.filter(wallet=wallet, idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        if wallet.is_locked:
            raise WalletLocked()
        rule = rule or active_rule(action_type)
        _catch_up(wallet)

        period = period_of()
        usage, free_remaining = None, 0
        if rule.free_allowance_per_month:  # rules without an allowance skip the usage row entirely
            usage, _ = AllowanceUsage.objects.get_or_create(wallet=wallet, period=period, action_type=action_type)
            free_remaining = max(0, rule.free_allowance_per_month - usage.used - usage.reserved)
        price = quote(rule, quantity=quantity, free_remaining=free_remaining)
        if price.total_credits > wallet.available:
            raise InsufficientCredits(required=price.total_credits, available=wallet.available)

        if price.free_units:
            usage.reserved += price.free_units
            usage.save(update_fields=["reserved"])
        expires_at = timezone.now() + timedelta(seconds=settings.CREDITS_HOLD_TTL_SECONDS)
        first_to_expire = wallet.holds_due_at is None or wallet.holds_due_at > expires_at
        if price.total_credits or first_to_expire:
            wallet.reserved += price.total_credits
            wallet.holds_due_at = expires_at if first_to_expire else wallet.holds_due_at
            wallet.save(update_fields=["reserved", "holds_due_at", "updated_at"])
        return Hold.objects.create(
            wallet=wallet,
            action_type=action_type,
            quantity=quantity,
            amount=price.total_credits,
            free_units=price.free_units,
            period=period,
            reference=reference[:255],
            idempotency_key=idempotency_key,
            expires_at=expires_at,
        )


@dataclass(frozen=True)
class Capture:
    hold: Hold
    charged: int
    balance: int


def credits_capture(*, hold: Hold, description: str = "", wallet: Wallet | None = None) -> Capture:
    """Turn a hold into a charge: one `spend` row for the credits, one `free_use` row for free units.

    Capturing a hold twice returns the first outcome; capturing a released one raises HoldNotActive.
    """
    with _locked(hold.wallet_id, wallet) as wallet:
        if _settle(hold, HoldStatus.CAPTURED) is None:
            hold = Hold.objects.get(wallet_id=hold.wallet_id, pk=hold.pk)
            if hold.status == HoldStatus.CAPTURED:
                return Capture(hold=hold, charged=hold.amount, balance=wallet.current_balance)
            raise HoldNotActive()

        if hold.free_units:
            AllowanceUsage.objects.filter(wallet=wallet, period=hold.period, action_type=hold.action_type).update(
                used=F("used") + hold.free_units, reserved=F("reserved") - hold.free_units
            )
            _record(
                wallet,
                TransactionType.FREE_USE,
                0,
                action_type=hold.action_type,
                quantity=hold.free_units,
                reference=hold.reference,
                description=f"Free allowance used for {hold.action_type}",
                idempotency_key=f"hold:{hold.pk}:free",
            )
        if hold.amount:
            wallet.reserved -= hold.amount
            _take(wallet, hold.amount)
            _record(
                wallet,
                TransactionType.SPEND,
                -hold.amount,
                action_type=hold.action_type,
                quantity=hold.quantity - hold.free_units,
                reference=hold.reference,
                description=description or f"Credits spent for {hold.action_type}",
                idempotency_key=f"hold:{hold.pk}:spend",
            )
        return Capture(hold=hold, charged=hold.amount, balance=wallet.current_balance)


def credits_release(*, hold: Hold, status: str = HoldStatus.RELEASED, wallet: Wallet | None = None) -> Hold:
    """Give a hold's credits and free units back. Releasing a settled hold changes nothing."""
    with _locked(hold.wallet_id, wallet) as wallet:
        if _settle(hold, status) is None:
            return Hold.objects.get(wallet_id=hold.wallet_id, pk=hold.pk)
        if hold.free_units:
            AllowanceUsage.objects.filter(wallet=wallet, period=hold.period, action_type=hold.action_type).update(
                reserved=F("reserved") - hold.free_units
            )
        if hold.amount:
            wallet.reserved -= hold.amount
            wallet.save(update_fields=["reserved", "updated_at"])
        return hold


def holds_release_stale(*, now=None, limit: int = 1000) -> int:
    """Tidy the wallets nobody touches: release holds past their expiry (a killed worker), one short
    transaction per wallet. Correctness does not wait for this: a read or charge of a wallet
    releases its own expired holds first (`_catch_up`)."""
    now = now or timezone.now()
    wallet_ids = (
        Hold.objects.filter(status=HoldStatus.HELD, expires_at__lte=now)
        .order_by("wallet_id").values_list("wallet_id", flat=True).distinct()[:limit]
    )
    released = 0
    for wallet_id in list(wallet_ids):
        with transaction.atomic():
            released += _release_expired_holds(lock_wallet(wallet_id), now)
    return released


# --- credits in and out --------------------------------------------------------------------------


@transaction.atomic
def credits_top_up(
    *, user_id: int, amount: int, reference: str = "", description: str = "", idempotency_key: str | None = None
) -> LedgerEntry:
    """Credit purchased credits (they never expire). A repeated key returns the first row."""
    _check_amount(amount)
    wallet = lock_wallet(user_id)
    if (entry := _existing_entry(wallet, idempotency_key)) is not None:
        return entry
    wallet.purchased_balance += amount
    return _record(
        wallet,
        TransactionType.TOP_UP,
        amount,
        reference=reference,
        description=description or f"Top-up of {amount} credits",
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def credits_adjust(
    *, user_id: int, amount: int, reason: str, actor=None, idempotency_key: str | None = None
) -> LedgerEntry:
    """A staff correction. Positive amounts go to the purchased bucket; negative ones take monthly
    credits first and may not take credits that are spent or held."""
    _check_amount(amount, allow_negative=True)
    if not reason or not reason.strip():
        raise InvalidAmount("A reason is required for an adjustment.")
    wallet = lock_wallet(user_id)
    if (entry := _existing_entry(wallet, idempotency_key)) is not None:
        return entry
    if amount > 0:
        wallet.purchased_balance += amount
    else:
        if -amount > wallet.available:
            raise InvalidAmount(
                f"Cannot remove {-amount} credits: only {wallet.available} are available (balance never goes below zero)."
            )
        _take(wallet, -amount)
    return _record(
        wallet,
        TransactionType.ADJUSTMENT,
        amount,
        description=reason.strip(),
        idempotency_key=idempotency_key,
        actor=actor,
    )


@transaction.atomic
def credits_take_back(
    *, user_id: int, amount: int, reference: str = "", description: str = "", idempotency_key: str | None = None
) -> LedgerEntry | None:
    """Remove up to `amount` purchased credits (a refunded payment); returns None if none are left.

    Only credits that are neither spent nor held are taken: what is gone stays gone.
    """
    _check_amount(amount)
    wallet = lock_wallet(user_id)
    if (entry := _existing_entry(wallet, idempotency_key)) is not None:
        return entry
    takeable = min(amount, wallet.purchased_balance, wallet.available)
    if takeable <= 0:
        return None
    wallet.purchased_balance -= takeable
    return _record(
        wallet,
        TransactionType.REFUND,
        -takeable,
        reference=reference,
        description=description or f"Refund: {takeable} purchased credits removed",
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def credits_expire(*, user_id: int, amount: int, reason: str = "", idempotency_key: str | None = None) -> LedgerEntry:
    """Expire monthly credits (never purchased ones, never held ones)."""
    _check_amount(amount)
    wallet = lock_wallet(user_id)
    if (entry := _existing_entry(wallet, idempotency_key)) is not None:
        return entry
    if amount > min(wallet.monthly_balance, wallet.available):
        raise InvalidAmount(f"Only {min(wallet.monthly_balance, wallet.available)} monthly credits can expire.")
    wallet.monthly_balance -= amount
    return _record(
        wallet, TransactionType.EXPIRY, -amount, description=reason or "Monthly credits expired", idempotency_key=idempotency_key
    )

