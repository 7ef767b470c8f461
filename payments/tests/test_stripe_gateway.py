"""The gateway answers with our own values, never the SDK's objects."""

from types import SimpleNamespace
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


def _check_against(params: dict, typed, where: str = "") -> list[str]:
    """Our parameters against the SDK's TypedDict for them: every key is one Stripe knows, the
    required ones are there, a Literal's value is one it allows, nested dicts checked likewise."""
    import typing

    problems = [f"{where}{key} is missing" for key in typed.__required_keys__ if key not in params]
    for key, value in params.items():
        if key not in typed.__annotations__:
            problems.append(f"{where}{key} is not a parameter Stripe knows")
            continue
        annotation = typed.__annotations__[key]
        text = repr(annotation)
        for arg in typing.get_args(annotation):
            if isinstance(arg, typing.ForwardRef):
                text = arg.__forward_arg__
        if "Literal[" in text and isinstance(value, str) and f"'{value}'" not in text:
            problems.append(f"{where}{key}={value!r} is not one of {text}")
        nested = [a for a in typing.get_args(annotation) if isinstance(a, type) and hasattr(a, "__required_keys__")]
        if isinstance(value, dict) and nested:
            problems += _check_against(value, nested[0], f"{where}{key}.")
    return problems


def test_the_parameters_we_send_are_the_sdks_typed_parameters(settings):
    from stripe.params import PaymentIntentCreateParams
    from stripe.params.checkout import SessionCreateParams

    from payments import stripe_gateway

    payment = stripe_gateway.recharge_payment_params(recharge_id=1, wallet_id=2, customer_id="cus_1",
                                                     payment_method_id="pm_1", amount_cents=500, currency="usd",
                                                     credits=50)
    assert _check_against(payment, PaymentIntentCreateParams) == []
    setup = stripe_gateway.setup_session_params(customer_id="cus_1", wallet_id=2)
    assert _check_against(setup, SessionCreateParams) == []
    top_up = SimpleNamespace(pk=3, wallet_id=2, credits=600, amount_cents=5400, currency="usd")
    assert _check_against(stripe_gateway.checkout_session_params(top_up=top_up, customer_id="cus_1"),
                          SessionCreateParams) == []
    # The check itself can fail.
    problems = _check_against({**setup, "mode": "subscribe", "custmer": "x"}, SessionCreateParams)
    assert [p.split(" ")[0] for p in problems] == ["mode='subscribe'", "custmer"]
