"""The gateway answers with our own values, never the SDK's objects."""

import pytest

from payments import stripe_gateway
from payments.exceptions import InvalidSignature
from payments.models import TopUp

from .fake_stripe import WEBHOOK_SECRET, FakeStripe, session_event, signed


@pytest.mark.django_db
def test_a_checkout_session_is_our_dataclass(settings, user):
    top_up = TopUp.objects.create(wallet_id=user.pk, credits=100, amount_cents=1000)
    with FakeStripe() as server:
        settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE = "sk_test_123", server.url
        session = stripe_gateway.create_checkout_session(top_up=top_up)
    assert type(session) is stripe_gateway.CheckoutSession
    assert session.id.startswith("cs_test_") and session.url.startswith("https://checkout.stripe.test/pay/")


def test_a_verified_event_is_our_dataclass(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    event = session_event("evt_1", "checkout.session.completed", "cs_test_1", top_up_id=7)
    payload, signature = signed(event)
    verified = stripe_gateway.verify_event(payload, signature)
    assert type(verified) is stripe_gateway.WebhookEvent
    assert (verified.id, verified.type) == (event["id"], "checkout.session.completed")
    assert verified.object == event["data"]["object"] and verified.payload == event
    with pytest.raises(InvalidSignature):
        stripe_gateway.verify_event(payload, signed(event, "whsec_other")[1])
