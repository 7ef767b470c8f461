"""The credit gate for premium views: a permission class that asks and a decorator that charges.

    reserve (short transaction)  ->  run the view (no transaction, no lock)  ->  capture on 2xx,
                                                                               release otherwise

A resource already paid for inside its access window is served free. Two requests for the same
resource at once are charged once: the second one does not reserve, and whichever settles last
finds the access recorded by the first and pays nothing.
"""

import functools
import logging
from dataclasses import dataclass
from typing import Callable, Protocol

from django.db import transaction
from rest_framework.permissions import BasePermission

from .exceptions import InsufficientCredits, WalletLocked
from .locking import lock_wallet
from .models import Hold, HoldStatus
from .services import credits_capture, credits_release, credits_reserve, wallet_refresh

logger = logging.getLogger("credits.gate")

CHARGED_HEADER = "X-Credits-Charged"
REMAINING_HEADER = "X-Credits-Remaining"


class AccessPolicy(Protocol):
    """What the gate needs to know about paid access; the feature app implements it."""

    def is_current(self, *, wallet_id: int, action_type: str, reference: str) -> bool: ...

    def grant(self, *, wallet_id: int, action_type: str, reference: str) -> None: ...


@dataclass(frozen=True)
class Ticket:
    """What the reservation step decided: a hold to settle, or nothing to pay."""

    hold: Hold | None
    already_paid: bool = False


def gate_reserve(
    *, user_id: int, action_type: str, reference: str, access: AccessPolicy, idempotency_key: str | None = None
) -> Ticket:
    with transaction.atomic():
        wallet = lock_wallet(user_id)
        if access.is_current(wallet_id=wallet.pk, action_type=action_type, reference=reference):
            return Ticket(hold=None, already_paid=True)
        if idempotency_key is not None:
            previous = Hold.objects.filter(wallet=wallet, idempotency_key=idempotency_key).first()
            if previous is not None and previous.status in (HoldStatus.CAPTURED, HoldStatus.HELD):
                # A retry of a request that was charged (or is being served): never charge it again.
                return Ticket(hold=None, already_paid=previous.status == HoldStatus.CAPTURED)
            if previous is not None:
                idempotency_key = None  # the first attempt failed and was released: try afresh
        in_flight = Hold.objects.filter(
            wallet=wallet, action_type=action_type, reference=reference, status=HoldStatus.HELD
        ).exists()
        if in_flight:
            return Ticket(hold=None)  # settle decides: free if the other request paid, else charge then
        hold = credits_reserve(
            user_id=user_id, action_type=action_type, reference=reference, idempotency_key=idempotency_key
        )
        return Ticket(hold=hold)


@dataclass(frozen=True)
class Settlement:
    charged: int
    balance: int


def gate_settle(*, user_id: int, action_type: str, reference: str, access: AccessPolicy, ticket: Ticket) -> Settlement:
    """After a successful response: charge once per resource and record the access."""
    with transaction.atomic():
        wallet = lock_wallet(user_id)
        if ticket.already_paid or access.is_current(wallet_id=wallet.pk, action_type=action_type, reference=reference):
            if ticket.hold is not None:
                credits_release(hold=ticket.hold)
            return Settlement(charged=0, balance=wallet.current_balance)
        hold = ticket.hold or credits_reserve(user_id=user_id, action_type=action_type, reference=reference)
        capture = credits_capture(hold=hold)
        access.grant(wallet_id=wallet.pk, action_type=action_type, reference=reference)
        return Settlement(charged=capture.charged, balance=capture.balance)


def gate_abandon(ticket: Ticket) -> None:
    if ticket.hold is not None:
        credits_release(hold=ticket.hold)


def charges_credits(action_type: str, *, reference: Callable, access: AccessPolicy):
    """Wrap a view method: reserve, run, capture on 2xx or release on anything else.

    `reference(request, **kwargs)` names the resource (and validates it: raise to refuse with 4xx
    before anything is reserved).
    """

    def decorate(method):
        @functools.wraps(method)
        def wrapper(view, request, *args, **kwargs):
            resource = reference(request, **kwargs)
            user_id = request.user.pk
            ticket = gate_reserve(
                user_id=user_id,
                action_type=action_type,
                reference=resource,
                access=access,
                idempotency_key=request.headers.get("Idempotency-Key") or None,
            )
            try:
                response = method(view, request, *args, **kwargs)
            except BaseException:
                gate_abandon(ticket)
                raise
            if not 200 <= response.status_code < 300:
                gate_abandon(ticket)
                return response
            try:
                settlement = gate_settle(
                    user_id=user_id, action_type=action_type, reference=resource, access=access, ticket=ticket
                )
            except BaseException:
                gate_abandon(ticket)
                raise
            response[CHARGED_HEADER] = str(settlement.charged)
            response[REMAINING_HEADER] = str(settlement.balance)
            return response

        wrapper.credit_action = action_type
        return wrapper

    return decorate


class HasCreditsFor(BasePermission):
    """Asks, never charges: a wallet that exists, is active and can pay (or has paid) for the view's
    `credit_action` on the resource `view.credit_reference(request, **kwargs)` names."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        from .selectors import can_perform  # selectors import services, which import this module's peers

        resource = view.credit_reference(request, **view.kwargs)
        wallet = wallet_refresh(user_id=request.user.pk)
        paid = view.credit_access.is_current(wallet_id=wallet.pk, action_type=view.credit_action, reference=resource)
        decision = can_perform(user_id=wallet.pk, action_type=view.credit_action, already_paid=paid, wallet=wallet)
        if wallet.is_locked:
            raise WalletLocked()
        if decision.reason == "insufficient_credits":
            raise InsufficientCredits(required=decision.credits_required, available=decision.current_balance)
        return True
