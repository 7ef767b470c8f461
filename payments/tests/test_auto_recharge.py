"""Auto-recharge end to end against a local fake Stripe: the card saved, the settings API, one
off-session PaymentIntent per recharge (its idempotency key the recharge's id), credits only from
`payment_intent.succeeded` and exactly once, failures that turn it off, and the reconciliation of
recharges a killed worker or a lost webhook left in flight."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from outbox.models import OutboxEvent
from payments.models import StripeCustomer
from payments.recharges import recharges_reconcile
from testing.clients import client_for
from testing.factories import PricingRuleFactory
from transactions.models import LedgerEntry
from wallets import services
from wallets.models import Recharge, RechargeState, Wallet
from wallets.verification import ledger_problems

from .fake_stripe import WEBHOOK_SECRET, FakeStripe, StripeHandler, signed, stripe_object

pytestmark = pytest.mark.django_db

AUTO = "/api/v1/api/credits/auto-recharge"
WEBHOOK = "/api/v1/payments/stripe/webhook"


@pytest.fixture
def stripe(settings):
    with FakeStripe() as server:
        settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = "sk_test_123", WEBHOOK_SECRET
        settings.STRIPE_API_BASE = server.url
        yield server


def deliver(client, event: dict):
    body, signature = signed(event)
    return client.post(WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


def event_of(kind: str, obj: dict, event_id: str | None = None) -> dict:
    return stripe_object("event", id=event_id or f"evt_{uuid.uuid4().hex}", type=kind, data={"object": obj})


def save_card(user, anon) -> None:
    """What the setup Checkout leads to: Stripe attaches the card to the customer and says so."""
    customer = StripeCustomer.objects.get(wallet_id=user.pk)
    method = stripe_object("payment_method", id="pm_card_visa", customer=customer.customer_id)
    method["card"] = {**method["card"], "brand": "visa", "last4": "4242"}
    assert deliver(anon, event_of("payment_method.attached", method)).status_code == 200


@pytest.fixture
def armed(make_user, stripe, anon):
    """A user with a saved card and auto-recharge on: below 100, buy 500, at most 1,000 a month."""
    PricingRuleFactory(action_type="test_action", credits_per_action=20)
    user = make_user(balance=120)
    api = client_for(user)
    assert api.post(f"{AUTO}/setup", {}, format="json").status_code == 201
    save_card(user, anon)
    response = api.put(AUTO, {"enabled": True, "threshold": 100, "credits": 500, "monthly_limit": 1000}, format="json")
    assert response.status_code == 200, response.json()
    return user


def charge(user, captured):
    with captured(execute=True):  # the recharge's task is queued on commit
        hold = services.purchase_reserve(user_id=user.pk, action_type="test_action", reference=uuid.uuid4().hex,
                                         price=20).hold
        return services.purchase_capture(hold=hold)


def dispatch_now() -> None:
    """The worker's fan-out after the commit: in-app notifications and emails (deliveries need none here)."""
    from notifications.fanout import events_dispatch

    events_dispatch()


def intents(stripe):
    return [(path, form, headers) for path, form, headers in stripe.calls if path == "/v1/payment_intents"]


def test_the_settings_api_needs_a_saved_card_to_turn_it_on(make_user, stripe, anon):
    user = make_user(balance=50)
    api = client_for(user)
    body = api.get(AUTO).json()
    assert (body["enabled"], body["payment_method"], body["status"], body["last_failure"]) == (False, None, "ok", None)
    refused = api.put(AUTO, {"enabled": True, "threshold": 10, "credits": 100, "monthly_limit": 500}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "payment_method_required")
    setup = api.post(f"{AUTO}/setup", {}, format="json").json()
    assert setup["checkout_url"].startswith("https://checkout.stripe.test/setup/")
    [(_, form, _)] = [c for c in stripe.calls if c[0] == "/v1/checkout/sessions"]
    assert (form["mode"], form["customer"]) == ("setup", f"cus_test_{user.pk}")
    save_card(user, anon)
    body = api.put(AUTO, {"enabled": True, "threshold": 10, "target_balance": 300, "monthly_limit": 500},
                   format="json").json()
    assert (body["enabled"], body["target_balance"], body["credits"]) == (True, 300, None)
    assert body["payment_method"] == {"brand": "visa", "last4": "4242"}
    both = api.put(AUTO, {"enabled": True, "threshold": 10, "credits": 5, "target_balance": 300, "monthly_limit": 500},
                   format="json")
    assert both.status_code == 400


def test_a_crossing_asks_once_and_the_webhook_credits_once(armed, stripe, anon, django_capture_on_commit_callbacks):
    charge(armed, django_capture_on_commit_callbacks)  # 100: not below
    assert intents(stripe) == []
    charge(armed, django_capture_on_commit_callbacks)  # 80: crosses
    charge(armed, django_capture_on_commit_callbacks)  # 60: in flight already
    [(_, form, headers)] = intents(stripe)
    recharge = Recharge.objects.get()
    assert headers["Idempotency-Key"] == f"recharge-{recharge.pk}"
    assert (form["off_session"], form["confirm"], form["metadata[recharge_id]"]) == ("true", "true", str(recharge.pk))
    assert recharge.status == RechargeState.PROCESSING  # paid at Stripe, credited only by the webhook
    assert Wallet.objects.get(pk=armed.pk).current_balance == 60

    [intent] = stripe.intents.values()
    first = event_of("payment_intent.succeeded", intent, "evt_paid")
    assert deliver(anon, first).status_code == 200
    assert deliver(anon, first).status_code == 200  # delivered twice
    assert deliver(anon, event_of("payment_intent.succeeded", intent)).status_code == 200  # replayed as a new event
    recharge.refresh_from_db()
    assert recharge.status == RechargeState.SUCCEEDED
    assert Wallet.objects.get(pk=armed.pk).current_balance == 560
    [top_up] = LedgerEntry.objects.filter(wallet_id=armed.pk, idempotency_key=f"recharge:{recharge.pk}")
    assert top_up.delta == 500
    assert OutboxEvent.objects.filter(wallet_id=armed.pk, event_type="auto_recharge.succeeded").count() == 1
    assert client_for(armed).get(AUTO).json()["recharged_this_month"] == 500
    assert ledger_problems() == []


@pytest.mark.django_db(transaction=True)
def test_eight_deliveries_at_once_credit_once(armed, stripe, anon, django_capture_on_commit_callbacks):
    charge(armed, django_capture_on_commit_callbacks)
    charge(armed, django_capture_on_commit_callbacks)  # 80: crosses
    [intent] = stripe.intents.values()
    events = [event_of("payment_intent.succeeded", intent) for _ in range(8)]

    def send(event):
        try:
            return deliver(client_for(armed), event).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(send, events)) <= {200, 409}
    assert LedgerEntry.objects.filter(wallet_id=armed.pk, transaction_type="top_up", delta=500).count() == 1
    assert Wallet.objects.get(pk=armed.pk).current_balance == 580
    assert ledger_problems() == []


@pytest.mark.parametrize("outcome, reason", [("declined", "insufficient_funds"), ("requires_action", "requires_action")])
def test_a_decline_or_3d_secure_turns_it_off_and_says_so_once(armed, stripe, outcome, reason, mailoutbox,
                                                             django_capture_on_commit_callbacks):
    StripeHandler.intent_outcome = outcome
    charge(armed, django_capture_on_commit_callbacks)
    charge(armed, django_capture_on_commit_callbacks)  # crosses
    recharge = Recharge.objects.get()
    assert (recharge.status, recharge.failure) == (RechargeState.FAILED, reason)
    body = client_for(armed).get(AUTO).json()
    assert (body["enabled"], body["status"], body["last_failure"]) == (False, "disabled_after_failure", reason)
    [failed] = OutboxEvent.objects.filter(wallet_id=armed.pk, event_type="auto_recharge.failed")
    assert failed.data["reason"] == reason
    dispatch_now()  # what the worker does after the commit: in-app notification and email
    [email] = mail.outbox
    assert email.subject == "Auto-recharge failed" and reason in email.body and "/app/" in email.body
    charge(armed, django_capture_on_commit_callbacks)  # still below: nothing starts while it is off
    assert Recharge.objects.count() == 1 and len(intents(stripe)) == 1


def test_a_killed_worker_and_a_lost_webhook_are_reconciled_once(armed, stripe):
    # The worker died between the commit and its call to Stripe: the recharge is still pending.
    hold = services.purchase_reserve(user_id=armed.pk, action_type="test_action", reference="a", price=40).hold
    services.purchase_capture(hold=hold)  # 80: crosses (the task never ran: no on-commit here)
    recharge = Recharge.objects.get()
    assert recharge.status == RechargeState.PENDING and intents(stripe) == []
    later = timezone.now() + timedelta(minutes=10)
    assert recharges_reconcile(now=later) == 1  # asks Stripe now
    assert len(intents(stripe)) == 1
    recharge.refresh_from_db()
    assert recharge.status == RechargeState.PROCESSING and recharge.payment_intent
    # ... and its webhook never came: the next round asks Stripe and credits it.
    recharges_reconcile(now=later + timedelta(minutes=10))
    recharges_reconcile(now=later + timedelta(minutes=20))  # nothing left in flight
    recharge.refresh_from_db()
    assert recharge.status == RechargeState.SUCCEEDED
    assert len(intents(stripe)) == 1
    assert LedgerEntry.objects.filter(wallet_id=armed.pk, idempotency_key=f"recharge:{recharge.pk}").count() == 1
    assert Wallet.objects.get(pk=armed.pk).current_balance == 580


def test_a_worker_killed_after_asking_stripe_is_found_by_its_recharge(armed, stripe):
    """Claimed and paid at Stripe, but the worker died before noting the PaymentIntent: the
    reconciliation finds it by the recharge's id (or gets it again by its idempotency key)."""
    from payments import stripe_gateway

    hold = services.purchase_reserve(user_id=armed.pk, action_type="test_action", reference="a", price=40).hold
    services.purchase_capture(hold=hold)
    recharge = services.recharge_begin(recharge_id=Recharge.objects.get().pk)
    customer = StripeCustomer.objects.get(wallet_id=armed.pk)
    stripe_gateway.create_recharge_payment(recharge_id=recharge.pk, wallet_id=armed.pk, customer_id=customer.customer_id,
                                           payment_method_id=customer.payment_method_id, amount_cents=5000,
                                           currency="usd", credits=500)
    recharges_reconcile(now=timezone.now() + timedelta(minutes=10))
    recharge.refresh_from_db()
    assert recharge.status == RechargeState.SUCCEEDED and recharge.payment_intent == "pi_test_1"
    assert len(intents(stripe)) == 1  # never paid twice
    assert Wallet.objects.get(pk=armed.pk).current_balance == 580


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_charges_ask_stripe_once(make_user, stripe, anon):
    """Real threads, real commits: the recharge's task runs after the commit that started it."""
    import threading

    PricingRuleFactory(action_type="test_action", credits_per_action=20)
    user = make_user(balance=420)
    StripeCustomer.objects.create(wallet_id=user.pk, customer_id="cus_x", payment_method_id="pm_x",
                                  card_brand="visa", card_last4="4242")
    api = client_for(user)
    assert api.put(AUTO, {"enabled": True, "threshold": 100, "credits": 500, "monthly_limit": 1000},
                   format="json").status_code == 200
    barrier = threading.Barrier(20)

    def work(_):
        try:
            barrier.wait(timeout=30)
            hold = services.purchase_reserve(user_id=user.pk, action_type="test_action",
                                             reference=uuid.uuid4().hex, price=20).hold
            return services.purchase_capture(hold=hold).charged
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert list(pool.map(work, range(20))) == [20] * 20
    assert len(intents(stripe)) == 1  # one PaymentIntent at Stripe
    [recharge] = Recharge.objects.all()
    assert recharge.status == RechargeState.PROCESSING and recharge.payment_intent == "pi_test_1"


def test_one_recharge_that_cannot_be_paid_never_stops_the_others(armed, stripe, make_user):
    """A recharge outside the top-up range (settings saved before the range changed) fails on its
    own; the reconciliation goes on to the next one."""
    other = make_user(balance=10)
    StripeCustomer.objects.create(wallet_id=other.pk, customer_id="cus_other", payment_method_id="pm_other")
    long_ago = timezone.now() - timedelta(hours=1)
    wallet = Wallet.objects.get(pk=armed.pk)
    bad = Recharge.objects.create(wallet=wallet, credits=5, period=wallet.billing_cycle_start, updated_at=long_ago)
    good = Recharge.objects.create(wallet=Wallet.objects.get(pk=other.pk), credits=500,
                                   period=wallet.billing_cycle_start, updated_at=long_ago)
    assert recharges_reconcile() == 2
    bad.refresh_from_db()
    good.refresh_from_db()
    assert (bad.status, bad.failure) == (RechargeState.FAILED, "amount_out_of_range")
    assert good.status == RechargeState.PROCESSING and len(intents(stripe)) == 1
