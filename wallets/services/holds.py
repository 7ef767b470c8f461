"""Holds: credits (and free units) set aside for a request until it succeeds (capture) or fails
(release). Each step is one call of its database function, a transaction of its own outside an
atomic block: wallets_hold_reserve, wallets_hold_capture, wallets_hold_release. The gate's calls
(`purchase_reserve`, `purchase_capture`: one unit of an action on a resource whose access is sold)
and the general ones (`credits_reserve`: any quantity; `credits_capture`, `credits_release`) are
the same functions with other arguments."""

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from common.db_calls import fetch_row
from common.periods import period_of
from pricing.exceptions import InvalidAmount
from pricing.models import PricingRule
from pricing.quotes import quote
from pricing.selectors import pricing_rule_get

from ..exceptions import HoldNotActive, InsufficientCredits, MemberCapReached, WalletLocked, WalletNotFound
from ..models import AllowanceUsage, Hold, HoldStatus
from ..outcomes import GRANTS_DISAGREE, ReserveOutcome, SettleOutcome
from .writes import events_queued, recharge_queued

logger = logging.getLogger("credits.ledger")

RESERVE = "SELECT * FROM wallets_hold_reserve(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
CAPTURE = "SELECT * FROM wallets_hold_capture(%s, %s, %s, %s, %s, %s)"
RELEASE = "SELECT * FROM wallets_hold_release(%s, %s, %s, %s)"


# --- reserve -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reservation:
    """What the reserve decided: `reserved` (with `hold`); for a purchase that sells access, `paid`
    (an access is in force) or `in_flight` (another request holds the price of the resource);
    `retry_captured` / `retry_held` (this Idempotency-Key's earlier request, `hold_id`)."""

    outcome: ReserveOutcome
    hold: Hold | None = None
    hold_id: int | None = None
    balance: int | None = None


def _reserve(*, user_id: int, action_type: str, reference: str, idempotency_key: str | None, quantity: int,
             free_units: int, amount: int, free_allowance: int, sells_access: bool, checks_in_flight: bool,
             now: datetime, member_id: int | None) -> tuple:
    expires_at = now + timedelta(seconds=settings.CREDITS_HOLD_TTL_SECONDS)
    try:
        # Bound here, not on the server: the function commits without waiting for the disk only
        # when it sees its statement start its transaction, which the extended protocol hides.
        return fetch_row(RESERVE, [
            user_id, action_type, reference, idempotency_key, quantity, free_units, amount, free_allowance,
            sells_access, checks_in_flight, period_of(now), now, expires_at, member_id,
        ], bound_on_server=False) + (expires_at,)
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == GRANTS_DISAGREE:
            raise InsufficientCredits(required=amount, available=0) from exc
        raise


def _refuse(outcome: str, *, required: int, balance: int, available: int, member_left: int | None) -> None:
    if outcome == ReserveOutcome.MISSING:
        raise WalletNotFound()
    if outcome == ReserveOutcome.LOCKED:
        raise WalletLocked()
    if outcome == ReserveOutcome.SHORT:
        raise InsufficientCredits(required=required, available=available)
    if outcome == ReserveOutcome.MEMBER_CAP_REACHED:
        raise MemberCapReached(required=required, member_left=member_left, balance=balance, available=available)


def purchase_reserve(
    *,
    user_id: int,
    action_type: str,
    reference: str,
    price: int,
    free_allowance: int = 0,
    free_left: int = 0,
    idempotency_key: str | None = None,
    sells_access: bool = False,
    checks_in_flight: bool = True,
    member_id: int | None = None,
) -> Reservation:
    """Reserve one unit of `action_type` on `reference`: a free unit while the month's allowance
    (`free_allowance` a month; `free_left` as the caller last read it) lasts, else `price` credits,
    unless (decided under the wallet lock) the purchase `sells_access` and is paid for or another
    request holds it (`checks_in_flight`), or this key's request was charged or is being served.
    `member_id`: the team member whose request it is (their monthly cap applies).
    Raises WalletNotFound, WalletLocked, InsufficientCredits or MemberCapReached."""
    for _ in range(3):
        now = timezone.now()
        free_units = 1 if free_left > 0 else 0
        amount = 0 if free_units else price
        outcome, hold_id, hold_key, allocations, balance, available, free_left, member_left, expires_at = _reserve(
            user_id=user_id, action_type=action_type, reference=reference, idempotency_key=idempotency_key,
            quantity=1, free_units=free_units, amount=amount, free_allowance=free_allowance,
            sells_access=sells_access, checks_in_flight=checks_in_flight, now=now, member_id=member_id,
        )
        if outcome == ReserveOutcome.REQUOTE:
            continue  # another request took (or gave back) a free unit since the caller looked
        _refuse(outcome, required=amount, balance=balance, available=available, member_left=member_left)
        if outcome != ReserveOutcome.RESERVED:
            return Reservation(ReserveOutcome(outcome), hold_id=hold_id, balance=balance)
        hold = Hold(
            id=hold_id, wallet_id=user_id, action_type=action_type, quantity=1, amount=amount, free_units=free_units,
            period=period_of(now), reference=reference[:255], idempotency_key=hold_key, member_id=member_id,
            status=HoldStatus.HELD,
            allocations=json.loads(allocations) if isinstance(allocations, str) else allocations,
            expires_at=expires_at, created_at=now,
        )
        hold._state.adding = False
        return Reservation(ReserveOutcome.RESERVED, hold, hold_id, balance)
    raise RuntimeError(f"wallet {user_id}: the free units of {action_type} kept changing")


def credits_reserve(
    *,
    user_id: int,
    action_type: str,
    quantity: int = 1,
    reference: str = "",
    idempotency_key: str | None = None,
    rule: PricingRule | None = None,
    member_id: int | None = None,
) -> Hold:
    """Set aside the price of `quantity` actions (free units first, bulk tiers applied) or raise why
    not. A key seen before returns that key's hold. `rule`, if the caller has read the active rule
    for `action_type` already, saves reading it again."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 10_000:
        raise InvalidAmount("Quantity must be a whole number between 1 and 10000.")
    if rule is not None and rule.action_type != action_type:
        raise ValueError("rule= must be the rule of action_type")
    rule = rule or pricing_rule_get(action_type=action_type)
    free_left = 0
    if rule.free_allowance_per_month:
        usage = AllowanceUsage.objects.filter(wallet_id=user_id, period=period_of(), action_type=action_type).first()
        free_left = max(0, rule.free_allowance_per_month - (usage.used + usage.reserved if usage else 0))
    for _ in range(3):
        price = quote(rule, quantity=quantity, free_remaining=free_left)
        outcome, hold_id, _, _, balance, available, free_left, member_left, _ = _reserve(
            user_id=user_id, action_type=action_type, reference=reference, idempotency_key=idempotency_key,
            quantity=quantity, free_units=price.free_units, amount=price.total_credits,
            free_allowance=rule.free_allowance_per_month, sells_access=False, checks_in_flight=False,
            now=timezone.now(), member_id=member_id,
        )
        if outcome == ReserveOutcome.REQUOTE:
            continue
        _refuse(outcome, required=price.total_credits, balance=balance, available=available, member_left=member_left)
        return Hold.objects.get(wallet_id=user_id, pk=hold_id)  # reserved now, or this key's earlier hold
    raise RuntimeError(f"wallet {user_id}: the free units of {action_type} kept changing")


# --- capture ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseCapture:
    """`captured` (now or before: `charged` credits) or `paid_already` (an access was in force: the
    hold was released, nothing charged). `balance`: the wallet's balance after."""

    outcome: SettleOutcome
    charged: int
    balance: int


def purchase_capture(
    *, hold: Hold, sells_access: bool = False, access_expires_at: datetime | None = None, description: str = ""
) -> PurchaseCapture:
    """Capture a hold in one call, durably: with `sells_access`, the access recorded first (until
    `access_expires_at`; None: forever), or the hold released if one is in force. A hold that was
    released (or expired) raises HoldNotActive."""
    outcome, charged, balance, event_ids, recharge_id = fetch_row(CAPTURE, [
        hold.wallet_id, hold.pk, description, sells_access, access_expires_at, timezone.now(),
    ])
    if outcome == SettleOutcome.MISSING and balance is None:
        raise WalletNotFound()
    if outcome == SettleOutcome.WAS_CAPTURED:
        return PurchaseCapture(SettleOutcome.CAPTURED, charged, balance)  # captured before: that outcome again
    if outcome in (SettleOutcome.MISSING, SettleOutcome.WAS_RELEASED, SettleOutcome.WAS_EXPIRED):
        raise HoldNotActive()
    if outcome == SettleOutcome.CAPTURED:
        hold.status, hold.settled_at = HoldStatus.CAPTURED, timezone.now()
        logger.info("ledger write wallet=%s type=spend amount=%s balance_after=%s key=hold:%s:spend",
                    hold.wallet_id, charged, balance, hold.pk)
    else:
        hold.status = HoldStatus.RELEASED
    events_queued(event_ids)  # committed: queued at once
    recharge_queued(recharge_id)
    return PurchaseCapture(SettleOutcome(outcome), charged, balance)


@dataclass(frozen=True)
class Capture:
    hold: Hold
    charged: int
    balance: int


def credits_capture(*, hold: Hold, description: str = "") -> Capture:
    """Turn a hold into a charge: one `spend` row for the credits (spending what its grants hold for
    it, even a grant that expired meanwhile), one `free_use` row for free units. Capturing a hold
    twice returns the first outcome; capturing a released one raises HoldNotActive."""
    capture = purchase_capture(hold=hold, description=description)
    return Capture(hold=hold, charged=capture.charged, balance=capture.balance)


# --- release -------------------------------------------------------------------------------------


def credits_release(*, hold: Hold, status: str = HoldStatus.RELEASED) -> Hold:
    """Give a hold's credits back to their grants, and its free units. Credits of a grant that expired
    while they were held expire now. Releasing a settled hold changes nothing."""
    (outcome,) = fetch_row(RELEASE, [hold.wallet_id, hold.pk, status, timezone.now()])
    if outcome == SettleOutcome.RELEASED:
        hold.status, hold.settled_at = status, timezone.now()
        return hold
    if outcome == SettleOutcome.MISSING:
        raise HoldNotActive()
    return Hold.objects.get(wallet_id=hold.wallet_id, pk=hold.pk)
