"""The credit gate for premium views: a permission class that asks and a decorator that charges.

    ask (permission, reads only)  ->  reserve (short transaction)  ->  run the view (no transaction,
    no lock)  ->  capture on 2xx, release otherwise

A resource already paid for inside its access window is served free. Two requests for the same
resource at once are charged once: the second one does not reserve, and whichever settles last
finds the access recorded by the first and pays nothing.

The pricing rule is read once per request (the permission reads it, the decorator reuses it).
Each transaction locks the wallet row once, then reads the answers that decide the step (already
paid? a hold in flight? this key seen before?) in a single statement.
"""

import functools
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.db.models import CharField, Exists, OuterRef, QuerySet, Subquery, Value
from rest_framework.permissions import BasePermission

from common.metrics import CREDITS_CHARGED, GATE_OUTCOMES
from pricing.models import PricingRule
from pricing.selectors import pricing_rule_get

from .exceptions import DeadlineExceeded, InsufficientCredits, InvalidIdempotencyKey, WalletLocked, WalletNotFound
from .locking import lock_wallet
from .models import Hold, HoldStatus, Wallet
from .selectors import credits_check
from .services import credits_capture, credits_release, credits_reserve, wallet_refresh

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


def rule_for(request, action_type: str) -> PricingRule:
    """The active rule for `action_type`, read once per request (permission and decorator share it)."""
    rules = request.__dict__.setdefault("_credit_rules", {})
    if action_type not in rules:
        rules[action_type] = pricing_rule_get(action_type=action_type)
    return rules[action_type]


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


def _read_after_lock(user_id: int, **checks) -> dict:
    """`checks` (expressions over the wallet's rows), in one statement issued once the wallet is locked.

    Not folded into the locking query on purpose: under READ COMMITTED a statement sees the data
    committed before it *started*, so a locking SELECT that waited for another request would
    return the fresh wallet row but stale answers (an access or a hold committed by the request it
    waited for would be invisible, and the resource charged twice). A new statement sees them."""
    return Wallet.objects.filter(pk=user_id).values(**checks).get()


@dataclass(frozen=True)
class Purchase:
    """What one gated request buys: `action_type` on `reference`, for the wallet of `user_id`."""

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


def gate_reserve(purchase: Purchase, *, idempotency_key: str | None = None) -> Ticket:
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


@dataclass(frozen=True)
class Settlement:
    charged: int
    balance: int


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


def charges_credits(method):
    """Wrap a gated view's handler: reserve, run, capture on 2xx or release on anything else.

    The view names what it sells: `credit_action`, `credit_access` (an AccessPolicy) and
    `credit_reference(request, **kwargs)`, the resource (which validates it: raise to refuse with
    a 4xx before anything is reserved). `HasCreditsFor` reads the same three.
    """

    @functools.wraps(method)
    def wrapper(view, request, *args, **kwargs):
        started = time.monotonic()
        purchase = Purchase(
            user_id=request.user.pk,
            action_type=view.credit_action,
            reference=view.credit_reference(request, **kwargs),
            access=view.credit_access,
            rule=rule_for(request, view.credit_action),
        )
        ticket = gate_reserve(purchase, idempotency_key=idempotency_key_of(request))
        try:
            response = method(view, request, *args, **kwargs)
            if not 200 <= response.status_code < 300:
                gate_abandon(ticket)
                GATE_OUTCOMES.labels(purchase.action_type, "abandoned").inc()
                return response
            if time.monotonic() - started > settings.CREDITS_REQUEST_DEADLINE_SECONDS:
                # The client has likely given up (and may retry): a late success is not charged.
                raise DeadlineExceeded()
            settlement = gate_settle(purchase, ticket)
        except BaseException:
            gate_abandon(ticket)  # releasing a settled or released hold changes nothing
            GATE_OUTCOMES.labels(purchase.action_type, "abandoned").inc()
            raise
        GATE_OUTCOMES.labels(purchase.action_type, "charged" if settlement.charged else "not_charged").inc()
        CREDITS_CHARGED.labels(purchase.action_type).inc(settlement.charged)
        response[CHARGED_HEADER] = str(settlement.charged)
        response[REMAINING_HEADER] = str(settlement.balance)
        return response

    return wrapper


class HasCreditsFor(BasePermission):
    """Asks, never charges: a wallet that exists, is active and can pay (or has paid) for the view's
    `credit_action` on the resource `view.credit_reference(request, **kwargs)` names."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        action_type = view.credit_action
        resource = view.credit_reference(request, **view.kwargs)
        idempotency_key_of(request)  # bad input is a 400 before any question of credits
        wallet = (
            Wallet.objects.select_related("package")
            .annotate(already_paid=_paid(view.credit_access, action_type, resource))
            .filter(pk=request.user.pk)
            .first()
        )
        if wallet is None:
            raise WalletNotFound()
        if wallet.is_locked:
            raise WalletLocked()
        paid = wallet.already_paid
        rule = rule_for(request, action_type)
        if wallet.is_due():
            wallet = wallet_refresh(user_id=wallet.pk)  # a new month or an expired hold: settle it first
        decision = credits_check(wallet=wallet, action_type=action_type, already_paid=paid, rule=rule)
        if decision.reason == "insufficient_credits":
            GATE_OUTCOMES.labels(action_type, "refused").inc()
            raise InsufficientCredits(required=decision.credits_required, available=decision.current_balance)
        return True
