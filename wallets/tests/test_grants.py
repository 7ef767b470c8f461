"""Grants: the consumption order, expiry by time with no job run, rollover grants, holds across an
expiry, exact refunds, staff grants (service, command, API) and the user's grants endpoint."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from testing.clients import client_for
from testing.factories import UserFactory
from pricing.models import Package
from transactions.models import LedgerAllocation, LedgerEntry
from wallets import services
from wallets.services import reset_period
from wallets.exceptions import InsufficientCredits
from wallets.models import Grant, Wallet
from wallets.verification import ledger_problems

pytestmark = pytest.mark.django_db
C = "/api/v1/api/credits/"


def at(*moment):
    return time_machine.travel(datetime(*moment, tzinfo=timezone.utc), tick=False)


def grants(user, **filters) -> dict[str, tuple[int, int]]:
    """{source or reason: (remaining, held)} of the user's grants."""
    return {g.reason or g.source: (g.remaining, g.held) for g in Grant.objects.filter(wallet_id=user.pk, **filters)}


def promo(user, amount, reason, expires_at=None, source="promo"):
    return services.credits_grant(user_ids=[user.pk], amount=amount, reason=reason, source=source, expires_at=expires_at)


def spend(user, rule, reference="r"):
    return services.credits_capture(hold=services.credits_reserve(user_id=user.pk, action_type=rule.action_type,
                                                                  reference=reference))


def test_spending_follows_priority_then_earliest_expiry_then_age(rule):
    with at(2026, 3, 10, 9):
        user = UserFactory()  # Free: a monthly grant of 50 (priority 10, ends with March)
        services.credits_top_up(user_id=user.pk, amount=30, idempotency_key="t1")  # purchase: priority 30
        promo(user, 15, "late promo", datetime(2026, 3, 20, tzinfo=timezone.utc))  # priority 0
        promo(user, 10, "early promo", datetime(2026, 3, 15, tzinfo=timezone.utc))
        promo(user, 40, "compensation", source="compensation")  # priority 20, never expires
        capture = spend(user, rule)  # 20 credits
    assert capture.charged == 20
    assert grants(user, source="promo") == {"late promo": (5, 0), "early promo": (0, 0)}
    spend_row = LedgerEntry.objects.get(wallet_id=user.pk, transaction_type="spend")
    moves = list(spend_row.allocations.order_by("id").values_list("source", "amount"))
    assert moves == [("promo", -10), ("promo", -10)]  # the earlier expiry first, then the later
    with at(2026, 3, 10, 10):
        for _ in range(4):  # 80 more: promo 5, monthly 50, compensation 25
            spend(user, rule)
    left = {g.source: g.remaining for g in Grant.objects.filter(wallet_id=user.pk)}
    assert left["monthly"] == 0 and left["purchase"] == 30
    assert Grant.objects.get(wallet_id=user.pk, source="compensation").remaining == 15
    assert ledger_problems() == []


def test_a_promo_expiring_at_noon_is_spendable_at_1159_and_gone_at_noon_with_no_job(rule):
    noon = datetime(2026, 5, 12, 12, tzinfo=timezone.utc)
    with at(2026, 5, 12, 8):
        user = UserFactory()
        services.credits_adjust(user_id=user.pk, amount=-50, reason="empty the monthly grant")
        promo(user, 20, "spring", noon)
    with at(2026, 5, 12, 11, 59):
        api = client_for(user)  # tokens are stamped with the (travelled) time they are issued
        body = api.get(C + "balance").json()
        assert (body["current_balance"], body["bonus_balance"]) == (20, 20)
        assert body["expiring_soon"] == {"credits": 20, "expires_at": "2026-05-12T12:00:00Z"}
        assert api.get(C + "can-perform/ai_insights").json()["can_perform"] is True
    with at(2026, 5, 12, 12):
        api = client_for(user)
        body = api.get(C + "balance").json()
        assert (body["current_balance"], body["bonus_balance"], body["expiring_soon"]) == (0, 0, None)
        with pytest.raises(InsufficientCredits):
            services.credits_reserve(user_id=user.pk, action_type=rule.action_type)
    expiry = LedgerEntry.objects.get(wallet_id=user.pk, transaction_type="expiry", created_at=noon)
    assert (expiry.amount, expiry.balance_after) == (20, 0)
    assert list(expiry.allocations.values_list("source", "amount")) == [("promo", -20)]
    assert ledger_problems() == []


def test_held_credits_outlive_their_grants_expiry_until_the_hold_settles(rule):
    noon = datetime(2026, 5, 12, 12, tzinfo=timezone.utc)
    with at(2026, 5, 12, 8):
        user = UserFactory()
        services.credits_adjust(user_id=user.pk, amount=-50, reason="empty")
        promo(user, 50, "promo", noon)
    with at(2026, 5, 12, 11, 59, 30):
        captured = services.credits_reserve(user_id=user.pk, action_type=rule.action_type, reference="a")
        released = services.credits_reserve(user_id=user.pk, action_type=rule.action_type, reference="b")
    with at(2026, 5, 12, 12, 0, 30):  # the grant has expired; both requests are still in flight
        assert services.wallet_refresh(user_id=user.pk).current_balance == 40  # the unheld 10 expired
        assert services.credits_capture(hold=captured).charged == 20  # a request in flight pays as reserved
        services.credits_release(hold=released)  # what it gives back is past its grant's expiry
    w = Wallet.objects.get(pk=user.pk)
    assert (w.current_balance, w.reserved, w.bonus_balance) == (0, 0, 0)
    assert list(LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="expiry").order_by("id").values_list("amount", flat=True)) == [10, 20]
    assert ledger_problems() == []


@pytest.mark.parametrize("start, reset_at, period", [
    ((2026, 1, 20), (2026, 2, 1), date(2026, 2, 1)),
    ((2026, 12, 31, 23, 59), (2027, 1, 1), date(2027, 1, 1)),
    ((2028, 1, 15), (2028, 2, 1), date(2028, 2, 1)),
    ((2028, 2, 29, 12), (2028, 3, 1), date(2028, 3, 1)),
])
def test_rollover_grants_across_month_boundaries(start, reset_at, period):
    pro = Package.objects.get(name="Professional")  # 100 a month, 50 roll over
    with at(*start):
        user = UserFactory()
        Wallet.objects.filter(pk=user.pk).update(package=pro)
        services.credits_adjust(user_id=user.pk, amount=-10, reason="spent")  # 40 of the first 50 left
    with at(*reset_at):
        reset_period(period)
        reset_period(period)  # a second run writes nothing
    end = datetime(*(period.year + period.month // 12, period.month % 12 + 1, 1), tzinfo=timezone.utc)
    rollover = Grant.objects.get(wallet_id=user.pk, source="rollover")
    monthly = Grant.objects.get(wallet_id=user.pk, source="monthly", expires_at=end)
    assert (rollover.amount, rollover.expires_at, monthly.amount) == (40, end, 100)
    assert not LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="expiry").exists()
    with at(end.year, end.month, 1):  # the next reset: the rollover grant expires whole, 50 of 100 roll over
        services.wallet_refresh(user_id=user.pk)
    assert LedgerEntry.objects.get(wallet_id=user.pk, transaction_type="expiry").amount == 40 + 50
    assert Grant.objects.filter(wallet_id=user.pk, source="rollover", remaining=50).count() == 1
    assert ledger_problems() == []


def test_a_refund_takes_back_its_own_purchase_only(rule):
    user = UserFactory()
    services.credits_adjust(user_id=user.pk, amount=-50, reason="empty")
    services.credits_top_up(user_id=user.pk, amount=30, idempotency_key="top_up:1")
    services.credits_top_up(user_id=user.pk, amount=30, idempotency_key="top_up:2")
    spend(user, rule)  # 20 of the first purchase (older first within a priority)
    refund = services.credits_take_back(user_id=user.pk, amount=30, grant_key="top_up:1")
    assert refund.amount == 10  # only its own unspent 10; the other purchase is untouched
    assert Grant.objects.get(wallet_id=user.pk, idempotency_key="top_up:2").remaining == 30
    assert services.credits_take_back(user_id=user.pk, amount=30, grant_key="top_up:1") is None
    assert ledger_problems() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_charges_across_several_grants_never_overspend_a_grant(make_user, rule):
    user = make_user(balance=0)
    promo(user, 30, "a", datetime.now(timezone.utc) + timedelta(days=1))
    promo(user, 50, "b", datetime.now(timezone.utc) + timedelta(days=2))
    services.credits_top_up(user_id=user.pk, amount=45, idempotency_key="t")  # 125 in three grants
    barrier = threading.Barrier(12)

    def charge(i):
        barrier.wait(timeout=10)
        try:
            return services.credits_capture(hold=services.credits_reserve(
                user_id=user.pk, action_type=rule.action_type, reference=str(i))).charged
        except InsufficientCredits:
            return 0
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        charged = list(pool.map(charge, range(12)))
    assert sum(charged) == 120  # six charges of 20 fit in 125
    left = Grant.objects.filter(wallet_id=user.pk).exclude(source="monthly")  # emptied by make_user
    assert {g.reason: g.remaining for g in left} == {"a": 0, "b": 0, "Top-up": 5}
    spent = LedgerAllocation.objects.filter(wallet_id=user.pk, transaction_type="spend").aggregate(s=Sum("amount"))
    assert spent["s"] == -120
    assert ledger_problems() == []


def test_staff_grant_api_by_usernames_and_package_with_an_idempotency_key(staff_api, api, make_user):
    alice, bob = make_user(username="alice"), make_user(username="bob")
    body = {"usernames": ["alice", "bob"], "amount": 25, "reason": "launch week", "source": "promo",
            "expires_in_days": 7, "idempotency_key": "launch-1"}
    assert api.post(C + "admin/grants", body, format="json").status_code == 403
    first = staff_api.post(C + "admin/grants", body, format="json")
    again = staff_api.post(C + "admin/grants", body, format="json")
    # The retry (same key, same body) gets the first answer again and grants nothing twice.
    assert (first.status_code, first.json()["wallets"], again.json()) == (201, 2, first.json())
    assert Wallet.objects.get(pk=alice.pk).bonus_balance == 25
    entry = LedgerEntry.objects.get(wallet_id=bob.pk, transaction_type="grant")
    assert (entry.amount, entry.actor_id is not None) == (25, True)
    everyone = staff_api.post(C + "admin/grants", {"package": "Free", "amount": 5, "reason": "sorry",
                                                  "source": "compensation"}, format="json")
    assert everyone.json()["wallets"] == Wallet.objects.filter(package__name="Free").count()
    for bad in ({"usernames": ["nobody"], "amount": 5, "reason": "x"}, {"amount": 5, "reason": "x"},
                {"usernames": ["alice"], "amount": 0, "reason": "x"}, {"usernames": ["alice"], "amount": 5, "reason": "x",
                 "source": "purchase"}, {"usernames": ["alice"], "amount": 5, "reason": "x",
                 "expires_at": "2020-01-01T00:00:00Z"}):
        response = staff_api.post(C + "admin/grants", bad, format="json")
        assert response.status_code == 400 and response.json()["code"], (bad, response.json())
    assert ledger_problems() == []


def test_grants_endpoint_and_command(user, capsys):
    call_command("grant_credits", user.username, "12", "--reason", "trial", "--source", "trial", "--expires-in-days", "3")
    assert "Granted 12 trial credits" in capsys.readouterr().out
    api = client_for(user)
    active = api.get(C + "grants").json()["results"]
    assert [(g["source"], g["remaining"]) for g in active] == [("trial", 12), ("monthly", 50)]
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(days=3, minutes=1)):
        later = client_for(user)
        assert [g["source"] for g in later.get(C + "grants?status=expired").json()["results"]] == ["trial"]
    assert len(api.get(C + "grants?status=all").json()["results"]) == 2
    assert api.get(C + "grants?status=soon").status_code == 400
    with pytest.raises(Exception, match="ISO 8601"):
        call_command("grant_credits", user.username, "5", "--reason", "x", "--expires-at", "tomorrow")


def test_the_periodic_task_expires_grants_of_wallets_nobody_touches(make_user):
    from wallets.tasks import expire_due_grants

    users = [make_user() for _ in range(3)]
    soon = datetime.now(timezone.utc) + timedelta(hours=1)
    for user in users:
        promo(user, 10, "flash sale", soon)
    assert expire_due_grants.apply().get() == 0
    with time_machine.travel(soon + timedelta(seconds=1)):
        assert expire_due_grants.apply().get() == 3
    assert [Wallet.objects.get(pk=u.pk).bonus_balance for u in users] == [0, 0, 0]
    assert ledger_problems() == []


def test_admin_grants_to_selected_wallets_and_to_a_package(client, make_user):
    staff = make_user(is_staff=True, is_superuser=True)
    alice, bob = make_user(username="alice"), make_user(username="bob")
    client.force_login(staff)
    response = client.post(f"/admin/wallets/wallet/grant/?ids={alice.pk}", {
        "amount": 15, "source": "trial", "reason": "welcome", "expires_in_days": 14})
    assert response.status_code == 302
    assert Wallet.objects.get(pk=alice.pk).bonus_balance == 15 and Wallet.objects.get(pk=bob.pk).bonus_balance == 0
    grant = Grant.objects.get(wallet_id=alice.pk, source="trial")
    assert (grant.actor_id, grant.expires_at is not None) == (staff.pk, True)
    free = Package.objects.get(name="Free")
    client.post("/admin/wallets/wallet/grant/", {"amount": 5, "source": "compensation", "reason": "outage",
                                                 "package": free.pk})
    assert Grant.objects.filter(source="compensation").count() == Wallet.objects.filter(package=free).count()
    page = client.get("/admin/wallets/grant/")
    assert page.status_code == 200 and b"welcome" in page.content
    assert client.post(f"/admin/wallets/wallet/grant/?ids={alice.pk}", {"amount": 0, "source": "trial",
                                                                        "reason": "x"}).status_code == 200  # form errors
    assert ledger_problems() == []
