"""The monthly cycle, with time travel, on PostgreSQL."""

from datetime import date, datetime, timezone

import pytest
import time_machine
from django.core.management import call_command

from pricing.models import Package
from testing.clients import client_for
from testing.factories import PackageFactory, UserFactory
from testing.sequences import use
from transactions.models import LedgerEntry
from wallets import services
from wallets.services import reset_period
from wallets.models import Wallet
from wallets.verification import ledger_problems

pytestmark = pytest.mark.django_db


def at(year, month, day=1, hour=0, minute=0):
    return time_machine.travel(datetime(year, month, day, hour, minute, tzinfo=timezone.utc), tick=False)


def wallet(user) -> Wallet:
    return Wallet.objects.select_related("package").get(pk=user.pk)


def rows(user, kind):
    return list(LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type=kind).order_by("id"))


@pytest.fixture
def pro(db):
    return Package.objects.get(name="Professional")  # 100 a month, 50 roll over


def user_on(package, *, when):
    with when:
        user = UserFactory()
        Wallet.objects.filter(pk=user.pk).update(package=package)
        LedgerEntry.objects.filter(wallet_id=user.pk).exists()
    return user


@pytest.mark.parametrize(
    "start, reset_at, period",
    [
        ((2026, 1, 20), (2026, 2, 1), date(2026, 2, 1)),  # Jan -> Feb
        ((2026, 12, 31, 23, 59), (2027, 1, 1), date(2027, 1, 1)),  # Dec -> Jan
        ((2028, 1, 15), (2028, 2, 1), date(2028, 2, 1)),  # into a leap February
        ((2028, 2, 29, 12), (2028, 3, 1), date(2028, 3, 1)),  # out of it
    ],
)
def test_reset_across_month_boundaries(start, reset_at, period):
    with at(*start):
        user = UserFactory()  # Free: 50 a month, nothing rolls over
        use_up = services.credits_adjust(user_id=user.pk, amount=-20, reason="spent")
        assert use_up.balance_after == 30
    with at(*reset_at):
        report = reset_period(period)
    assert report.wallets_reset == 1
    w = wallet(user)
    assert (w.monthly_balance, w.billing_cycle_start) == (50, period)
    expiry, = rows(user, "expiry")
    assert (expiry.amount, expiry.balance_after, expiry.idempotency_key) == (30, 0, f"expiry:{period:%Y-%m}")
    grants = rows(user, "monthly_grant")
    assert [g.idempotency_key for g in grants][-1] == f"monthly_grant:{period:%Y-%m}"
    assert grants[-1].balance_after == 50
    assert ledger_problems() == []


def test_rollover_cap_and_purchased_credits_survive(pro):
    with at(2026, 3, 5):
        user = UserFactory()
        Wallet.objects.filter(pk=user.pk).update(package=pro)
        services.credits_adjust(user_id=user.pk, amount=30, reason="bought")  # purchased bucket
    with at(2026, 4, 1):
        reset_period(date(2026, 4, 1))
    w = wallet(user)
    # 50 monthly (Free grant in March) <= cap 50: nothing expires; +100 Professional grant.
    assert (w.monthly_balance, w.purchased_balance) == (150, 30)
    assert rows(user, "expiry") == []
    with at(2026, 5, 1):
        reset_period(date(2026, 5, 1))
    w = wallet(user)
    assert (w.monthly_balance, w.purchased_balance) == (150, 30)  # 150 -> cap 50, +100
    assert rows(user, "expiry")[0].amount == 100
    assert ledger_problems() == []


def test_held_credits_never_expire(rule):
    with at(2026, 6, 10):
        user = UserFactory()
        hold = services.credits_reserve(user_id=user.pk, action_type="test_action")  # 20 of 50 held
    with at(2026, 7, 1):
        reset_period(date(2026, 7, 1))
        assert rows(user, "expiry")[0].amount == 30
        services.credits_capture(hold=hold)
    w = wallet(user)
    assert (w.current_balance, w.reserved) == (50 - 30 + 50 - 20, 0)
    assert ledger_problems() == []


def test_locked_wallets_get_nothing_until_unlocked():
    with at(2026, 8, 3):
        user = UserFactory()
        services.wallet_set_status(user_id=user.pk, status="locked")
    with at(2026, 9, 1):
        assert reset_period(date(2026, 9, 1)).wallets_reset == 0
        assert wallet(user).billing_cycle_start == date(2026, 8, 1)
    with at(2026, 9, 14):
        services.wallet_set_status(user_id=user.pk, status="active")
    w = wallet(user)
    assert (w.billing_cycle_start, w.current_balance) == (date(2026, 9, 1), 50)
    assert [g.idempotency_key for g in rows(user, "monthly_grant")] == ["monthly_grant:2026-08", "monthly_grant:2026-09"]


def test_double_run_changes_nothing():
    with at(2026, 1, 10):
        users = [UserFactory() for _ in range(5)]
    with at(2026, 2, 1):
        first = reset_period(date(2026, 2, 1), batch_size=2)
        count = LedgerEntry.objects.count()
        second = reset_period(date(2026, 2, 1), batch_size=2)
    assert (first.wallets_reset, second.wallets_reset) == (5, 0)
    assert LedgerEntry.objects.count() == count
    assert all(wallet(u).current_balance == 50 for u in users)


def test_ledger_unique_key_stops_a_replay_even_if_the_wallet_looks_due():
    with at(2026, 1, 10):
        user = UserFactory()
    with at(2026, 2, 1):
        reset_period(date(2026, 2, 1))
        # Simulate a crashed half-run: the wallet row says January, the ledger already has February.
        Wallet.objects.filter(pk=user.pk).update(billing_cycle_start=date(2026, 1, 1))
        reset_period(date(2026, 2, 1))
    assert len(rows(user, "monthly_grant")) == 2  # January's and February's, never a second February


def test_lazy_catch_up_on_read_and_on_charge(api, user, rule):
    with at(2026, 10, 5):
        user2 = UserFactory()
    with at(2026, 11, 2):
        body = client_for(user2).get("/api/v1/api/credits/balance").json()
        assert (body["billing_cycle_start"], body["current_balance"]) == ("2026-11-01", 50)
        # the batch job arriving later finds nothing to do for this wallet
        assert reset_period(date(2026, 11, 1)).wallets_reset >= 0
    assert len(rows(user2, "monthly_grant")) == 2
    with at(2026, 10, 6):
        user3 = UserFactory()
    with at(2026, 11, 3):
        use(user3, "test_action")
    assert wallet(user3).billing_cycle_start == date(2026, 11, 1)
    assert wallet(user3).current_balance == 50 - 50 + 50 - 20


def test_free_allowances_start_again(make_user):
    with at(2026, 4, 20):
        user = UserFactory()
        services.credits_adjust(user_id=user.pk, amount=100, reason="x")
        use(user, "influencer_unlock", "a"), use(user, "influencer_unlock", "b")
        assert use(user, "influencer_unlock", "c").charged == 25
    with at(2026, 5, 2):
        assert use(user, "influencer_unlock", "d").charged == 0
        body = client_for(user).get("/api/v1/api/credits/allowances").json()
        assert body["influencer_unlock"]["used_this_month"] == 1


def test_batch_and_lazy_catch_up_agree():
    """The batch job and a wallet caught up on touch give the same wallet and ledger rows."""
    pro = PackageFactory(name="Capped", monthly_credits=80, rollover_cap=10)
    results = []
    for path in ("batch", "lazy"):
        with at(2026, 1, 5):
            user = UserFactory()
            Wallet.objects.filter(pk=user.pk).update(package=pro)
            services.credits_top_up(user_id=user.pk, amount=7)
            services.credits_adjust(user_id=user.pk, amount=60, reason="extra")
            services.credits_adjust(user_id=user.pk, amount=-3, reason="less")
        with at(2026, 2, 1):
            if path == "batch":
                reset_period(date(2026, 2, 1))
            else:
                services.wallet_refresh(user_id=user.pk)
        w = wallet(user)
        entries = [
            (e.transaction_type, e.amount, e.delta, e.balance_after, e.idempotency_key, e.description)
            for e in LedgerEntry.objects.filter(wallet_id=user.pk, created_at__gte=datetime(2026, 2, 1, tzinfo=timezone.utc)).order_by("id")
        ]
        results.append(((w.monthly_balance, w.purchased_balance, w.billing_cycle_start, w.ledger_rows), entries))
    assert results[0] == results[1]
    assert results[0][1][0][0] == "expiry"


def test_command(capsys):
    with at(2026, 1, 10):
        UserFactory()
    with at(2026, 2, 3):
        call_command("reset_monthly_allowances", "--period", "2026-02")
    assert "Reset 2026-02: 1 wallets" in capsys.readouterr().out
    with pytest.raises(Exception, match="YYYY-MM"):
        call_command("reset_monthly_allowances", "--period", "Feb")


def test_beat_schedule():
    from celery.schedules import crontab

    from credits_platform.celery import app

    monthly = app.conf.beat_schedule["monthly-reset"]
    assert monthly["task"] == "wallets.tasks.reset_monthly_allowances"
    assert monthly["schedule"] == crontab(minute=0, hour=0, day_of_month=1)
    assert app.conf.beat_schedule["release-stale-holds"]["schedule"] == 60.0
    assert app.conf.timezone == "UTC"
