"""The only code that talks to Stripe's API. Called outside any transaction (no lock held).

It answers with our own values (`CheckoutSession`, `WebhookEvent`), never Stripe's objects, so
the rest of payments does not depend on the SDK's types."""

import json
from dataclasses import dataclass

import stripe
from django.conf import settings

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


def _client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise PaymentsNotConfigured()
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE})


def ensure_configured() -> None:
    """PaymentsNotConfigured (503) unless a secret key is set."""
    _client()


def create_checkout_session(*, top_up, customer_email: str = "") -> CheckoutSession:
    params = {
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
        "client_reference_id": str(top_up.pk),
        "metadata": {"top_up_id": str(top_up.pk), "user_id": str(top_up.wallet_id)},
        "success_url": settings.CHECKOUT_SUCCESS_URL,
        "cancel_url": settings.CHECKOUT_CANCEL_URL,
    }
    if customer_email:
        params["customer_email"] = customer_email
    try:
        session = _client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": f"top-up-{top_up.pk}"}
        )
    except stripe.StripeError as error:
        raise PaymentProviderFailed() from error
    return CheckoutSession(id=session.id, url=session.url or "")


def verify_event(payload: bytes, signature: str) -> WebhookEvent:
    """The event, if and only if Stripe signed it with our webhook secret."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise PaymentsNotConfigured()
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, settings.STRIPE_WEBHOOK_SECRET)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError):
        raise InvalidSignature() from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("data"), dict):
        raise InvalidSignature("The webhook body is not a Stripe event.")
    return WebhookEvent(
        id=event["id"], type=event.get("type", ""), object=event["data"].get("object") or {}, payload=event
    )
