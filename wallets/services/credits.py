"""Credits into and out of one wallet outside a request: a paid top-up and its refund, a staff
correction, monthly credits expired early. Each is one short atomic block on the locked wallet,
whatever was due settled first, one ledger row written by the ledger writer (`writes`)."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from outbox.events import EventType
from outbox.services import event_emit
from pricing.exceptions import InvalidAmount
from transactions.models import LedgerEntry, TransactionType

from ..locking import lock_wallet
from ..models import Grant, GrantSource
from .lifecycle import wallet_catch_up
from .writes import check_amount, grants_add, ledger_write, take

MIGRATED_PURCHASE_KEY = "migrated:purchase"  # see migrations/0005_grants_from_buckets.py
MONTHLY_SOURCES = (GrantSource.MONTHLY, GrantSource.ROLLOVER)


def _existing_entry(wallet_id: int, idempotency_key: str | None) -> LedgerEntry | None:
    # Safe without a race: every writer of this wallet's ledger holds the wallet lock first.
    if idempotency_key is None:
        return None
    return LedgerEntry.objects.filter(wallet_id=wallet_id, idempotency_key=idempotency_key).first()


def _locked_and_up_to_date(user_id: int, idempotency_key: str | None):
    """Lock the wallet; (the row a repeated key wrote, or None after settling what was due)."""
    lock_wallet(user_id)
    if (entry := _existing_entry(user_id, idempotency_key)) is not None:
        return entry
    wallet_catch_up(user_id=user_id)
    return None


@transaction.atomic
def credits_top_up(
    *,
    user_id: int,
    amount: int,
    reference: str = "",
    description: str = "",
    idempotency_key: str | None = None,
    cost_basis: Decimal = Decimal(0),
    currency: str = "",
) -> LedgerEntry:
    """Credit purchased credits: a `purchase` grant (never expiring unless PURCHASED_CREDITS_EXPIRE_DAYS
    is set) with what was paid per credit, and `top_up.completed`. A repeated key returns the first row."""
    check_amount(amount)
    if (entry := _locked_and_up_to_date(user_id, idempotency_key)) is not None:
        return entry
    days = settings.PURCHASED_CREDITS_EXPIRE_DAYS
    (added,) = grants_add(
        wallet_ids=[user_id], source=GrantSource.PURCHASE, amount=amount, transaction_type=TransactionType.TOP_UP,
        expires_at=timezone.now() + timedelta(days=days) if days else None, cost_basis=cost_basis,
        currency=currency, reason=description or "Top-up", reference=reference,
        description=description or f"Top-up of {amount} credits", idempotency_key=idempotency_key,
        event_type=EventType.TOP_UP_COMPLETED, event_data={"credits": amount, "reference": reference},
    )
    return LedgerEntry.objects.get(pk=added.entry_id)


@transaction.atomic
def credits_adjust(
    *, user_id: int, amount: int, reason: str, actor=None, idempotency_key: str | None = None
) -> LedgerEntry:
    """A staff correction. Positive amounts are a `purchase` grant that cost nothing (they never
    expire, as before grants); negative ones take spendable credits in the spending order and may
    not take credits that are spent or held."""
    check_amount(amount, allow_negative=True)
    if not reason or not reason.strip():
        raise InvalidAmount("A reason is required for an adjustment.")
    if (entry := _locked_and_up_to_date(user_id, idempotency_key)) is not None:
        return entry
    actor_id = getattr(actor, "pk", None)
    if amount > 0:
        (added,) = grants_add(
            wallet_ids=[user_id], source=GrantSource.PURCHASE, amount=amount,
            transaction_type=TransactionType.ADJUSTMENT, reason=reason.strip(), reference="adjustment",
            description=reason.strip(), idempotency_key=idempotency_key, actor_id=actor_id,
        )
        return LedgerEntry.objects.get(pk=added.entry_id)
    available = lock_wallet(user_id).available
    if -amount > available:
        raise InvalidAmount(
            f"Cannot remove {-amount} credits: only {available} are available (balance never goes below zero)."
        )
    moves, _ = take(wallet_id=user_id, amount=-amount)
    written = ledger_write(
        wallet_id=user_id, transaction_type=TransactionType.ADJUSTMENT, moves=moves, sign=-1, grant_column=None,
        description=reason.strip(), idempotency_key=idempotency_key, actor_id=actor_id,
    )
    return LedgerEntry.objects.get(pk=written.entry_id)


@transaction.atomic
def credits_take_back(
    *,
    user_id: int,
    amount: int,
    grant_key: str | None = None,
    reference: str = "",
    description: str = "",
    idempotency_key: str | None = None,
) -> LedgerEntry | None:
    """Remove up to `amount` purchased credits (a refunded payment); returns None if none are left.

    With `grant_key` (the purchase's own key, e.g. `top_up:12`) only that purchase's grant is taken
    from, never another's. Only credits that are neither spent nor held are taken: what is gone
    stays gone.
    """
    check_amount(amount)
    if (entry := _locked_and_up_to_date(user_id, idempotency_key)) is not None:
        return entry
    if grant_key is not None and not Grant.objects.filter(wallet_id=user_id, idempotency_key=grant_key).exists():
        # A purchase made before grants existed has none of its own: its credits are in the purchase
        # grant the migration made from the old bucket.
        grant_key = MIGRATED_PURCHASE_KEY
    moves, taken = take(wallet_id=user_id, amount=amount, sources=(GrantSource.PURCHASE,), grant_key=grant_key,
                        up_to=True)
    if not taken:
        return None
    written = ledger_write(
        wallet_id=user_id, transaction_type=TransactionType.REFUND, moves=moves, sign=-1, grant_column=None,
        reference=reference, description=description or f"Refund: {taken} purchased credits removed",
        idempotency_key=idempotency_key,
    )
    event_emit(wallet_id=user_id, event_type=EventType.TOP_UP_REFUNDED, data={
        "available": written.available_after, "current_balance": written.balance_after, "credits": taken,
        "reference": reference, "ledger_entry_id": written.entry_id,
    })
    return LedgerEntry.objects.get(pk=written.entry_id)


@transaction.atomic
def credits_expire(*, user_id: int, amount: int, reason: str = "", idempotency_key: str | None = None) -> LedgerEntry:
    """Expire monthly credits early (never purchased ones, never held ones)."""
    check_amount(amount)
    if (entry := _locked_and_up_to_date(user_id, idempotency_key)) is not None:
        return entry
    moves, taken = take(wallet_id=user_id, amount=amount, sources=MONTHLY_SOURCES, up_to=True)
    if taken < amount:
        raise InvalidAmount(f"Only {taken} monthly credits can expire.")  # the block rolls back what was taken
    written = ledger_write(
        wallet_id=user_id, transaction_type=TransactionType.EXPIRY, moves=moves, sign=-1, grant_column=None,
        description=reason or "Monthly credits expired", idempotency_key=idempotency_key,
    )
    return LedgerEntry.objects.get(pk=written.entry_id)
