"""The Stripe webhook distrusts its input: a signature older than the tolerance is a replay and is
refused; a body too deep or too big is refused before processing; an event whose processing fails
is still on record, with the error, and a redelivery applies it once."""

import hashlib
import hmac
import json
import time

import pytest

from payments import services
from payments.models import PaymentEvent, TopUp
from wallets.models import Wallet

from .fake_stripe import WEBHOOK_SECRET, session_event

pytestmark = pytest.mark.django_db
WEBHOOK = "/api/v1/payments/stripe/webhook"


def signed_at(payload: bytes, timestamp: int, secret: str = WEBHOOK_SECRET) -> str:
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


@pytest.fixture
def webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300


@pytest.fixture
def pending(user):
    return TopUp.objects.create(wallet_id=user.pk, credits=600, amount_cents=5400, currency="usd",
                                provider="stripe", provider_reference="cs_test_hard")


def post(client, payload: bytes, signature: str):
    return client.post(WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


def purchased(user) -> int:
    return Wallet.objects.get(pk=user.pk).purchased_balance


# Ten seconds either side of the 300 s tolerance: a signature made in the future ages while the request
# is handled, so a boundary a second away would depend on how busy the machine is.
@pytest.mark.parametrize("age, accepted", [(0, True), (290, True), (310, False), (600, False), (-310, False)])
def test_signatures_outside_the_tolerance_are_refused(anon, user, pending, webhook_secret, age, accepted):
    payload = json.dumps(session_event("evt_age", "checkout.session.completed", "cs_test_hard", pending.pk)).encode()
    response = post(anon, payload, signed_at(payload, int(time.time()) - age))
    if accepted:
        assert response.status_code == 200 and purchased(user) == 600
    else:
        assert response.status_code == 400 and response.json()["code"] == "invalid_signature"
        assert "tolerance" in response.json()["detail"]
        assert purchased(user) == 0 and not PaymentEvent.objects.exists()


def test_the_reported_replay_ten_minutes_later_is_refused(anon, user, pending, webhook_secret):
    payload = json.dumps(session_event("evt_replay", "checkout.session.completed", "cs_test_hard", pending.pk)).encode()
    signature = signed_at(payload, int(time.time()) - 600)
    assert post(anon, payload, signature).status_code == 400
    assert purchased(user) == 0


def test_a_signed_body_nested_too_deep_is_refused(anon, webhook_secret):
    payload = b'{"id": "evt_deep", "type": "x", "data": {"object": ' + b"[" * 5000 + b"]" * 5000 + b"}}"
    response = post(anon, payload, signed_at(payload, int(time.time())))
    assert response.status_code == 400 and response.json()["code"] == "invalid_signature"
    assert not PaymentEvent.objects.exists()


def test_a_failed_processing_is_kept_with_its_error_and_a_redelivery_applies_it(anon, user, pending, webhook_secret,
                                                                            monkeypatch):
    event = session_event("evt_fail", "checkout.session.completed", "cs_test_hard", pending.pk)
    payload = json.dumps(event).encode()

    def broken(session, created):
        raise KeyError("amount_total")

    monkeypatch.setitem(services.HANDLERS, "checkout.session.completed", broken)
    response = post(anon, payload, signed_at(payload, int(time.time())))
    assert response.status_code == 400 and response.json()["code"] == "event_rejected"
    record = PaymentEvent.objects.get(event_id="evt_fail")
    assert record.processed_at is None and "KeyError" in record.error and "amount_total" in record.error
    assert purchased(user) == 0

    monkeypatch.undo()
    assert post(anon, payload, signed_at(payload, int(time.time()))).status_code == 200
    record.refresh_from_db()
    assert record.processed_at is not None and record.error == ""
    assert purchased(user) == 600
