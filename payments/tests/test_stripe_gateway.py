"""The gateway answers with our own values, never the SDK's objects."""

from pathlib import Path

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
        session = stripe_gateway.create_checkout_session(top_up=top_up, customer_id="cus_1")
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


def _type_check(source: Path | None = None) -> tuple[str, int]:
    """mypy over the code that calls Stripe (mypy.ini), or over `source` checked the same way."""
    from mypy import api

    root = Path(__file__).resolve().parents[2]
    args = ["--config-file", str(root / "mypy.ini"), "--cache-dir", str(root / ".mypy_cache")]
    stdout, _, status = api.run([*args, str(source)] if source else args)
    return stdout, status


def test_every_call_to_stripe_type_checks_against_the_sdks_typed_params():
    """What `make test` runs before the suite, here too so a failure names the parameter."""
    output, status = _type_check()
    assert status == 0, output


def test_the_type_check_refuses_a_parameter_stripe_does_not_accept(tmp_path):
    wrong = tmp_path / "wrong_params.py"
    wrong.write_text("from stripe.params import SubscriptionUpdateParams\n"
                     "params: SubscriptionUpdateParams = {'proration_behavior': 'sometimes', 'cancel_at_end': True}\n")
    output, status = _type_check(wrong)
    assert status == 1 and "proration_behavior" in output and "cancel_at_end" in output, output


def test_the_subscription_checkout_bills_from_the_next_first(settings):
    settings.CHECKOUT_SUCCESS_URL, settings.CHECKOUT_CANCEL_URL = "https://a.test/ok", "https://a.test/no"
    params = stripe_gateway.subscription_checkout_params(customer_id="cus_1", wallet_id=2, package_id=3,
                                                         price_id="price_1", anchor=1893456000)
    assert params["mode"] == "subscription" and params["line_items"] == [{"price": "price_1", "quantity": 1}]
    assert params["subscription_data"]["billing_cycle_anchor"] == 1893456000
    assert params["metadata"] == {"user_id": "2", "package_id": "3", "purpose": "subscription"}
