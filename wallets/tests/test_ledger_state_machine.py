"""Random sequences of every balance-changing service against a tiny model of the wallet."""

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from pricing.exceptions import InvalidAmount
from testing.factories import PricingRuleFactory, UserFactory
from transactions.models import LedgerEntry
from wallets import services
from wallets.exceptions import InsufficientCredits
from wallets.models import Wallet

pytestmark = pytest.mark.django_db

PAID, FREEBIE = ("sm_paid", 20), ("sm_freebie", 15)
FREE_PER_MONTH = 2


class WalletMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.user = UserFactory()
        wallet = Wallet.objects.get(pk=self.user.pk)
        self.monthly, self.purchased = wallet.monthly_balance, wallet.purchased_balance
        self.open_holds = []  # (hold, credits, free_units)
        self.free_used = self.free_held = 0

    @property
    def reserved(self):
        return sum(credits for _, credits, _ in self.open_holds)

    @property
    def available(self):
        return self.monthly + self.purchased - self.reserved

    def _take(self, amount):
        from_monthly = min(amount, self.monthly)
        self.monthly -= from_monthly
        self.purchased -= amount - from_monthly

    @rule(action=st.sampled_from([PAID, FREEBIE]), quantity=st.integers(1, 3))
    def reserve(self, action, quantity):
        action_type, unit = action
        free = 0
        if action_type == FREEBIE[0]:
            free = min(quantity, FREE_PER_MONTH - self.free_used - self.free_held)
        price = unit * (quantity - free)
        if price > self.available:
            with pytest.raises(InsufficientCredits):
                services.credits_reserve(user_id=self.user.pk, action_type=action_type, quantity=quantity)
            return
        hold = services.credits_reserve(user_id=self.user.pk, action_type=action_type, quantity=quantity)
        assert (hold.amount, hold.free_units) == (price, free)
        self.free_held += free
        self.open_holds.append((hold, price, free))

    @precondition(lambda self: self.open_holds)
    @rule(data=st.data())
    def capture(self, data):
        hold, credits, free = self.open_holds.pop(data.draw(st.integers(0, len(self.open_holds) - 1)))
        services.credits_capture(hold=hold)
        self._take(credits)
        self.free_held -= free
        self.free_used += free

    @precondition(lambda self: self.open_holds)
    @rule(data=st.data())
    def release(self, data):
        hold, _, free = self.open_holds.pop(data.draw(st.integers(0, len(self.open_holds) - 1)))
        services.credits_release(hold=hold)
        self.free_held -= free

    @rule(amount=st.integers(1, 80))
    def top_up(self, amount):
        services.credits_top_up(user_id=self.user.pk, amount=amount)
        self.purchased += amount

    @rule(amount=st.integers(-120, 120).filter(bool))
    def adjust(self, amount):
        if amount < 0 and -amount > self.available:
            with pytest.raises(InvalidAmount):
                services.credits_adjust(user_id=self.user.pk, amount=amount, reason="model")
            return
        services.credits_adjust(user_id=self.user.pk, amount=amount, reason="model")
        if amount > 0:
            self.purchased += amount
        else:
            self._take(-amount)

    @rule(amount=st.integers(1, 60))
    def take_back(self, amount):
        taken = min(amount, self.purchased, self.available)
        entry = services.credits_take_back(user_id=self.user.pk, amount=amount)
        assert (entry.amount if entry else 0) == taken
        self.purchased -= taken

    @invariant()
    def matches_model_and_ledger(self):
        wallet = Wallet.objects.get(pk=self.user.pk)
        ledger = LedgerEntry.objects.filter(wallet=wallet).aggregate(s=Sum("delta"))["s"]
        assert (wallet.monthly_balance, wallet.purchased_balance, wallet.reserved) == (
            self.monthly,
            self.purchased,
            self.reserved,
        )
        assert ledger == wallet.current_balance >= 0
        assert wallet.ledger_rows == LedgerEntry.objects.filter(wallet=wallet).count()
        assert 0 <= wallet.reserved <= wallet.current_balance


def test_ledger_state_machine(db):
    PricingRuleFactory(action_type=PAID[0], credits_per_action=PAID[1])
    PricingRuleFactory(action_type=FREEBIE[0], credits_per_action=FREEBIE[1], free_allowance_per_month=FREE_PER_MONTH)
    run_state_machine_as_test(
        WalletMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
