"""Auto-recharge is decided by the ledger writer under the wallet lock (wallets_recharge_start.sql):
one recharge per crossing whatever the concurrency, one in flight per wallet, within the month's limit."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
import time_machine
from django.db import connection

from testing.factories import PricingRuleFactory, UserFactory
from wallets import services
from wallets.models import Recharge, RechargeState, Wallet
from wallets.recharge_signal import recharge_started
from wallets.verification import ledger_problems

pytestmark = pytest.mark.django_db


def charge(user, price=20):
    hold = services.purchase_reserve(user_id=user.pk, action_type="test_action", reference=uuid.uuid4().hex,
                                     price=price).hold
    return services.purchase_capture(hold=hold)


def recharge_on(user, **settings):
    Wallet.objects.filter(pk=user.pk).update(**{
        "recharge_enabled": True, "recharge_threshold": 100, "recharge_credits": 500,
        "recharge_monthly_limit": 1000, **settings,
    })


def completed(recharge: Recharge) -> None:
    """What the payment side does when the payment succeeds (credited once, the row ended)."""
    services.credits_top_up(user_id=recharge.wallet_id, amount=recharge.credits, idempotency_key=f"recharge:{recharge.pk}")
    Recharge.objects.filter(pk=recharge.pk).update(status=RechargeState.SUCCEEDED)


@pytest.fixture(autouse=True)
def no_payments():
    """The decision alone: the payments side's listener (which would ask Stripe) is left out."""
    from payments.tasks import recharge_queue

    assert recharge_started.disconnect(dispatch_uid="payments.recharge_queue")
    yield
    recharge_started.connect(recharge_queue, dispatch_uid="payments.recharge_queue")


@pytest.fixture
def signals():
    sent = []

    def listen(sender, recharge_id, **kwargs):
        sent.append(recharge_id)

    recharge_started.connect(listen)
    yield sent
    recharge_started.disconnect(listen)


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_charges_crossing_the_threshold_start_exactly_one_recharge(make_user, signals):
    PricingRuleFactory(action_type="test_action", credits_per_action=20)
    user = make_user(balance=420)
    recharge_on(user)
    barrier = threading.Barrier(20)

    def work(_):
        try:
            barrier.wait(timeout=30)
            return charge(user).charged
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert list(pool.map(work, range(20))) == [20] * 20

    [recharge] = Recharge.objects.filter(wallet_id=user.pk)
    assert (recharge.credits, recharge.status) == (500, RechargeState.PENDING)
    assert signals == [recharge.pk]
    assert ledger_problems() == []


def test_one_in_flight_then_one_per_crossing(make_user, rule, signals):
    user = make_user(balance=120)
    recharge_on(user)
    charge(user)  # 100: not below
    assert not Recharge.objects.exists()
    charge(user)  # 80: crosses
    charge(user)  # 60: one is in flight already
    [first] = Recharge.objects.all()
    completed(first)  # 560
    for _ in range(23):
        charge(user)  # down to 100
    assert Recharge.objects.count() == 1
    charge(user)  # 80: the next crossing
    assert Recharge.objects.count() == 2 and len(signals) == 2


def test_top_up_by_or_to_a_target(make_user, rule):
    user = make_user(balance=100)
    recharge_on(user, recharge_credits=None, recharge_target=250)
    charge(user, price=30)  # 70
    assert Recharge.objects.get().credits == 180


def test_the_monthly_limit_holds_and_the_next_month_starts_again(rule):
    with time_machine.travel(datetime(2026, 1, 10, tzinfo=timezone.utc), tick=False):
        user = UserFactory()  # 50 monthly credits
        services.credits_top_up(user_id=user.pk, amount=70)  # 120
        recharge_on(user, recharge_monthly_limit=1000)
        for _ in range(2):  # two recharges' worth of the limit
            while not Recharge.objects.filter(status=RechargeState.PENDING).exists():
                charge(user)
            completed(Recharge.objects.get(status=RechargeState.PENDING))
            Wallet.objects.filter(pk=user.pk).update()  # nothing: the limit is counted from the rows
        while Wallet.objects.get(pk=user.pk).available >= 100:
            charge(user)
        charge(user)  # below again: the third crossing would pass the month's 1,000
        assert Recharge.objects.count() == 2
    with time_machine.travel(datetime(2026, 2, 1, 0, 0, 5, tzinfo=timezone.utc), tick=False):
        Wallet.objects.filter(pk=user.pk).update(recharge_threshold=10_000)  # below it whatever the month gave
        charge(user)  # February: a new month's limit
        assert Recharge.objects.filter(period=datetime(2026, 2, 1).date()).count() == 1
    assert ledger_problems(stale_holds=False) == []


def test_nothing_starts_when_off_or_disabled_after_a_failure(make_user, rule):
    user = make_user(balance=120)
    recharge_on(user, recharge_enabled=False)
    charge(user)
    charge(user)
    recharge_on(user, recharge_status="disabled_after_failure")
    charge(user)
    assert not Recharge.objects.exists()


def test_a_locked_wallet_starts_no_recharge(make_user, rule):
    user = make_user(balance=120)
    recharge_on(user)
    charge(user)
    services.wallet_set_status(user_id=user.pk, status="locked")
    services.credits_adjust(user_id=user.pk, amount=-30, reason="staff correction below the threshold")
    assert not Recharge.objects.exists()


def test_settings_keep_every_recharge_inside_the_top_up_range(user):
    from pricing.exceptions import InvalidAmount
    from wallets.services import AutoRechargeSettings, wallet_set_auto_recharge

    def save(**kwargs):
        settings = {"enabled": True, "threshold": 100, "credits": None, "target_balance": None, "monthly_limit": 1000}
        return wallet_set_auto_recharge(user_id=user.pk, settings=AutoRechargeSettings(**{**settings, **kwargs}))

    for bad in ({"credits": 5}, {"credits": 200_000}, {"target_balance": 105}, {"target_balance": 200_000},
                {"credits": 50, "target_balance": 300}, {}):
        with pytest.raises(InvalidAmount):
            save(**bad)
    assert save(target_balance=110).recharge_target == 110  # buys at least 10 (the smallest top-up)


def test_a_release_after_midnight_rolls_the_month_over_before_expiring(rule):
    """A hold on January's grant released in February: the reset decides the rollover on what the
    grant still holds (the released credits included), before what is past its expiry expires."""
    from pricing.models import Package
    from wallets.models import Grant, Hold

    with time_machine.travel(datetime(2026, 1, 10, tzinfo=timezone.utc), tick=False):
        user = UserFactory()  # January's 50 credits
        Wallet.objects.filter(pk=user.pk).update(package=Package.objects.get(name="Professional"))  # 50 roll over
    with time_machine.travel(datetime(2026, 1, 31, 23, 59, 59, tzinfo=timezone.utc), tick=False):
        hold = services.purchase_reserve(user_id=user.pk, action_type="test_action", reference="late", price=20).hold
    with time_machine.travel(datetime(2026, 2, 1, 0, 0, 1, tzinfo=timezone.utc), tick=False):
        services.credits_release(hold=hold)  # its request failed just after midnight
    assert Grant.objects.get(wallet_id=user.pk, source="rollover").amount == 50
    assert Hold.objects.get(pk=hold.pk).status == "released"
    assert Wallet.objects.get(pk=user.pk).current_balance == 50 + 100
    assert ledger_problems(stale_holds=False) == []
