"""The credit gate for premium views, in one place: how a gated request is asked, reserved, served
and settled. `CreditGatedView` owns the flow; read it top to bottom.

    DRF's initial(): authenticate, the view's permissions (IsAuthenticated), throttles
        -> a throttled or anonymous request stops here and never reads a wallet
    resolve the resource once (`credit_reference`), parse the Idempotency-Key (400 if bad)
    ask   (`HasCreditsFor`, one read: the wallet and "paid for already?"; never locks or writes)
        -> 402 now if the wallet is missing, locked or short; served free if the access is in force
    reserve (`gate_reserve`, short transaction): the price (or a free unit) moves into a hold
    the handler runs: no transaction, no lock (the provider may take seconds)
    DRF's finalize_response(): capture on 2xx (`gate_settle`, short transaction), release otherwise

A resource already paid for inside its access window is served free. Two requests for the same
resource at once are charged once: the second one does not reserve, and whichever settles last
finds the access recorded by the first and pays nothing. A retry with the same Idempotency-Key is
never charged twice. Failed work (non-2xx, an exception) is never charged.

Handlers that charge carry `@charges_credits`, which only marks them; the view's `credit_action`,
`credit_access` (an AccessPolicy) and `credit_reference()` say what is sold.
"""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, QuerySet, Subquery, Value
from django.utils import timezone
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from common.metrics import CREDITS_CHARGED, GATE_OUTCOMES
from pricing.models import PricingRule
from pricing.selectors import pricing_rule_get

from .exceptions import DeadlineExceeded, InsufficientCredits, InvalidIdempotencyKey, WalletLocked, WalletNotFound
from .locking import lock_wallet
from .models import Hold, HoldStatus, Wallet
from .selectors import credits_check
from .services import credits_capture, credits_release, credits_reserve

logger = logging.getLogger("credits.gate")

CHARGED_HEADER = "X-Credits-Charged"
REMAINING_HEADER = "X-Credits-Remaining"


class AccessPolicy(Protocol):
    """What the gate needs to know about paid access; the feature app implements it."""

    def current(self, *, wallet, action_type: str, reference: str) -> QuerySet:
        """The access rows in force; `wallet` is an id or an `OuterRef` to the wallet's key."""

    def grant(self, *, wallet_id: int, action_type: str, reference: str, window: timedelta | None) -> bool:
        """Inside the capture's transaction: record the access for `window` (None: forever), or renew
        an expired one, and say True; say False if one is in force (another request paid for it).
        It must decide on the latest committed rows (e.g. INSERT ... ON CONFLICT), not a snapshot."""


# --- what one request buys ---------------------------------------------------------------------


@dataclass(frozen=True)
class Purchase:
    """What one gated request buys: `action_type` on `reference`, for the wallet of `user_id`, at the
    rule in force when the request started."""

    user_id: int
    action_type: str
    reference: str
    access: AccessPolicy
    rule: PricingRule


@dataclass(frozen=True)
class Ticket:
    """What the reservation step decided: a hold to settle, or nothing to pay."""

    hold: Hold | None
    already_paid: bool = False


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


def _paid(access: AccessPolicy, action_type: str, reference: str) -> Exists:
    return Exists(access.current(wallet=OuterRef("pk"), action_type=action_type, reference=reference))


# --- 1. ask ------------------------------------------------------------------------------------


class HasCreditsFor(BasePermission):
    """Asks, never charges, never locks or writes: a wallet that exists, is active and can pay (or
    has paid) for the view's purchase. One read of the wallet with "paid already?" beside it; the
    answer is kept on the view (`credit_answer`) for the reserve.

    A wallet with something due (a new month, an expired hold or grant) is not judged here: its
    totals are about to change, and the reserve settles what is due under the lock, then decides."""

    def has_permission(self, request, view) -> bool:
        purchase: Purchase = view.credit_purchase
        wallet = (
            Wallet.objects.select_related("package")
            .annotate(already_paid=_paid(purchase.access, purchase.action_type, purchase.reference))
            .filter(pk=purchase.user_id)
            .first()
        )
        if wallet is None:
            raise WalletNotFound()
        if wallet.is_locked:
            raise WalletLocked()
        view.credit_answer = wallet
        if wallet.is_due() or wallet.already_paid:
            return True  # due: the reserve decides; paid: nothing to afford (and no usage row to read)
        decision = credits_check(wallet=wallet, action_type=purchase.action_type, rule=purchase.rule)
        if decision.reason == "insufficient_credits":
            GATE_OUTCOMES.labels(purchase.action_type, "refused").inc()
            raise InsufficientCredits(required=decision.credits_required, available=decision.current_balance)
        return True


# --- 2. reserve --------------------------------------------------------------------------------


def _read_after_lock(user_id: int, **checks) -> dict:
    """`checks` (expressions over the wallet's rows), in one statement issued once the wallet is locked.

    Not folded into the locking query on purpose: under READ COMMITTED a statement sees the data
    committed before it *started*, so a locking SELECT that waited for another request would
    return the fresh wallet row but stale answers (an access or a hold committed by the request it
    waited for would be invisible, and the resource charged twice). A new statement sees them."""
    return Wallet.objects.filter(pk=user_id).values(**checks).get()


def gate_reserve(purchase: Purchase, *, idempotency_key: str | None = None) -> Ticket:
    """Under the wallet lock: paid already? a hold in flight for the resource? this key seen? If
    none, set the price aside (`credits_reserve`, which also settles what is due on the wallet)."""
    holds = Hold.objects.filter(wallet=OuterRef("pk"))
    with transaction.atomic():
        wallet = lock_wallet(purchase.user_id)
        state = _read_after_lock(
            purchase.user_id,
            already_paid=_paid(purchase.access, purchase.action_type, purchase.reference),
            in_flight=Exists(  # a hold past its expiry is not in flight: its request died
                holds.filter(
                    action_type=purchase.action_type,
                    reference=purchase.reference,
                    status=HoldStatus.HELD,
                    expires_at__gt=timezone.now(),
                )
            ),
            previous=Subquery(holds.filter(idempotency_key=idempotency_key).values("status")[:1])
            if idempotency_key is not None
            else Value(None, output_field=CharField()),
        )
        if state["already_paid"]:
            return Ticket(hold=None, already_paid=True)
        if state["previous"] in (HoldStatus.CAPTURED, HoldStatus.HELD):
            # A retry of a request that was charged (or is being served): never charge it again.
            return Ticket(hold=None, already_paid=state["previous"] == HoldStatus.CAPTURED)
        if state["previous"] is not None:
            idempotency_key = None  # the first attempt failed and was released: try afresh
        if state["in_flight"]:
            return Ticket(hold=None)  # settle decides: free if the other request paid, else charge then
        return Ticket(hold=_reserve(purchase, wallet, idempotency_key=idempotency_key))


def _reserve(purchase: Purchase, wallet: Wallet, *, idempotency_key: str | None = None) -> Hold:
    return credits_reserve(
        user_id=purchase.user_id,
        action_type=purchase.action_type,
        reference=purchase.reference,
        idempotency_key=idempotency_key,
        rule=purchase.rule,
        wallet=wallet,
    )


# --- 4. settle ---------------------------------------------------------------------------------


def gate_settle(purchase: Purchase, ticket: Ticket) -> Settlement:
    """After a successful response: charge once per resource and record the access."""
    with transaction.atomic():
        wallet = lock_wallet(purchase.user_id)
        # The grant is also the check: it records the access unless one is in force, i.e. unless
        # another request for this resource settled (and paid) while this one was being served.
        if ticket.already_paid or not purchase.access.grant(
            wallet_id=wallet.pk,
            action_type=purchase.action_type,
            reference=purchase.reference,
            window=purchase.rule.access_window,
        ):
            if ticket.hold is not None:
                credits_release(hold=ticket.hold, wallet=wallet)
            return Settlement(charged=0, balance=wallet.current_balance)
        capture = credits_capture(hold=ticket.hold or _reserve(purchase, wallet), wallet=wallet)
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
# with a 4xx before any question of credits), access kept by `credit_access`. (A comment, not a
# docstring: the schema would show a docstring as every gated operation's description.)
class CreditGatedView(APIView):

    credit_action: str = ""
    credit_access: AccessPolicy
    credit_permission = HasCreditsFor

    credit_purchase: Purchase | None = None  # per request, set in initial()
    credit_answer: Wallet | None = None  # what the ask read
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
        self.credit_purchase = Purchase(
            user_id=request.user.pk,
            action_type=self.credit_action,
            reference=reference,
            access=self.credit_access,
            rule=pricing_rule_get(action_type=self.credit_action),  # the price at the request's start
        )
        if not self.credit_permission().has_permission(request, self):
            self.permission_denied(request)
        answer = self.credit_answer
        if answer.already_paid and not answer.is_due():
            # An access in force, committed before this request began: served free, nothing to lock.
            self.credit_started = time.monotonic()
            self.credit_ticket = Ticket(hold=None, already_paid=True)
            self.credit_settlement = Settlement(charged=0, balance=answer.current_balance)
            return
        self.credit_started = time.monotonic()
        self.credit_ticket = gate_reserve(self.credit_purchase, idempotency_key=idempotency_key)

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
