"""A wallet's whole life on a subscription, on a local fake Stripe with real signed webhooks and time
travel: subscribe on the 20th (the partial period), renew on the 1st (the reset adds nothing), a
failed renewal (past_due, still spending), ended unpaid (locked), paid again (unlocked, the period
granted once), an upgrade mid-month (the prorated difference, to the credit), a downgrade (on the
1st, nothing clawed back), cancel (Free from the next 1st). Ledger, grants and verify_ledger agree
at every step. Run from a December (into January) and from a leap February."""

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
import time_machine
from django.db.models import Sum

from common.periods import next_period, period_of, period_start
from instagram.tests.gate_fixtures import provider  # noqa: F401 - the scripted Instagram provider
from outbox.models import OutboxEvent
from testing.clients import client_for
from transactions.models import LedgerEntry
from wallets.exceptions import WALLET_LOCKED
from wallets.models import Grant, Wallet
from wallets.services import reset_period
from wallets.verification import ledger_problems

from . import billing_objects as billing

pytestmark = pytest.mark.django_db

SUB = "/api/v1/api/credits/subscription"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=dt_timezone.utc)


def month_seconds(moment: datetime) -> int:
    period = period_of(moment)
    return int((period_start(next_period(period)) - period_start(period)).total_seconds())


def agree(user) -> Wallet:
    """The ledger, the grants and the wallet's totals tell the same story; verify_ledger finds nothing."""
    wallet = Wallet.objects.get(pk=user.pk)
    ledger = LedgerEntry.objects.filter(wallet_id=user.pk).aggregate(total=Sum("delta"))["total"] or 0
    grants = Grant.objects.filter(wallet_id=user.pk).aggregate(total=Sum("remaining") + Sum("held"))["total"] or 0
    assert wallet.current_balance == ledger == grants
    assert ledger_problems(stale_holds=False) == []
    return wallet


def monthly_grants(user, period) -> list[int]:
    return list(Grant.objects.filter(wallet_id=user.pk, idempotency_key=f"monthly:{period:%Y-%m}")
                .values_list("amount", flat=True))


def events(user, kind: str) -> int:
    return OutboxEvent.objects.filter(wallet_id=user.pk, event_type=kind).count()


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


@pytest.mark.parametrize("start", [utc(2026, 12, 20, 10, 0), utc(2028, 2, 20, 10, 0)], ids=["dec-jan", "leap-feb"])
def test_a_wallet_through_a_subscriptions_whole_life(make_user, stripe_api, plans, provider, anon, start):  # noqa: F811
    business, enterprise, free = plans["Business"], plans["Enterprise"], plans["Free"]
    sub_id, customer = "sub_life", None
    month1 = period_of(start)
    month2, month3, month4, month5 = (next_period(month1), next_period(next_period(month1)),
                                      next_period(next_period(next_period(month1))),
                                      next_period(next_period(next_period(next_period(month1)))))

    with time_machine.travel(start, tick=False) as clock:
        user = make_user()
        assert agree(user).current_balance == free.monthly_credits

        # Subscribe on the 20th: Checkout in subscription mode, billed from the 1st.
        url = ok(client_for(user).post(f"{SUB}/checkout", {"package": business.pk}, format="json"), 201)["url"]
        assert url.startswith("https://checkout.stripe.test/subscribe/")
        _, form, _ = [c for c in stripe_api.calls if c[0] == "/v1/checkout/sessions"][-1]
        assert form["mode"] == "subscription" and form["line_items[0][price]"] == "price_business"
        assert int(form["subscription_data[billing_cycle_anchor]"]) == billing.ts(period_start(month2))
        customer = form["customer"]

        first = billing.invoice("in_first", sub_id=sub_id, customer=customer, billing_reason="subscription_create",
                                lines=[(start, period_start(month2), "price_business", False)])
        paid_first = billing.event("invoice.paid", first)
        # The invoice can arrive before the Checkout that links it: refused, retried, then applied.
        refused = billing.deliver(anon, paid_first)
        assert refused.status_code == 409 and refused.json()["code"] == "event_out_of_order"
        ok(billing.deliver(anon, billing.event("checkout.session.completed", billing.subscription_checkout(
            "cs_life", sub_id=sub_id, customer=customer, user_id=user.pk, package_id=business.pk))))
        ok(billing.deliver(anon, paid_first))
        ok(billing.deliver(anon, paid_first))  # a redelivery changes nothing
        partial = business.monthly_credits * int((period_start(month2) - start).total_seconds()) // month_seconds(start)
        assert 0 < partial < business.monthly_credits
        wallet = agree(user)
        assert wallet.current_balance == free.monthly_credits + partial  # this month's Free grant stays
        assert wallet.package_id == business.pk
        state = ok(client_for(user).get(SUB))
        assert state["status"] == "active" and state["package"]["name"] == "Business"
        assert events(user, "subscription.activated") == 1

        # Renew on the 1st: the paid period grants the whole month once; the reset adds nothing.
        clock.move_to(period_start(month2) + timedelta(seconds=30))
        renewal = billing.invoice("in_renew", sub_id=sub_id, customer=customer, billing_reason="subscription_cycle",
                                  lines=[(period_start(month2), period_start(month3), "price_business", False)])
        ok(billing.deliver(anon, billing.event("invoice.paid", renewal)))
        reset_period(month2, workers=1)
        assert monthly_grants(user, month2) == [business.monthly_credits]
        agree(user)
        assert events(user, "subscription.renewed") == 1

        # The next renewal fails: past_due, and the credits keep working while Stripe retries.
        clock.move_to(period_start(month3) + timedelta(hours=1))
        reset_period(month3, workers=1)  # the reset comes first: nothing for a period not paid
        assert monthly_grants(user, month3) == []
        failed = billing.invoice("in_m3", sub_id=sub_id, customer=customer, billing_reason="subscription_cycle",
                                 status="open", hosted_invoice_url="https://invoice.stripe.test/in_m3",
                                 lines=[(period_start(month3), period_start(month4), "price_business", False)])
        ok(billing.deliver(anon, billing.event("invoice.payment_failed", failed)))
        state = ok(client_for(user).get(SUB))
        assert state["status"] == "past_due" and state["payment_url"] == "https://invoice.stripe.test/in_m3"
        assert events(user, "subscription.past_due") == 1
        before = agree(user).current_balance
        assert ok(client_for(user).get("/api/v1/profile/still_spending"))["username"] == "still_spending"
        assert agree(user).current_balance <= before

        # Stripe gives up: the subscription is unpaid, the wallet locked.
        clock.move_to(period_start(month3) + timedelta(days=10))
        ok(billing.deliver(anon, billing.event("customer.subscription.updated", billing.subscription(
            sub_id, customer=customer, price_id="price_business", status="unpaid",
            start=period_start(month3), end=period_start(month4)))))
        locked = client_for(user).get("/api/v1/profile/locked_out")
        assert locked.status_code == 402 and locked.json() == {"detail": WALLET_LOCKED, "code": "wallet_locked"}
        assert events(user, "wallet.locked") == 1

        # Paid after all: unlocked, and that period granted once (a redelivery grants nothing again).
        clock.move_to(period_start(month3) + timedelta(days=12))
        paid_late = billing.event("invoice.paid", {**failed, "status": "paid"})
        ok(billing.deliver(anon, paid_late))
        ok(billing.deliver(anon, billing.event("invoice.paid", {**failed, "status": "paid"})))  # another event id
        assert monthly_grants(user, month3) == [business.monthly_credits]
        assert events(user, "wallet.unlocked") == 1
        assert ok(client_for(user).get("/api/v1/profile/back_again"))["username"] == "back_again"
        assert ok(client_for(user).get(SUB))["status"] == "active"
        agree(user)

        # Upgrade mid-month: applied when its prorated invoice is paid, the difference to the credit.
        upgraded_at = period_start(month3) + timedelta(days=14, hours=12)
        clock.move_to(upgraded_at)
        stripe_api.subscriptions[sub_id] = billing.subscription(sub_id, customer=customer, price_id="price_business",
                                                            start=period_start(month3), end=period_start(month4))
        state = ok(client_for(user).post(f"{SUB}/change", {"package": enterprise.pk}, format="json"))
        assert state["upgrade_pending"]["name"] == "Enterprise" and state["package"]["name"] == "Business"
        _, form, _ = [c for c in stripe_api.calls if c[0] == f"/v1/subscriptions/{sub_id}"][-1]
        assert form["items[0][price]"] == "price_enterprise" and form["proration_behavior"] == "always_invoice"
        assert form["payment_behavior"] == "pending_if_incomplete"
        assert int(form["proration_date"]) == billing.ts(upgraded_at)
        before = agree(user).current_balance
        upgrade = billing.invoice("in_upgrade", sub_id=sub_id, customer=customer, billing_reason="subscription_update",
                                  lines=[(upgraded_at, period_start(month4), "price_business", True),
                                         (upgraded_at, period_start(month4), "price_enterprise", True)])
        ok(billing.deliver(anon, billing.event("invoice.paid", upgrade)))
        difference = ((enterprise.monthly_credits - business.monthly_credits)
                      * int((period_start(month4) - upgraded_at).total_seconds()) // month_seconds(upgraded_at))
        wallet = agree(user)
        assert wallet.current_balance == before + difference
        assert wallet.package_id == enterprise.pk
        assert ok(client_for(user).get(SUB))["package"]["name"] == "Enterprise"

        # Downgrade: waits for the 1st; this month keeps what it was granted.
        clock.move_to(upgraded_at + timedelta(days=3))
        before = agree(user).current_balance
        state = ok(client_for(user).post(f"{SUB}/change", {"package": business.pk}, format="json"))
        assert state["pending_package"]["name"] == "Business" and state["package"]["name"] == "Enterprise"
        _, form, _ = [c for c in stripe_api.calls if c[0] == f"/v1/subscriptions/{sub_id}"][-1]
        assert form["items[0][price]"] == "price_business" and form["proration_behavior"] == "none"
        assert agree(user).current_balance == before  # nothing clawed back
        clock.move_to(period_start(month4) + timedelta(minutes=5))
        ok(billing.deliver(anon, billing.event("invoice.paid", billing.invoice(
            "in_m4", sub_id=sub_id, customer=customer, billing_reason="subscription_cycle",
            lines=[(period_start(month4), period_start(month5), "price_business", False)]))))
        assert monthly_grants(user, month4) == [business.monthly_credits]
        assert Wallet.objects.get(pk=user.pk).package_id == business.pk
        assert ok(client_for(user).get(SUB))["pending_package"] is None
        agree(user)

        # Cancel: at the period's end, then Free from the next 1st.
        state = ok(client_for(user).post(f"{SUB}/cancel", format="json"))
        assert state["cancel_at_period_end"] is True and state["package"]["name"] == "Business"
        clock.move_to(period_start(month5) + timedelta(seconds=10))
        reset_period(month5, workers=1)  # the reset first: nothing, the subscription has not paid the period
        assert monthly_grants(user, month5) == []
        ok(billing.deliver(anon, billing.event("customer.subscription.deleted", billing.subscription(
            sub_id, customer=customer, price_id="price_business", status="canceled", start=period_start(month4),
            end=period_start(month5), reason="cancellation_requested"))))
        wallet = agree(user)
        assert wallet.package_id == free.pk and wallet.status == "active" and wallet.paid_through is None
        assert monthly_grants(user, month5) == [free.monthly_credits]
        state = ok(client_for(user).get(SUB))
        assert state["status"] == "canceled" and state["package"]["name"] == "Free"
        assert events(user, "subscription.canceled") == 1
        # And the month after, the reset grants Free's credits as to any Free wallet.
        clock.move_to(period_start(next_period(month5)) + timedelta(seconds=10))
        reset_period(next_period(month5), workers=1)
        assert monthly_grants(user, next_period(month5)) == [free.monthly_credits]
        agree(user)
