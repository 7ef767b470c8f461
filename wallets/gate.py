"""The credit gate for premium views, in one place: how a gated request is asked, reserved, served
and settled. `CreditGatedView` owns the flow; read it top to bottom.

    DRF's initial(): authenticate, the view's permissions (IsAuthenticated), throttles
        -> a throttled or anonymous request stops here and never reads a wallet
    resolve the resource once (`credit_reference`), parse the Idempotency-Key (400 if bad)
    ask   (`HasCreditsFor`, one read, wallets_purchase_ask: the wallet, "paid for already?", the
          month's free units used and the pricing rules' version; the rule itself comes from this
          process's cache unless the version moved; never locks or writes)
        -> 402 now if the wallet is missing, locked or short; served free if the access is in force
    reserve (`gate_reserve`: one call of wallets_hold_reserve, its own transaction): the checks
          under the wallet lock, whatever is due settled, then the price (or a free unit) held
    the handler runs: no transaction, no lock (the provider may take seconds)
    DRF's finalize_response(): capture on 2xx (`gate_settle`: one call of wallets_hold_capture,
          its own durable transaction: the access recorded, the charge written), release otherwise

A paid request adds three statements to the view's own: ask, reserve, capture; so does a free unit.

A resource already paid for inside its access window is served free. Two requests for the same
resource at once are charged once: the second one does not reserve, and when it settles it takes
its own hold and capture only if no access is in force by then (the first one failed); the first
one, settling after it, finds the access recorded and is released. A retry with the same
Idempotency-Key is never charged twice. Failed work (non-2xx, an exception) is never charged.

Handlers that charge carry `@charges_credits`, which only marks them; the view's `credit_action`
and `credit_reference()` say what is sold: an access to that resource for the rule's window.
"""

import logging
import time
from dataclasses import dataclass, replace

from django.conf import settings
from django.utils import timezone
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from common.metrics import CREDITS_CHARGED, GATE_OUTCOMES
from pricing.models import PricingRule
from pricing.quotes import quote
from pricing.selectors import pricing_rule_current

from .exceptions import DeadlineExceeded, InsufficientCredits, InvalidIdempotencyKey, WalletLocked, WalletNotFound
from .models import Hold
from .outcomes import ReserveOutcome, SettleOutcome
from .selectors import PurchaseState, purchase_state
from .services import credits_release, purchase_capture, purchase_reserve
from .teams import member_of, wallet_id_of

logger = logging.getLogger("credits.gate")

CHARGED_HEADER = "X-Credits-Charged"
REMAINING_HEADER = "X-Credits-Remaining"


# --- what one request buys ---------------------------------------------------------------------


@dataclass(frozen=True)
class Purchase:
    """What one gated request buys: `action_type` on `reference`, for the wallet `user_id` (the key of
    the wallet the user spends from: their own, or their team's, then `member_id` is theirs), at the
    rule in force when the request started (filled in by the ask)."""

    user_id: int
    action_type: str
    reference: str
    rule: PricingRule | None = None
    member_id: int | None = None


@dataclass(frozen=True)
class Ticket:
    """What the reservation step decided: a hold to settle, or nothing to pay (`balance` known), or
    neither yet (another request for the resource, or this key's first attempt, is being served)."""

    hold: Hold | None
    already_paid: bool = False
    balance: int = 0


@dataclass(frozen=True)
class Settlement:
    charged: int
    balance: int


def idempotency_key_of(request) -> str | None:
    """The request's Idempotency-Key header, if any; one a hold cannot store is refused (400)."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        return None  # absent or empty: no key
    if len(key) > 255 or not key.isascii() or not key.isprintable():
        raise InvalidIdempotencyKey()
    return key


def _unit_price(rule: PricingRule, free_remaining: int = 0) -> int:
    return quote(rule, quantity=1, free_remaining=free_remaining, tiers=rule.bulk_tiers.all()).total_credits


# --- 1. ask ------------------------------------------------------------------------------------


class HasCreditsFor(BasePermission):
    """Asks, never charges, never locks or writes: a wallet that exists, is active and can pay (or
    has paid) for the view's purchase. One read (`selectors.purchase_state`): the wallet, "paid
    already?", the month's free units and the pricing rules' version, which says whether this
    process's cached rule is still the rule (`pricing_rule_current`). The answer is kept on the view
    (`credit_answer`), the rule on its purchase.

    A wallet with something due (a new month, an expired hold or grant) is not judged here: its
    totals are about to change, and the reserve settles what is due under the lock, then decides."""

    def has_permission(self, request, view) -> bool:
        purchase: Purchase = view.credit_purchase
        state = purchase_state(user_id=purchase.user_id, action_type=purchase.action_type,
                               reference=purchase.reference)
        rule = pricing_rule_current(action_type=purchase.action_type, version=state.rules_version)
        view.credit_purchase = purchase = replace(purchase, rule=rule)
        if not state.exists:
            raise WalletNotFound()
        if state.is_locked:
            raise WalletLocked()
        view.credit_answer = state
        if state.due or state.already_paid:
            return True  # due: the reserve decides; paid: nothing to afford
        price = _unit_price(rule, free_remaining=_free_left(rule, state))
        if price > state.available:
            GATE_OUTCOMES.labels(purchase.action_type, "refused").inc()
            raise InsufficientCredits(required=price, available=state.available)
        return True


def _free_left(rule: PricingRule, state: PurchaseState | None) -> int:
    """Free units of the month left as the ask read them (none read: all of them, the reserve says)."""
    used = state.free_used if state is not None else 0
    return max(0, rule.free_allowance_per_month - used)


# --- 2. reserve --------------------------------------------------------------------------------


def gate_reserve(purchase: Purchase, answer: PurchaseState | None = None, *,
                 idempotency_key: str | None = None, late: bool = False) -> Ticket:
    """One call (`services.purchase_reserve`): under the wallet lock, is the resource paid already? a
    hold in flight for it (not asked `late`, when this request was served already)? this key seen?
    If none, the price (or a free unit, as the ask counted them) is set aside."""
    reservation = purchase_reserve(
        user_id=purchase.user_id,
        action_type=purchase.action_type,
        reference=purchase.reference,
        price=_unit_price(purchase.rule),
        free_allowance=purchase.rule.free_allowance_per_month,
        free_left=_free_left(purchase.rule, answer),
        idempotency_key=idempotency_key,
        sells_access=True,
        checks_in_flight=not late,
        member_id=purchase.member_id,
    )
    if reservation.outcome == ReserveOutcome.RESERVED:
        return Ticket(hold=reservation.hold)
    # paid, or a retry of a request that was charged: never charge again. A retry of a request being
    # served, or another request holding this resource: settled late (free if that one paid).
    already_paid = reservation.outcome in (ReserveOutcome.PAID, ReserveOutcome.RETRY_CAPTURED)
    return Ticket(hold=None, already_paid=already_paid, balance=reservation.balance or 0)


# --- 4. settle ---------------------------------------------------------------------------------


def gate_settle(purchase: Purchase, ticket: Ticket) -> Settlement:
    """After a successful response: charge once per resource and record the access, in one call
    (`services.purchase_capture`). A request that found the resource held by another (or its key's
    first attempt in flight) reserves now, without waiting for that one, unless an access is in force
    by now: whichever settles second finds the access recorded and pays nothing."""
    if ticket.hold is None and not ticket.already_paid:
        ticket = gate_reserve(purchase, late=True)
    if ticket.hold is None:
        return Settlement(charged=0, balance=ticket.balance)
    window = purchase.rule.access_window
    capture = purchase_capture(
        hold=ticket.hold, sells_access=True, access_expires_at=None if window is None else timezone.now() + window,
    )
    if capture.outcome == SettleOutcome.PAID_ALREADY:  # another request for this resource settled (and paid)
        return Settlement(charged=0, balance=capture.balance)
    return Settlement(charged=capture.charged, balance=capture.balance)


def gate_abandon(ticket: Ticket) -> None:
    if ticket.hold is not None:
        credits_release(hold=ticket.hold)


# --- the view that owns the flow ---------------------------------------------------------------


def charges_credits(handler):
    """Mark a handler of a `CreditGatedView` as paid: the view reserves before it and settles after."""
    handler.charges_credits = True
    return handler


# A view whose `@charges_credits` handlers are sold: `credit_action` (a pricing rule's action_type)
# on the resource `credit_reference(request, **kwargs)` names (which validates it: raise to refuse
# with a 4xx before any question of credits); the purchase is an access to that resource for the
# rule's access window. (A comment, not a
# docstring: the schema would show a docstring as every gated operation's description.)
class CreditGatedView(APIView):

    credit_action: str = ""
    credit_permission = HasCreditsFor

    credit_purchase: Purchase | None = None  # per request, set in initial()
    credit_answer: PurchaseState | None = None  # what the ask read
    credit_ticket: Ticket | None = None  # what the reserve decided
    credit_settlement: Settlement | None = None  # known already when the ask found the access in force
    credit_started: float = 0.0  # when the gate began: a success after the deadline is not charged

    def credit_reference(self, request, **kwargs) -> str:
        raise NotImplementedError

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles: DRF's order
        handler = getattr(self, request.method.lower(), None)
        if not getattr(handler, "charges_credits", False):
            return
        reference = self.credit_reference(request, **kwargs)  # the resource, resolved once
        idempotency_key = idempotency_key_of(request)  # bad input is a 400 before any question of credits
        self.credit_purchase = Purchase(  # the ask adds the rule: the price at the request's start
            user_id=wallet_id_of(request.user), action_type=self.credit_action, reference=reference,
            member_id=member_of(request.user),
        )
        if not self.credit_permission().has_permission(request, self):
            self.permission_denied(request)
        answer = self.credit_answer
        if answer.already_paid and not answer.due:
            # An access in force, committed before this request began: served free, nothing to lock.
            self.credit_started = time.monotonic()
            self.credit_ticket = Ticket(hold=None, already_paid=True)
            self.credit_settlement = Settlement(charged=0, balance=answer.balance)
            return
        self.credit_started = time.monotonic()
        self.credit_ticket = gate_reserve(self.credit_purchase, answer, idempotency_key=idempotency_key)

    def finalize_response(self, request, response, *args, **kwargs):
        ticket, self.credit_ticket = self.credit_ticket, None  # settled once, whatever happens next
        if ticket is not None:
            response = self._settle(ticket, response)
        return super().finalize_response(request, response, *args, **kwargs)

    def _settle(self, ticket: Ticket, response):
        """Capture on 2xx, release on anything else; a settle that fails is answered like any error."""
        if not 200 <= response.status_code < 300:
            self._abandon(ticket)
            return response
        try:
            if time.monotonic() - self.credit_started > settings.CREDITS_REQUEST_DEADLINE_SECONDS:
                # The client has likely given up (and may retry): a late success is not charged.
                raise DeadlineExceeded()
            settlement = self.credit_settlement or gate_settle(self.credit_purchase, ticket)
        except Exception as exc:
            # e.g. past the deadline, or a duplicate whose payer failed and the credits are gone (402)
            self._abandon(ticket)  # releasing a settled or released hold changes nothing
            return self.handle_exception(exc)
        action_type = self.credit_purchase.action_type
        GATE_OUTCOMES.labels(action_type, "charged" if settlement.charged else "not_charged").inc()
        CREDITS_CHARGED.labels(action_type).inc(settlement.charged)
        response[CHARGED_HEADER] = str(settlement.charged)
        response[REMAINING_HEADER] = str(settlement.balance)
        return response

    def handle_exception(self, exc):
        try:
            return super().handle_exception(exc)  # the answer goes through finalize_response: released there
        except BaseException:
            ticket, self.credit_ticket = self.credit_ticket, None
            if ticket is not None:
                self._abandon(ticket)  # an exception no handler answers: still never charged
            raise

    def _abandon(self, ticket: Ticket) -> None:
        gate_abandon(ticket)
        GATE_OUTCOMES.labels(self.credit_purchase.action_type, "abandoned").inc()
