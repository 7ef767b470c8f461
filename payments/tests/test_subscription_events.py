"""Stripe Billing's events applied exactly once whatever the delivery: twice, replayed later, in any
order (an event about a subscription not linked yet is refused with a retryable 409 and applied when
Stripe delivers it again), and eight at once over real HTTP."""

import threading
from datetime import datetime, timedelta, timezone as dt_timezone

import httpx
import pytest
import time_machine
from django.db import connection

from common.periods import next_period, period_of, period_start
from outbox.models import OutboxEvent
from payments.models import Subscription
from testing.clients import client_for
from wallets.models import Grant, Wallet
from wallets.services import reset_period
from wallets.verification import ledger_problems

from . import billing_objects as billing
from .fake_stripe import signed

START = datetime(2027, 3, 20, 9, 0, tzinfo=dt_timezone.utc)
SUB = "sub_events"
CUSTOMER = "cus_events"


def month_events(user, plans) -> tuple[list[dict], list[dict]]:
    """A subscription's first weeks as Stripe makes its events: in March, linked, its first invoice
    paid, active; in April, the renewal failing (past_due), paid on a retry, then set to cancel at
    the period's end."""
    month2 = next_period(period_of(START))
    end2 = period_start(next_period(month2))
    april = period_start(month2)
    renewal = billing.invoice("in_renewal", sub_id=SUB, customer=CUSTOMER, billing_reason="subscription_cycle",
                              lines=[(april, end2, "price_business", False)], status="open",
                              hosted_invoice_url="https://invoice.stripe.test/in_renewal")

    def state(**fields):
        return billing.subscription(SUB, customer=CUSTOMER, price_id="price_business", start=april, end=end2, **fields)

    march = [
        billing.event("checkout.session.completed", billing.subscription_checkout(
            "cs_events", sub_id=SUB, customer=CUSTOMER, user_id=user.pk, package_id=plans["Business"].pk), at=START),
        billing.event("invoice.paid", billing.invoice(
            "in_first", sub_id=SUB, customer=CUSTOMER, billing_reason="subscription_create",
            lines=[(START, april, "price_business", False)]), at=START + timedelta(seconds=1)),
        billing.event("customer.subscription.updated", billing.subscription(
            SUB, customer=CUSTOMER, price_id="price_business", start=START, end=april),
            at=START + timedelta(seconds=2)),
    ]
    april_events = [
        billing.event("invoice.payment_failed", renewal, at=april + timedelta(hours=1)),
        billing.event("customer.subscription.updated", state(status="past_due"),
                      at=april + timedelta(hours=1, seconds=1)),
        billing.event("invoice.paid", {**renewal, "status": "paid"}, at=april + timedelta(days=3)),
        billing.event("customer.subscription.updated", state(), at=april + timedelta(days=3, seconds=1)),
        billing.event("customer.subscription.updated", state(cancel_at_period_end=True), at=april + timedelta(days=5)),
    ]
    return march, april_events


def final_state(user) -> dict:
    sub = Subscription.objects.get(stripe_subscription_id=SUB)
    wallet = Wallet.objects.get(pk=user.pk)
    return {
        "status": sub.status, "cancel_at_period_end": sub.cancel_at_period_end, "package": wallet.package.name,
        "locked": wallet.status, "payment_url": sub.payment_url,
        "grants": sorted(Grant.objects.filter(wallet_id=user.pk, source="monthly")
                         .values_list("idempotency_key", "amount")),
        "events": sorted(OutboxEvent.objects.filter(wallet_id=user.pk, event_type__startswith="subscription.")
                         .values_list("event_type", flat=True)),
    }


def deliver_until_applied(client, events: list[dict]) -> int:
    """Deliver each event as Stripe would: a refused one (409) comes again later. Returns the refusals."""
    refused, waiting = 0, list(events)
    for _ in range(len(events) + 1):
        retry = []
        for stripe_event in waiting:
            response = billing.deliver(client, stripe_event)
            assert response.status_code in (200, 409), response.content
            if response.status_code == 409:
                refused += 1
                retry.append(stripe_event)
        if not retry:
            return refused
        waiting = retry
    raise AssertionError("events still refused after every retry")


def run(user, plans, client, order) -> dict:
    """The month delivered in `order` at the times Stripe would (each group after its events), the
    April reset in between; returns what it left."""
    march, april = month_events(user, plans)
    month2 = next_period(period_of(START))
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        deliver_until_applied(client, order(march))
    with time_machine.travel(period_start(month2) + timedelta(minutes=10), tick=False):
        reset_period(month2, workers=1)  # the reset before the renewal is paid
    with time_machine.travel(period_start(month2) + timedelta(days=6), tick=False):
        deliver_until_applied(client, order(april))
        assert ledger_problems(stale_holds=False) == []
    return final_state(user)


def new_user(make_user):
    """A user whose wallet opens in March, the day before it subscribes."""
    with time_machine.travel(START - timedelta(days=1), tick=False):
        return make_user()


def partial_credits(plans) -> int:
    april = period_start(next_period(period_of(START)))
    return plans["Business"].monthly_credits * int((april - START).total_seconds()) // (31 * 86400)


@pytest.mark.django_db
def test_in_order_the_month_lands_as_expected(make_user, plans, stripe_api, anon):
    state = run(new_user(make_user), plans, anon, lambda events: events)
    march, april = period_of(START), next_period(period_of(START))
    assert state["status"] == "active" and state["cancel_at_period_end"] is True and state["package"] == "Business"
    assert state["payment_url"] == "" and state["locked"] == "active"
    assert state["grants"] == sorted([
        (f"monthly:{march:%Y-%m}", plans["Free"].monthly_credits),
        (f"subscription_start:{SUB}", partial_credits(plans)),
        (f"monthly:{april:%Y-%m}", plans["Business"].monthly_credits),
    ])
    assert state["events"] == sorted(["subscription.activated", "subscription.past_due", "subscription.renewed",
                                      "subscription.changed"])


ORDERS = {
    "twice": lambda events: [e for e in events for _ in range(2)],
    "replayed": lambda events: events + events,
    "reversed": lambda events: events[::-1],
    "shuffled": lambda events: [events[i] for i in (2, 0, 4, 1, 3) if i < len(events)] + events[::2],
}


@pytest.mark.django_db
@pytest.mark.parametrize("order", list(ORDERS))
def test_every_delivery_order_applies_each_event_once(make_user, plans, stripe_api, anon, order):
    expected = run(new_user(make_user), plans, anon, lambda events: events)
    Subscription.objects.filter(stripe_subscription_id=SUB).update(stripe_subscription_id="sub_expected")
    got = run(new_user(make_user), plans, anon, ORDERS[order])
    same = ("status", "cancel_at_period_end", "package", "locked", "payment_url")
    assert {k: got[k] for k in same} == {k: expected[k] for k in same}
    assert [amount for _, amount in got["grants"]] == [amount for _, amount in expected["grants"]]
    if order in ("twice", "replayed"):
        assert got["events"] == expected["events"]
    else:  # a failure reported after its retry succeeded is stale: at most once, never twice
        assert [e for e in got["events"] if e != "subscription.past_due"] == [
            e for e in expected["events"] if e != "subscription.past_due"]
        assert got["events"].count("subscription.past_due") <= 1


@pytest.mark.django_db(transaction=True)
def test_eight_deliveries_at_once_over_http_apply_once(make_user, plans, stripe_api, live_server):
    user = new_user(make_user)
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        (link, first, active), _ = month_events(user, plans)

        def post(stripe_event):
            payload, signature = signed(stripe_event)
            barrier.wait(timeout=30)
            return httpx.post(live_server.url + billing.WEBHOOK, content=payload, timeout=30,
                              headers={"Stripe-Signature": signature, "Content-Type": "application/json"}).status_code

        results = []
        for batch in ([link] * 8, [first] * 4 + [active] * 4):
            barrier = threading.Barrier(len(batch))
            threads = [threading.Thread(target=lambda e=e: results.append(post(e))) for e in batch]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        assert results == [200] * 16
        assert Subscription.objects.filter(stripe_subscription_id=SUB).count() == 1
        assert list(Grant.objects.filter(wallet_id=user.pk, idempotency_key=f"subscription_start:{SUB}")
                    .values_list("amount", flat=True)) == [partial_credits(plans)]
        assert OutboxEvent.objects.filter(wallet_id=user.pk, event_type="subscription.activated").count() == 1
        assert Subscription.objects.get(stripe_subscription_id=SUB).status == "active"
        assert ledger_problems(stale_holds=False) == []
    connection.close()


@pytest.mark.django_db
def test_the_reset_grants_a_paid_period_once_whichever_comes_first(make_user, plans, stripe_api, anon):
    """invoice.paid before the month's reset or after it: the period's credits once, the rollover kept."""
    results = {}
    month2 = next_period(period_of(START))
    for first in ("invoice", "reset"):
        user = new_user(make_user)
        march, _ = month_events(user, plans)
        with time_machine.travel(START + timedelta(hours=1), tick=False):
            deliver_until_applied(anon, march)
        renewal = billing.event("invoice.paid", billing.invoice(
            "in_r", sub_id=SUB, customer=CUSTOMER, billing_reason="subscription_cycle",
            lines=[(period_start(month2), period_start(next_period(month2)), "price_business", False)]))
        with time_machine.travel(period_start(month2) + timedelta(minutes=5), tick=False):
            if first == "invoice":
                assert billing.deliver(anon, renewal).status_code == 200
                reset_period(month2, workers=1)
            else:
                reset_period(month2, workers=1)
                assert not Grant.objects.filter(wallet_id=user.pk, idempotency_key=f"monthly:{month2:%Y-%m}").exists()
                assert billing.deliver(anon, renewal).status_code == 200
            reset_period(month2, workers=1)
            wallet = Wallet.objects.get(pk=user.pk)
            results[first] = (wallet.current_balance, sorted(
                Grant.objects.filter(wallet_id=user.pk, remaining__gt=0).values_list("source", "remaining")))
            assert Grant.objects.filter(wallet_id=user.pk, idempotency_key=f"monthly:{month2:%Y-%m}").count() == 1
            assert client_for(user).get("/api/v1/api/credits/balance").status_code == 200
            assert ledger_problems(stale_holds=False) == []
        Subscription.objects.filter(stripe_subscription_id=SUB).update(stripe_subscription_id=f"sub_done_{first}")
    assert results["invoice"] == results["reset"]
    rolled = min(plans["Business"].rollover_cap, plans["Free"].monthly_credits + partial_credits(plans))
    assert results["reset"][1] == sorted([("monthly", plans["Business"].monthly_credits), ("rollover", rolled)])
