"""Auto-recharge on the wallet's side: its settings, and a recharge's way from `pending` to
`succeeded` (credited once) or `failed` (auto-recharge turned off). The decision to start one is the
ledger writer's (wallets_recharge_start.sql); asking for the payment is `payments`'."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from outbox.events import EventType
from outbox.services import event_emit
from pricing.exceptions import InvalidAmount
from pricing.quotes import TOP_UP_MAX_CREDITS
from pricing.selectors import top_up_tier_list
from transactions.models import TransactionType

from ..locking import lock_wallet
from ..models import GrantSource, Recharge, RechargeState, RechargeStatus, Wallet
from .writes import MAX_CREDITS_PER_OPERATION, grants_add

IN_FLIGHT = (RechargeState.PENDING, RechargeState.PROCESSING)


@dataclass(frozen=True)
class AutoRechargeSettings:
    enabled: bool
    threshold: int
    credits: int | None
    target_balance: int | None
    monthly_limit: int


def _whole(value, name: str, *, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_CREDITS_PER_OPERATION:
        raise InvalidAmount(f"{name} must be a whole number of credits between {low} and {MAX_CREDITS_PER_OPERATION}.")
    return value


@transaction.atomic
def wallet_set_auto_recharge(*, user_id: int, settings: AutoRechargeSettings) -> Wallet:
    """Save the settings (top up by `credits` or up to `target_balance`, not both); saving them again
    after a failure turns auto-recharge back on (status `ok`)."""
    threshold = _whole(settings.threshold, "threshold")
    limit = _whole(settings.monthly_limit, "monthly_limit")
    if (settings.credits is None) == (settings.target_balance is None):
        raise InvalidAmount("Give either credits (top up by) or target_balance (top up to).")
    credits = None if settings.credits is None else _whole(settings.credits, "credits", low=1)
    target = None if settings.target_balance is None else _whole(settings.target_balance, "target_balance", low=1)
    # Every recharge must be a top-up Stripe is asked for: within the top-up range. Topping up to a
    # target starts below the threshold, so it buys at least target - threshold.
    tiers = top_up_tier_list()
    low = tiers[0].min_credits if tiers else 1
    if credits is not None and not low <= credits <= TOP_UP_MAX_CREDITS:
        raise InvalidAmount(f"credits must be between {low} and {TOP_UP_MAX_CREDITS} (the top-up range).")
    if target is not None and not (target - threshold >= low and target <= TOP_UP_MAX_CREDITS):
        raise InvalidAmount(f"target_balance must be at least {low} above the threshold and at most {TOP_UP_MAX_CREDITS}.")
    wallet = lock_wallet(user_id)
    wallet.recharge_enabled, wallet.recharge_threshold = bool(settings.enabled), threshold
    wallet.recharge_credits, wallet.recharge_target, wallet.recharge_monthly_limit = credits, target, limit
    wallet.recharge_status = RechargeStatus.OK
    wallet.save(update_fields=[
        "recharge_enabled", "recharge_threshold", "recharge_credits", "recharge_target", "recharge_monthly_limit",
        "recharge_status", "updated_at",
    ])
    return wallet


def recharge_begin(*, recharge_id: int) -> Recharge | None:
    """Claim a pending recharge for its payment (pending -> processing); None if another worker did,
    or it ended. The claim is the conditional update: two workers never ask for one payment twice."""
    claimed = Recharge.objects.filter(pk=recharge_id, status=RechargeState.PENDING).update(
        status=RechargeState.PROCESSING, updated_at=timezone.now()
    )
    return Recharge.objects.get(pk=recharge_id) if claimed else None


def recharge_note_payment(*, recharge_id: int, payment_intent: str) -> None:
    Recharge.objects.filter(pk=recharge_id).update(payment_intent=payment_intent, updated_at=timezone.now())


@transaction.atomic
def recharge_succeed(*, recharge_id: int, payment_intent: str, amount_cents: int, currency: str) -> Recharge:
    """The payment succeeded: the recharge's credits as a `purchase` grant with what was paid per
    credit, and `auto_recharge.succeeded`; once, whatever the redeliveries (the row's state, read
    under the wallet lock, and the grant's key decide)."""
    wallet_id = Recharge.objects.values_list("wallet_id", flat=True).get(pk=recharge_id)
    lock_wallet(wallet_id)
    recharge = Recharge.objects.select_for_update().get(wallet_id=wallet_id, pk=recharge_id)  # by its whole key
    if recharge.status == RechargeState.SUCCEEDED:
        return recharge
    (added,) = grants_add(
        wallet_ids=[wallet_id], source=GrantSource.PURCHASE, amount=recharge.credits,
        transaction_type=TransactionType.TOP_UP, cost_basis=Decimal(amount_cents) / recharge.credits, currency=currency,
        reason="Auto-recharge", reference=payment_intent, description=f"Auto-recharge of {recharge.credits} credits",
        idempotency_key=f"recharge:{recharge.pk}",
        event_type=EventType.AUTO_RECHARGE_SUCCEEDED, event_data={"credits": recharge.credits, "recharge_id": recharge.pk},
    )
    recharge.status, recharge.payment_intent, recharge.updated_at = RechargeState.SUCCEEDED, payment_intent, timezone.now()
    recharge.save(update_fields=["status", "payment_intent", "updated_at"])
    return recharge


@transaction.atomic
def recharge_fail(*, recharge_id: int, reason: str) -> Recharge:
    """The payment failed (declined, or the bank wants the cardholder present): the recharge ends,
    auto-recharge turns off (`disabled_after_failure`) and `auto_recharge.failed` is sent, once."""
    wallet_id = Recharge.objects.values_list("wallet_id", flat=True).get(pk=recharge_id)
    wallet = lock_wallet(wallet_id)
    recharge = Recharge.objects.select_for_update().get(wallet_id=wallet_id, pk=recharge_id)  # by its whole key
    if recharge.status not in IN_FLIGHT:
        return recharge  # ended before: a redelivery
    recharge.status, recharge.failure, recharge.updated_at = RechargeState.FAILED, reason[:255], timezone.now()
    recharge.save(update_fields=["status", "failure", "updated_at"])
    wallet.recharge_enabled, wallet.recharge_status = False, RechargeStatus.DISABLED_AFTER_FAILURE
    wallet.save(update_fields=["recharge_enabled", "recharge_status", "updated_at"])
    event_emit(wallet_id=wallet_id, event_type=EventType.AUTO_RECHARGE_FAILED, data={
        "available": wallet.available, "current_balance": wallet.current_balance, "credits": recharge.credits,
        "recharge_id": recharge.pk, "reason": recharge.failure,
    })
    return recharge


def recharges_to_reconcile(*, pending_before, processing_before) -> list[Recharge]:
    """Recharges still in flight: pending since before `pending_before` (no task asked for their
    payment: a worker that died, a write that queues none), processing since before
    `processing_before` (a webhook lost)."""
    return list(
        Recharge.objects.filter(
            Q(status=RechargeState.PENDING, updated_at__lt=pending_before)
            | Q(status=RechargeState.PROCESSING, updated_at__lt=processing_before)
        ).order_by("updated_at")[:500]
    )
