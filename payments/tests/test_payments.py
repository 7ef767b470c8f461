"""Stripe top-ups against a local fake Stripe server and webhooks signed with the test secret."""

import threading

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from payments.models import PaymentEvent, TopUp
from testing.clients import client_for
from testing.endpoints import statements
from testing.sequences import use
from transactions.models import LedgerEntry
from wallets.models import Wallet
from wallets.verification import ledger_problems

from .fake_stripe import WEBHOOK_SECRET, FakeStripe, refund_event, session_event, signed

CHECKOUT = "/api/v1/api/credits/top-up/checkout"
WEBHOOK = "/api/v1/payments/stripe/webhook"


@pytest.fixture
def stripe_server(settings):
    with FakeStripe() as server:
        settings.STRIPE_SECRET_KEY = "sk_test_123"
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_API_BASE = server.url
        yield server


def deliver(client, event, secret=WEBHOOK_SECRET):
    payload, signature = signed(event, secret)
    return client.post(WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


def purchased(user) -> int:
    return Wallet.objects.get(pk=user.pk).purchased_balance


@pytest.mark.django_db
class TestCheckout:
    def test_without_keys_is_503_and_records_nothing(self, api, settings):
        settings.STRIPE_SECRET_KEY = ""
        response = api.post(CHECKOUT, {"credits": 100}, format="json")
        assert response.status_code == 503
        assert response.json() == {"detail": "Payments are not configured on this server.", "code": "payments_not_configured"}
        assert not TopUp.objects.exists()

    def test_creates_a_pending_top_up_and_a_session(self, api, user, stripe_server):
        response = api.post(CHECKOUT, {"credits": 600}, format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["checkout_url"].startswith("https://checkout.stripe.test/pay/cs_test_")
        assert (body["credits"], body["amount_cents"], body["currency"], body["status"]) == (600, 5400, "usd", "pending")
        [(_, customer, _)] = [call for call in stripe_server.calls if call[0] == "/v1/customers"]
        [(path, form, headers)] = [call for call in stripe_server.calls if call[0] == "/v1/checkout/sessions"]
        assert customer["metadata[user_id]"] == str(user.pk)
        assert (form["customer"], form["payment_intent_data[setup_future_usage]"]) == (f"cus_test_{user.pk}", "off_session")
        assert form["line_items[0][price_data][unit_amount]"] == "5400"
        assert form["metadata[top_up_id]"] == str(body["top_up_id"])
        assert headers["Authorization"] == "Bearer sk_test_123"
        assert headers["Idempotency-Key"] == f"top-up-{body['top_up_id']}"
        assert TopUp.objects.get().provider_reference == body["session_id"]
        history = api.get("/api/v1/api/credits/top-up/history").json()
        assert [t["status"] for t in history["results"]] == ["pending"]

    @pytest.mark.parametrize("body", [{"credits": 5}, {"credits": 10**6}, {"credits": "x"}, {"credits": 100, "price": 1}])
    def test_bad_amounts(self, api, stripe_server, body):
        assert api.post(CHECKOUT, body, format="json").status_code == 400
        assert stripe_server.calls == [] and not TopUp.objects.exists()

    def test_provider_failure_is_502_and_marks_it_failed(self, api, stripe_server):
        from .fake_stripe import StripeHandler

        StripeHandler.fail = True
        response = api.post(CHECKOUT, {"credits": 100}, format="json")
        assert response.status_code == 502 and response.json()["code"] == "payment_provider_error"
        assert TopUp.objects.get().status == "failed"
        assert purchased(TopUp.objects.get().wallet.user) == 0


@pytest.fixture
def pending(api, user, stripe_server):
    body = api.post(CHECKOUT, {"credits": 100}, format="json").json()
    return TopUp.objects.get(pk=body["top_up_id"])


@pytest.mark.django_db
class TestWebhook:
    def test_completed_credits_once_even_when_delivered_again(self, anon, user, pending):
        event = session_event("evt_1", "checkout.session.completed", pending.provider_reference, pending.pk)
        assert deliver(anon, event).status_code == 200
        assert deliver(anon, event).status_code == 200
        # a second, different event for the same session (Stripe may send both) changes nothing either
        assert deliver(anon, {**event, "id": "evt_1b"}).status_code == 200
        pending.refresh_from_db()
        assert pending.status == "completed" and pending.ledger_entry.amount == 100
        assert purchased(user) == 100
        assert LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="top_up").count() == 1
        assert PaymentEvent.objects.count() == 2
        history = client_for(user).get("/api/v1/api/credits/top-up/history").json()
        assert history["results"][0]["status"] == "completed"

    def test_bad_signature_is_400_and_credits_nothing(self, anon, user, pending):
        event = session_event("evt_2", "checkout.session.completed", pending.provider_reference, pending.pk)
        response = deliver(anon, event, secret="whsec_wrong")
        assert response.status_code == 400 and response.json()["code"] == "invalid_signature"
        payload, _ = signed(event)
        assert anon.post(WEBHOOK, payload, content_type="application/json").status_code == 400
        assert purchased(user) == 0 and not PaymentEvent.objects.exists()

    def test_expired_marks_failed_and_a_late_completion_still_credits(self, anon, user, pending):
        deliver(anon, session_event("evt_3", "checkout.session.expired", pending.provider_reference, pending.pk))
        pending.refresh_from_db()
        assert pending.status == "failed" and purchased(user) == 0

    def test_unpaid_completion_waits(self, anon, user, pending):
        deliver(anon, session_event("evt_4", "checkout.session.completed", pending.provider_reference, pending.pk, paid=False))
        assert purchased(user) == 0
        deliver(anon, session_event("evt_5", "checkout.session.async_payment_succeeded", pending.provider_reference, pending.pk))
        assert purchased(user) == 100

    def test_refund_after_partial_spend_takes_back_what_is_left(self, anon, user, pending):
        deliver(anon, session_event("evt_6", "checkout.session.completed", pending.provider_reference, pending.pk, "pi_77"))
        # 150 credits: 50 monthly + 100 purchased; spend 120 -> 30 purchased left
        for name in ("a", "b", "c", "d", "e", "f"):
            use(user, "ai_insights", name)
        assert purchased(user) == 30
        assert deliver(anon, refund_event("evt_7", "pi_77", 1000)).status_code == 200
        assert deliver(anon, refund_event("evt_7", "pi_77", 1000)).status_code == 200
        pending.refresh_from_db()
        assert (pending.status, pending.refunded_credits, pending.unrecovered_credits) == ("refunded", 30, 70)
        refund = LedgerEntry.objects.get(wallet_id=user.pk, transaction_type="refund")
        assert (refund.delta, refund.balance_after) == (-30, 0)
        assert ledger_problems() == []

    def test_partial_refund(self, anon, user, pending):
        deliver(anon, session_event("evt_8", "checkout.session.completed", pending.provider_reference, pending.pk, "pi_8"))
        deliver(anon, refund_event("evt_9", "pi_8", 250))  # a quarter of $10
        pending.refresh_from_db()
        assert (pending.status, pending.refunded_credits, purchased(user)) == ("completed", 25, 75)

    def test_refund_before_completion_is_retried_later(self, anon, user, pending):
        early = refund_event("evt_10", "pi_10", 1000)
        response = deliver(anon, early)
        assert response.status_code == 409 and response.json()["code"] == "event_out_of_order"
        assert PaymentEvent.objects.get(event_id="evt_10").processed_at is None
        deliver(anon, session_event("evt_11", "checkout.session.completed", pending.provider_reference, pending.pk, "pi_10"))
        assert deliver(anon, early).status_code == 200
        assert purchased(user) == 0
        pending.refresh_from_db()
        assert pending.status == "refunded"

    def test_unknown_event_types_are_recorded(self, anon, stripe_server):
        assert deliver(anon, {"id": "evt_x", "type": "customer.created", "data": {"object": {}}}).status_code == 200
        assert PaymentEvent.objects.get().processed_at is not None


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_credit_once(make_user, stripe_server, live_server):
    import httpx

    user = make_user()
    body = client_for(user).post(CHECKOUT, {"credits": 100}, format="json").json()
    event = session_event("evt_c", "checkout.session.completed", body["session_id"], body["top_up_id"])
    barrier = threading.Barrier(8)
    statuses = []

    def post():
        payload, signature = signed(event)
        barrier.wait(timeout=30)
        statuses.append(httpx.post(live_server.url + WEBHOOK, content=payload,
                                   headers={"Stripe-Signature": signature, "Content-Type": "application/json"}).status_code)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * 8
    assert LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="top_up").aggregate(s=Sum("amount"))["s"] == 100
    assert Wallet.objects.get(pk=user.pk).purchased_balance == 100
    assert ledger_problems() == []
    connection.close()


@pytest.mark.django_db
def test_checkout_and_webhook_query_budgets(api, anon, user, stripe_server):
    """Pinned like every other endpoint's (testing/endpoints.py)."""
    with CaptureQueriesContext(connection) as checkout:
        body = api.post(CHECKOUT, {"credits": 100}, format="json").json()
    event = session_event("evt_budget", "checkout.session.completed", body["session_id"], body["top_up_id"])
    with CaptureQueriesContext(connection) as webhook:
        assert deliver(anon, event).status_code == 200
    assert purchased(user) == 100
    # user, tiers, top-up insert, the wallet's Stripe customer (read; recorded the first time),
    # provider reference update
    assert len(statements(checkout)) <= 6
    # event insert and re-read, top-up lock, wallet lock, idempotency-key check, purchase grant,
    # wallet, ledger row (with its allocation), the top_up.completed outbox row, top-up completed,
    # event processed
    assert len(statements(webhook)) <= 11
