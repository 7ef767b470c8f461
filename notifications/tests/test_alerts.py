"""Low-balance alerts: decided by the ledger writer under the wallet lock, once per crossing."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from testing.clients import client_for
from testing.factories import PricingRuleFactory
from notifications.models import Notification
from outbox.models import OutboxEvent
from wallets import services
from wallets.models import Wallet
from wallets.outcomes import AlertState

pytestmark = pytest.mark.django_db(transaction=True)


def events(user, event_type=None):
    rows = OutboxEvent.objects.filter(wallet_id=user.pk).order_by("id")
    return list(rows.filter(event_type=event_type) if event_type else rows)


@pytest.fixture(params=["services", "one_call"])
def charge(request):
    """A charge through the general services, or through the gate's database functions."""
    def charge(user):
        if request.param == "one_call":
            hold = services.purchase_reserve(user_id=user.pk, action_type="test_action", reference=uuid.uuid4().hex, price=20).hold
            return services.purchase_capture(hold=hold).charged
        hold = services.credits_reserve(user_id=user.pk, action_type="test_action")
        return services.credits_capture(hold=hold).charged

    return charge


def test_twenty_concurrent_charges_crossing_the_threshold_fire_exactly_one_balance_low(make_user, charge):
    PricingRuleFactory(action_type="test_action", credits_per_action=20)
    user = make_user(balance=420)
    services.wallet_set_low_balance_threshold(user_id=user.pk, threshold=100)
    barrier = threading.Barrier(20)

    def work(_):
        try:
            barrier.wait(timeout=30)
            return charge(user)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert list(pool.map(work, range(20))) == [20] * 20

    [low] = events(user, "balance.low")
    assert low.data["threshold"] == 100 and low.data["available"] < 100
    assert events(user, "balance.depleted") == []
    wallet = Wallet.objects.get(pk=user.pk)
    assert (wallet.available, wallet.low_balance_state) == (20, 1)
    assert Notification.objects.filter(user=user, event_type="balance.low").count() == 1
    assert len([m for m in mail.outbox if user.email in m.to]) == 1


def test_recovery_after_a_top_up_rearms_and_a_second_crossing_fires_again(make_user, charge):
    PricingRuleFactory(action_type="test_action", credits_per_action=20)
    user = make_user(balance=40)  # threshold 20 (CREDITS_LOW_BALANCE_DEFAULT)
    charge(user)  # 20 left: not below
    assert events(user) == []
    charge(user)  # 0: low and depleted, once each
    assert [e.event_type for e in events(user)] == ["balance.low", "balance.depleted"]

    services.credits_top_up(user_id=user.pk, amount=10, idempotency_key="a")  # 10: still low, no news
    assert [e.event_type for e in events(user)][2:] == ["top_up.completed"]
    services.credits_top_up(user_id=user.pk, amount=30, idempotency_key="b")  # 40: recovered
    assert [e.event_type for e in events(user)][3:] == ["balance.recovered", "top_up.completed"]
    assert events(user, "balance.recovered")[0].data["available"] == 40

    charge(user)  # 20
    charge(user)  # 0 again: a second crossing fires again
    assert len(events(user, "balance.low")) == 2
    assert len(events(user, "balance.depleted")) == 2


def alert_transition(state: int, *, available: int, threshold: int) -> tuple[int, list[str]]:
    """The rule as the ledger writer runs it (wallets/db/functions/wallets_alert_transition.sql)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM wallets_alert_transition(%s, %s, %s)", [state, available, threshold])
        new_state, events = cursor.fetchone()
    return new_state, events


@given(st.lists(st.integers(min_value=0, max_value=60), max_size=40), st.integers(min_value=0, max_value=50))
def test_alerts_fire_once_per_crossing(balances, threshold):
    """balance.low fires each time the balance goes below the threshold after having been at or above
    it (or at the start); balance.recovered comes only after a fall (low or depleted), once."""
    state, fired, expected, armed = AlertState.ARMED, [], 0, True
    for available in balances:
        if available >= threshold:
            armed = True
        elif armed:
            expected, armed = expected + 1, False
        state, new = alert_transition(state, available=available, threshold=threshold)
        fired += new
    assert fired.count("balance.low") == expected
    falls = ["recovered" if e == "balance.recovered" else "fell" for e in fired]
    assert falls[:1] != ["recovered"]  # nothing to recover from at the start
    assert ("recovered", "recovered") not in zip(falls, falls[1:])  # fell, ..., recovered, fell, ..., recovered


def test_the_alert_states_are_the_ones_the_database_sets():
    assert {alert_transition(AlertState.ARMED, available=a, threshold=10)[0] for a in (20, 5, 0)} == set(AlertState.values)


def test_alerts_api_reads_and_changes_the_threshold_and_email_setting(make_user):
    user = make_user(balance=50)
    api = client_for(user)
    assert api.get("/api/v1/api/credits/alerts").json() == {
        "low_balance_threshold": 20, "alert_state": "armed", "available": 50, "email_notifications": True}

    body = api.patch("/api/v1/api/credits/alerts", {"low_balance_threshold": 60}, format="json").json()
    assert body["low_balance_threshold"] == 60 and body["alert_state"] == "low"
    [low] = events(user, "balance.low")  # raised above the balance: fires at once
    assert len(mail.outbox) == 1 and "low" in mail.outbox[0].subject

    body = api.patch("/api/v1/api/credits/alerts", {"low_balance_threshold": 10, "email_notifications": False},
                     format="json").json()
    assert body == {"low_balance_threshold": 10, "alert_state": "armed", "available": 50, "email_notifications": False}
    assert events(user, "balance.recovered") == []  # lowered below the balance: re-armed quietly
    api.patch("/api/v1/api/credits/alerts", {"low_balance_threshold": 70}, format="json")
    assert len(events(user, "balance.low")) == 2 and len(mail.outbox) == 1  # email off: in-app only

    for bad in ({"low_balance_threshold": -1}, {"low_balance_threshold": "x"}, {"threshold": 5},
                {"low_balance_threshold": 10**12}):
        response = api.patch("/api/v1/api/credits/alerts", bad, format="json")
        assert response.status_code == 400 and response.json()["code"] == "invalid", bad


def test_notifications_newest_first_with_unread_count_and_mark_read(make_user):
    user = make_user(balance=50)
    api = client_for(user)
    services.wallet_set_status(user_id=user.pk, status="locked")
    services.wallet_set_status(user_id=user.pk, status="active")
    body = api.get("/api/v1/api/credits/notifications").json()
    assert body["unread_count"] == 2 and body["count"] == 2
    assert [n["type"] for n in body["results"]] == ["wallet.unlocked", "wallet.locked"]
    assert body["results"][1]["message"].startswith("Your credit wallet is locked.")
    assert body["results"][0]["event_id"].startswith("msg_") and body["results"][0]["read_at"] is None

    first = body["results"][1]["id"]
    assert api.post("/api/v1/api/credits/notifications/read", {"ids": [first]}, format="json").json() == {
        "marked": 1, "unread_count": 1}
    assert api.post("/api/v1/api/credits/notifications/read", {}, format="json").json() == {"marked": 1, "unread_count": 0}
    assert api.get("/api/v1/api/credits/notifications?unread=true").json()["count"] == 0

    other = client_for(make_user(balance=50))
    assert other.get("/api/v1/api/credits/notifications").json()["count"] == 0  # only one's own
    assert other.post("/api/v1/api/credits/notifications/read", {"ids": [first]}, format="json").json()["marked"] == 0
    response = api.post("/api/v1/api/credits/notifications/read", {"ids": "all"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert api.get("/api/v1/api/credits/notifications?bogus=1").status_code == 400


def test_expiring_grants_are_announced_once_seven_days_ahead_and_emailed(make_user):
    user = make_user(balance=50)
    services.credits_grant(amount=30, reason="launch week", user_ids=[user.pk], expires_at=timezone.now() + timedelta(days=3))
    services.credits_grant(amount=5, reason="later", user_ids=[user.pk], expires_at=timezone.now() + timedelta(days=30))
    [granted, _] = events(user, "credits.granted")
    assert granted.data["credits"] == 30 and granted.data["username"] == user.username
    assert Notification.objects.filter(event=granted).exists()  # set-based: the sweep queued on commit

    assert services.grants_announce_expiring() == 1
    assert services.grants_announce_expiring() == 0  # once
    [expiring] = events(user, "credits.expiring")
    assert expiring.data["credits"] == 30 and expiring.data["source"] == "promo"
    assert Notification.objects.filter(user=user, event_type="credits.expiring").count() == 1
    assert Notification.objects.filter(user=user, event_type="credits.granted").count() == 2
    assert [m.subject for m in mail.outbox] == ["Credits expire soon"]


def test_expired_grants_and_refunds_emit_their_events(make_user):
    user = make_user(balance=50)
    services.credits_top_up(user_id=user.pk, amount=40, idempotency_key="top_up:1")
    services.credits_take_back(user_id=user.pk, amount=40, grant_key="top_up:1", idempotency_key="refund:1")
    [refunded] = events(user, "top_up.refunded")
    assert refunded.data["credits"] == 40
    services.credits_grant(amount=7, reason="soon gone", user_ids=[user.pk], expires_at=timezone.now() + timedelta(seconds=1))
    services.grants_expire_due(now=timezone.now() + timedelta(seconds=5))
    [expired] = events(user, "credits.expired")
    assert expired.data["credits"] == 7 and expired.data["source"] == "promo"

