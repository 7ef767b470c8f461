"""The only code that talks to Stripe's API. Called outside any transaction (no lock held).

It answers with our own values (`CheckoutSession`, `WebhookEvent`), never Stripe's objects, so
the rest of payments does not depend on the SDK's types."""

import re
import time
from dataclasses import dataclass

import stripe
from django.conf import settings

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
    return WebhookEvent(
        id=event["id"], type=event.get("type", ""), object=event["data"].get("object") or {}, payload=event
    )
