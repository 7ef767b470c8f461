"""Real threads on real PostgreSQL: concurrent spenders can never spend the same credits twice."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.db.models import Sum

from testing.factories import PricingRuleFactory
from transactions.models import LedgerEntry, TransactionType
from wallets import services
from wallets.exceptions import InsufficientCredits
from wallets.models import Hold, HoldStatus, Wallet
from wallets.verification import ledger_problems

pytestmark = pytest.mark.django_db(transaction=True)


def run_in_threads(count: int, work):
    """Start `count` threads at once (a barrier) and return their results or exceptions."""
    barrier = threading.Barrier(count)

    def worker(index):
        try:
            barrier.wait(timeout=30)
            return work(index)
        except Exception as error:  # noqa: BLE001 - collected and asserted on by the caller
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


def test_fifty_threads_spend_exactly_what_is_there(make_user):
    PricingRuleFactory(action_type="test_action", credits_per_action=20)
    user = make_user(balance=100)

    def spend(_):
        hold = services.credits_reserve(user_id=user.pk, action_type="test_action")
        return services.credits_capture(hold=hold).charged

    results = run_in_threads(50, spend)

    successes = [r for r in results if r == 20]
    refusals = [r for r in results if isinstance(r, InsufficientCredits)]
    assert len(successes) == 5, results
    assert len(refusals) == 45, [r for r in results if not isinstance(r, (int, InsufficientCredits))]
    wallet = Wallet.objects.get(pk=user.pk)
    assert (wallet.current_balance, wallet.reserved) == (0, 0)
    spent = LedgerEntry.objects.filter(wallet=wallet, transaction_type=TransactionType.SPEND)
    assert spent.count() == 5
    assert LedgerEntry.objects.filter(wallet=wallet).aggregate(s=Sum("delta"))["s"] == 0
    assert ledger_problems() == []


def test_concurrent_wallet_creation_makes_one_wallet(make_user):
    user = make_user()
    results = run_in_threads(10, lambda _: services.wallet_create(user=user)[1])
    assert results == [False] * 10
    assert LedgerEntry.objects.filter(wallet_id=user.pk).count() == 1


def test_concurrent_captures_and_releases_of_one_hold_settle_it_once(make_user):
    PricingRuleFactory(action_type="test_action", credits_per_action=20)
    user = make_user(balance=100)
    hold = services.credits_reserve(user_id=user.pk, action_type="test_action")

    def settle(index):
        if index % 2:
            return services.credits_capture(hold=hold).charged
        return services.credits_release(hold=hold).status

    run_in_threads(20, settle)
    hold.refresh_from_db()
    wallet = Wallet.objects.get(pk=user.pk)
    spends = LedgerEntry.objects.filter(wallet=wallet, transaction_type=TransactionType.SPEND).count()
    assert wallet.reserved == 0
    if hold.status == HoldStatus.CAPTURED:
        assert (spends, wallet.current_balance) == (1, 80)
    else:
        assert (hold.status, spends, wallet.current_balance) == (HoldStatus.RELEASED, 0, 100)
    assert Hold.objects.filter(status=HoldStatus.HELD).count() == 0
    assert ledger_problems() == []
