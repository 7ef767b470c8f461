"""The subscription API's answers and refusals, the Idempotency-Key on its POSTs, an upgrade whose
payment fails, a subscription deleted for want of payment, and the staff's view of subscriptions."""

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
import time_machine

from common.periods import next_period, period_of, period_start
from payments.models import StripeCustomer, Subscription
from testing.clients import client_for
from wallets.models import Grant, Wallet

from . import billing_objects as billing

pytestmark = pytest.mark.django_db

SUB = "/api/v1/api/credits/subscription"
NOW = datetime(2027, 5, 10, 12, 0, tzinfo=dt_timezone.utc)


def subscribed(user, plans, anon, package="Business", sub_id="sub_api"):
    """A user subscribed through Checkout (linked and its first invoice paid)."""
    june = period_start(next_period(period_of(NOW)))
    for stripe_event in (
        billing.event("checkout.session.completed", billing.subscription_checkout(
            f"cs_{sub_id}", sub_id=sub_id, customer="cus_api", user_id=user.pk, package_id=plans[package].pk)),
        billing.event("invoice.paid", billing.invoice(
            f"in_{sub_id}", sub_id=sub_id, customer="cus_api", billing_reason="subscription_create",
            lines=[(NOW, june, plans[package].stripe_price_id, False)])),
    ):
        assert billing.deliver(anon, stripe_event).status_code == 200
    return Subscription.objects.get(stripe_subscription_id=sub_id)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_without_a_subscription_the_wallets_own_package_and_none(clock, user, plans, api):
    body = api.get(SUB).json()
    assert body == {"package": {"id": plans["Free"].pk, "name": "Free", "monthly_credits": 50, "price_cents": 0,
                                "currency": "usd"},
                    "status": "none", "current_period_start": None, "current_period_end": None,
                    "cancel_at_period_end": False, "pending_package": None, "upgrade_pending": None,
                    "payment_url": None, "wallet_status": "active"}


@pytest.mark.parametrize("package", ["missing", "Free", "Professional"])
def test_only_a_paid_package_with_a_stripe_price_is_for_sale(clock, user, plans, api, stripe_api, package):
    package_id = 999_999 if package == "missing" else plans[package].pk  # Professional has no Stripe Price here
    response = api.post(f"{SUB}/checkout", {"package": package_id}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_package"
    assert stripe_api.calls == []


@pytest.mark.parametrize("body", [{}, {"package": "four"}, {"package": 0}, {"package": 4, "extra": 1}, []])
def test_a_malformed_body_is_a_400(clock, user, plans, api, stripe_api, body):
    response = api.post(f"{SUB}/checkout", body, format="json")
    assert response.status_code == 400 and response.json()["code"] in ("invalid", "validation_error")


def test_payments_off_is_a_503_and_nothing_recorded(clock, user, plans, api, settings):
    settings.STRIPE_SECRET_KEY = ""
    response = api.post(f"{SUB}/checkout", {"package": plans["Business"].pk}, format="json")
    assert response.status_code == 503 and response.json()["code"] == "payments_not_configured"


def test_checkout_honours_the_idempotency_key(clock, user, plans, api, stripe_api):
    first = api.post(f"{SUB}/checkout", {"package": plans["Business"].pk}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = api.post(f"{SUB}/checkout", {"package": plans["Business"].pk}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert len([c for c in stripe_api.calls if c[0] == "/v1/checkout/sessions"]) == 1
    other = api.post(f"{SUB}/checkout", {"package": plans["Enterprise"].pk}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"


def test_a_subscriber_cannot_subscribe_twice(clock, user, plans, api, anon, stripe_api):
    subscribed(user, plans, anon)
    response = api.post(f"{SUB}/checkout", {"package": plans["Enterprise"].pk}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "already_subscribed"


@pytest.mark.parametrize("verb", ["change", "cancel", "resume", "portal"])
def test_without_a_subscription_changes_are_refused(clock, user, plans, api, stripe_api, verb):
    response = api.post(f"{SUB}/{verb}", {"package": plans["Business"].pk} if verb == "change" else {}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "subscription_required"
    assert stripe_api.calls == []


def test_same_package_and_an_upgrade_in_flight_are_conflicts(clock, user, plans, api, anon, stripe_api):
    sub = subscribed(user, plans, anon)
    stripe_api.subscriptions[sub.stripe_subscription_id] = billing.subscription(
        sub.stripe_subscription_id, customer="cus_api", price_id="price_business", start=NOW,
        end=period_start(next_period(period_of(NOW))))
    same = api.post(f"{SUB}/change", {"package": plans["Business"].pk}, format="json")
    assert same.status_code == 409 and same.json()["code"] == "same_package"
    assert api.post(f"{SUB}/change", {"package": plans["Enterprise"].pk}, format="json").status_code == 200
    busy = api.post(f"{SUB}/change", {"package": plans["Starter"].pk}, format="json")
    assert busy.status_code == 409 and busy.json()["code"] == "change_in_progress"


def test_an_upgrade_whose_payment_fails_does_not_apply(clock, user, plans, api, anon, stripe_api):
    sub = subscribed(user, plans, anon)
    june = period_start(next_period(period_of(NOW)))
    stripe_api.subscriptions[sub.stripe_subscription_id] = billing.subscription(
        sub.stripe_subscription_id, customer="cus_api", price_id="price_business", start=NOW, end=june)
    before = Wallet.objects.get(pk=user.pk).current_balance
    assert api.post(f"{SUB}/change", {"package": plans["Enterprise"].pk}, format="json").json()["upgrade_pending"]
    failed = billing.invoice("in_up", sub_id=sub.stripe_subscription_id, customer="cus_api",
                             billing_reason="subscription_update", status="open",
                             lines=[(NOW, june, "price_enterprise", True)])
    assert billing.deliver(anon, billing.event("invoice.payment_failed", failed)).status_code == 200
    body = api.get(SUB).json()
    assert body["status"] == "active" and body["upgrade_pending"] is None and body["package"]["name"] == "Business"
    wallet = Wallet.objects.get(pk=user.pk)
    assert wallet.current_balance == before and wallet.package_id == plans["Business"].pk


def test_a_downgrade_can_be_taken_back(clock, user, plans, api, anon, stripe_api):
    sub = subscribed(user, plans, anon)
    stripe_api.subscriptions[sub.stripe_subscription_id] = billing.subscription(
        sub.stripe_subscription_id, customer="cus_api", price_id="price_business", start=NOW,
        end=period_start(next_period(period_of(NOW))))
    assert api.post(f"{SUB}/change", {"package": plans["Starter"].pk}, format="json").json()["pending_package"]
    body = api.post(f"{SUB}/change", {"package": plans["Business"].pk}, format="json").json()
    assert body["pending_package"] is None and body["package"]["name"] == "Business"
    _, form, _ = stripe_api.calls[-1]
    assert form["items[0][price]"] == "price_business" and form["proration_behavior"] == "none"


def test_deleted_for_want_of_payment_locks_and_a_late_payment_unlocks_back_to_free(clock, user, plans, api, anon,
                                                                                  stripe_api):
    sub = subscribed(user, plans, anon)
    june = period_start(next_period(period_of(NOW)))
    clock.move_to(june + timedelta(days=20))
    invoice = billing.invoice("in_june", sub_id=sub.stripe_subscription_id, customer="cus_api",
                              billing_reason="subscription_cycle", status="open",
                              lines=[(june, period_start(next_period(period_of(june))), "price_business", False)])
    assert billing.deliver(anon, billing.event("invoice.payment_failed", invoice)).status_code == 200
    assert billing.deliver(anon, billing.event("customer.subscription.deleted", billing.subscription(
        sub.stripe_subscription_id, customer="cus_api", price_id="price_business", status="canceled", start=june,
        end=period_start(next_period(period_of(june))), reason="payment_failed"))).status_code == 200
    assert Wallet.objects.get(pk=user.pk).status == "locked"
    assert client_for(user).get(SUB).json()["wallet_status"] == "locked"
    assert billing.deliver(anon, billing.event("invoice.paid", {**invoice, "status": "paid"})).status_code == 200
    wallet = Wallet.objects.get(pk=user.pk)
    assert wallet.status == "active" and wallet.package_id == plans["Free"].pk and wallet.paid_through is None
    assert Grant.objects.filter(wallet_id=user.pk, idempotency_key=f"monthly:{june:%Y-%m}", amount=500).count() == 1


def test_the_portal_link_comes_from_stripe(clock, user, plans, api, anon, stripe_api):
    subscribed(user, plans, anon)
    StripeCustomer.objects.create(wallet_id=user.pk, customer_id="cus_api")
    response = api.post(f"{SUB}/portal", format="json")
    assert response.status_code == 201 and response.json()["url"] == "https://billing.stripe.test/session/cus_api"


def test_staff_see_subscriptions_with_status_and_period(clock, user, plans, anon, stripe_api, make_user, client):
    subscribed(user, plans, anon)
    client.force_login(make_user(is_staff=True))
    page = client.get("/admin/payments/subscription/")
    body = page.content.decode()
    assert page.status_code == 200 and "sub_api" in body and "Business" in body and "Active" in body
    assert "June 1, 2027" in body or "2027-06-01" in body
