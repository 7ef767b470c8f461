"""The only code that talks to Stripe's API. Called outside any transaction (no lock held).

It answers with our own values (`CheckoutSession`, `WebhookEvent`), never Stripe's objects, so
the rest of payments does not depend on the SDK's types."""

import re
import time
from dataclasses import dataclass

import stripe
from django.conf import settings
from stripe.params import CustomerCreateParams, PaymentIntentCreateParams, SubscriptionUpdateParams
from stripe.params.billing_portal import SessionCreateParams as PortalSessionCreateParams
from stripe.params.checkout import SessionCreateParams

from common.parsers import loads_bounded

from .exceptions import InvalidSignature, PaymentProviderFailed, PaymentsNotConfigured


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str  # where the buyer pays


@dataclass(frozen=True)
class WebhookEvent:
    """An event Stripe signed: its id and type, the object it is about, and the body as received."""

    id: str
    type: str
    object: dict
    payload: dict
    created: int | None = None  # when Stripe made the event (what orders two events about one object)


def _client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise PaymentsNotConfigured()
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE},
        http_client=stripe.new_default_http_client(timeout=settings.STRIPE_TIMEOUT_SECONDS),  # a deadline per call
    )


def ensure_configured() -> None:
    """PaymentsNotConfigured (503) unless a secret key is set."""
    _client()


def checkout_session_params(*, top_up, customer_id: str) -> SessionCreateParams:
    """A top-up's Checkout: paid by the wallet's customer, whose card is kept for payments made
    without them (auto-recharge; Checkout tells the cardholder so)."""
    return {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": top_up.currency,
                    "unit_amount": top_up.amount_cents,
                    "product_data": {"name": f"{top_up.credits} credits"},
                },
            }
        ],
        "customer": customer_id,
        "payment_intent_data": {"setup_future_usage": "off_session"},
        "client_reference_id": str(top_up.pk),
        "metadata": {"top_up_id": str(top_up.pk), "user_id": str(top_up.wallet_id)},
        "success_url": settings.CHECKOUT_SUCCESS_URL,
        "cancel_url": settings.CHECKOUT_CANCEL_URL,
    }


def create_checkout_session(*, top_up, customer_id: str) -> CheckoutSession:
    try:
        session = _client().v1.checkout.sessions.create(
            params=checkout_session_params(top_up=top_up, customer_id=customer_id),
            options={"idempotency_key": f"top-up-{top_up.pk}"},
        )
    except stripe.StripeError as error:
        raise PaymentProviderFailed() from error
    return CheckoutSession(id=session.id, url=session.url or "")


STALE_SIGNATURE = "The webhook signature is outside the {tolerance} s tolerance: a replay, refused."
_TIMESTAMP = re.compile(r"(?:^|,)\s*t=(\d{1,12})(?:,|$)")


def _check_age(signature: str) -> None:
    """Stripe signs the delivery time; one older (or newer) than the tolerance is a replay.
    Stripe's own check only looks at old signatures, so a future one is refused here too."""
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
    match = _TIMESTAMP.search(signature)
    if match is None or abs(time.time() - int(match.group(1))) > tolerance:
        raise InvalidSignature(STALE_SIGNATURE.format(tolerance=tolerance))


def verify_event(payload: bytes, signature: str) -> WebhookEvent:
    """The event, if and only if Stripe signed it with our webhook secret, recently."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise PaymentsNotConfigured()
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, settings.STRIPE_WEBHOOK_SECRET)
    except (stripe.SignatureVerificationError, ValueError):
        raise InvalidSignature() from None
    _check_age(signature)
    try:
        event = loads_bounded(payload)  # signed by Stripe, and still not trusted to be shallow
    except ValueError:
        raise InvalidSignature("The webhook body is not a Stripe event.") from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("data"), dict):
        raise InvalidSignature("The webhook body is not a Stripe event.")
    created = event.get("created")
    return WebhookEvent(
        id=event["id"], type=event.get("type", ""), object=event["data"].get("object") or {}, payload=event,
        created=created if isinstance(created, int) and not isinstance(created, bool) else None,
    )


# --- saved cards and payments without the cardholder (auto-recharge) ------------------------------


@dataclass(frozen=True)
class Payment:
    """A PaymentIntent as far as a recharge cares: its id and status, and why it failed."""

    id: str
    status: str  # succeeded, processing, requires_action, requires_payment_method, canceled, ...
    failure: str = ""


def create_customer(*, wallet_id: int, email: str = "") -> str:
    params: CustomerCreateParams = {"metadata": {"user_id": str(wallet_id)}}
    if email:
        params["email"] = email
    try:
        customer = _client().v1.customers.create(params=params, options={"idempotency_key": f"customer-{wallet_id}"})
    except stripe.StripeError as error:
        raise PaymentProviderFailed() from error
    return customer.id


def setup_session_params(*, customer_id: str, wallet_id: int) -> SessionCreateParams:
    return {
        "mode": "setup",
        "customer": customer_id,
        "currency": "usd",
        "metadata": {"user_id": str(wallet_id), "purpose": "auto_recharge"},
        "success_url": settings.CHECKOUT_SUCCESS_URL,
        "cancel_url": settings.CHECKOUT_CANCEL_URL,
    }


def create_setup_session(*, customer_id: str, wallet_id: int) -> CheckoutSession:
    """Checkout in `setup` mode: the cardholder saves a card for later payments made without them."""
    params = setup_session_params(customer_id=customer_id, wallet_id=wallet_id)
    try:
        session = _client().v1.checkout.sessions.create(params=params)
    except stripe.StripeError as error:
        raise PaymentProviderFailed() from error
    return CheckoutSession(id=session.id, url=session.url or "")


def _payment(intent) -> Payment:
    error = getattr(intent, "last_payment_error", None)
    return Payment(id=intent.id, status=intent.status or "",
                   failure=(getattr(error, "decline_code", None) or getattr(error, "code", None) or "") if error else "")


def recharge_payment_params(*, recharge_id: int, wallet_id: int, customer_id: str, payment_method_id: str,
                            amount_cents: int, currency: str, credits: int) -> PaymentIntentCreateParams:
    return {
        "amount": amount_cents,
        "currency": currency,
        "customer": customer_id,
        "payment_method": payment_method_id,
        "off_session": True,
        "confirm": True,
        "description": f"Auto-recharge of {credits} credits",
        "metadata": {"recharge_id": str(recharge_id), "user_id": str(wallet_id)},
    }


def create_recharge_payment(*, recharge_id: int, wallet_id: int, customer_id: str, payment_method_id: str,
                            amount_cents: int, currency: str, credits: int) -> Payment:
    """An off-session PaymentIntent, confirmed at once, its idempotency key the recharge's id: asked
    twice (a worker retried, the reconciliation), Stripe answers the same PaymentIntent."""
    params = recharge_payment_params(
        recharge_id=recharge_id, wallet_id=wallet_id, customer_id=customer_id, payment_method_id=payment_method_id,
        amount_cents=amount_cents, currency=currency, credits=credits,
    )
    try:
        intent = _client().v1.payment_intents.create(params=params, options={"idempotency_key": f"recharge-{recharge_id}"})
    except stripe.CardError as error:  # a decline, or the bank wants the cardholder (authentication_required)
        declined = getattr(error.error, "payment_intent", None) if error.error else None
        reason = (error.error.decline_code or error.error.code or "card_declined") if error.error else "card_declined"
        return Payment(id=getattr(declined, "id", "") or "", status="requires_payment_method", failure=reason)
    except stripe.StripeError as error:
        raise PaymentProviderFailed() from error
    return _payment(intent)


def retrieve_payment(payment_intent_id: str) -> Payment:
    try:
        return _payment(_client().v1.payment_intents.retrieve(payment_intent_id))
    except stripe.StripeError as error:
        raise PaymentProviderFailed() from error


def find_recharge_payment(recharge_id: int) -> Payment | None:
    """The PaymentIntent made for a recharge, if any (a worker that died before noting its id)."""
    try:
        found = _client().v1.payment_intents.search(params={"query": f"metadata['recharge_id']:'{int(recharge_id)}'"})
    except stripe.StripeError as error:
        raise PaymentProviderFailed() from error
    return _payment(found.data[0]) if found.data else None


# --- subscriptions (Stripe Billing) ------------------------------------------------------------------


def subscription_checkout_params(*, customer_id: str, wallet_id: int, package_id: int, price_id: str,
                                 anchor: int) -> SessionCreateParams:
    """A subscription's Checkout: billed monthly from `anchor` (the next 1st, 00:00 UTC), so every paid
    period is a credits cycle; the days until then are invoiced now, prorated."""
    metadata = {"user_id": str(wallet_id), "package_id": str(package_id), "purpose": "subscription"}
    return {
        "mode": "subscription",
        "customer": customer_id,
        "line_items": [{"price": price_id, "quantity": 1}],
        "subscription_data": {"billing_cycle_anchor": anchor, "proration_behavior": "create_prorations",
                              "metadata": metadata},
        "client_reference_id": str(wallet_id),
        "metadata": metadata,
        "success_url": settings.CHECKOUT_SUCCESS_URL,
        "cancel_url": settings.CHECKOUT_CANCEL_URL,
    }


def create_subscription_checkout(*, customer_id: str, wallet_id: int, package_id: int, price_id: str,
                                 anchor: int) -> CheckoutSession:
    params = subscription_checkout_params(customer_id=customer_id, wallet_id=wallet_id, package_id=package_id,
                                          price_id=price_id, anchor=anchor)
    try:
        session = _client().v1.checkout.sessions.create(params=params)
    except stripe.StripeError as error:
        raise PaymentProviderFailed() from error
    return CheckoutSession(id=session.id, url=session.url or "")


def subscription_item_id(subscription_id: str) -> str:
    """The id of the subscription's (one) item, whose price a plan change replaces."""
    try:
        subscription = _client().v1.subscriptions.retrieve(subscription_id)
    except stripe.StripeError as error:
        raise PaymentProviderFailed() from error
    return subscription["items"]["data"][0]["id"]


def price_change_params(*, item_id: str, price_id: str, upgrade: bool, at: int) -> SubscriptionUpdateParams:
    """An upgrade applies at once and is invoiced now for the rest of the period, and only if that
    invoice is paid (`pending_if_incomplete`); a downgrade bills the new price from the next period
    with nothing prorated (the current period keeps what it paid for and granted)."""
    if upgrade:
        return {"items": [{"id": item_id, "price": price_id}], "proration_behavior": "always_invoice",
                "proration_date": at, "payment_behavior": "pending_if_incomplete"}
    return {"items": [{"id": item_id, "price": price_id}], "proration_behavior": "none"}


def change_subscription_price(*, subscription_id: str, price_id: str, upgrade: bool, at: int) -> None:
    params = price_change_params(item_id=subscription_item_id(subscription_id), price_id=price_id, upgrade=upgrade,
                                 at=at)
    try:
        _client().v1.subscriptions.update(subscription_id, params=params)
    except stripe.StripeError as error:
        raise PaymentProviderFailed() from error


def cancel_at_period_end_params(cancel: bool) -> SubscriptionUpdateParams:
    return {"cancel_at_period_end": cancel}


def set_cancel_at_period_end(*, subscription_id: str, cancel: bool) -> None:
    """Cancel at the period's end (True), or take that back (False)."""
    try:
        _client().v1.subscriptions.update(subscription_id, params=cancel_at_period_end_params(cancel))
    except stripe.StripeError as error:
        raise PaymentProviderFailed() from error


def portal_session_params(*, customer_id: str) -> PortalSessionCreateParams:
    return {"customer": customer_id, "return_url": settings.CREDITS_APP_URL}


def create_portal_session(*, customer_id: str) -> str:
    """A link to Stripe's customer portal (invoices, the card, the plan) for the wallet's customer."""
    try:
        session = _client().v1.billing_portal.sessions.create(params=portal_session_params(customer_id=customer_id))
    except stripe.StripeError as error:
        raise PaymentProviderFailed() from error
    return session.url
