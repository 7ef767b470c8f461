"""Random sequences of every balance-changing service, with time moving on, against a model of the
wallet's grants: reserve / capture / release, top-up, adjust, refund, staff grants that expire, the
month's reset. After every step the database matches the model grant by grant (so spending followed
the order and never took an expired grant's credits), and: wallet totals == sum of the grants ==
ledger sum == sum of allocations, never negative; each ledger row's allocations sum to its delta;
finance's month reconciles per source and its outstanding credits are the grants'."""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from common.periods import next_period, period_of, period_start
from pricing.exceptions import InvalidAmount
from testing.factories import PricingRuleFactory, UserFactory
from transactions.finance import finance_month_report
from transactions.models import LedgerAllocation, LedgerEntry
from wallets import services
from wallets.exceptions import InsufficientCredits
from wallets.models import Grant, Wallet
from wallets.verification import ledger_problems

pytestmark = pytest.mark.django_db

PAID = ("sm_paid", 20)
START = datetime(2026, 1, 30, 12, tzinfo=timezone.utc)
NEVER = datetime.max.replace(tzinfo=timezone.utc)
# The SPEC's default priorities (lower spends first), the model's own: the code's are in SQL.
DEFAULT_PRIORITY = {"promo": 0, "trial": 0, "monthly": 10, "rollover": 10, "compensation": 20, "purchase": 30}


@dataclass
class ModelGrant:
    id: int
    source: str
    priority: int
    expires_at: datetime | None
    remaining: int
    held: int = 0

    def order(self):
        return (self.priority, self.expires_at or NEVER, self.id)


class GrantMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.now = START
        with self.clock():
            self.user = UserFactory()
        self.package = Wallet.objects.get(pk=self.user.pk).package
        self.grants = {g.pk: ModelGrant(g.pk, g.source, g.priority, g.expires_at, g.remaining)
                       for g in Grant.objects.filter(wallet_id=self.user.pk)}
        self.period = period_of(self.now)
        self.open_holds = []  # (hold, [(grant id, credits)])
        self.references = 0

    def clock(self):
        return time_machine.travel(self.now, tick=False)

    def _new_grant(self, source, amount, expires_at=None):
        grant = Grant.objects.filter(wallet_id=self.user.pk).order_by("-id").first()
        assert (grant.source, grant.amount, grant.expires_at) == (source, amount, expires_at)
        self.grants[grant.pk] = ModelGrant(grant.pk, source, DEFAULT_PRIORITY[source], expires_at, amount)

    def spendable(self, sources=None):
        return sorted(
            (g for g in self.grants.values()
             if g.remaining and (g.expires_at is None or g.expires_at > self.now) and (sources is None or g.source in sources)),
            key=ModelGrant.order,
        )

    @property
    def available(self):
        return sum(g.remaining for g in self.spendable())

    def _take(self, amount, grants, *, hold=False):
        taken = []
        for grant in grants:
            credits = min(grant.remaining, amount)
            grant.remaining -= credits
            grant.held += credits if hold else 0
            taken.append((grant.id, credits))
            amount -= credits
            if not amount:
                return taken
        raise AssertionError("the model took more than it had")

    def _expire_due(self):
        for g in self.grants.values():
            if g.expires_at is not None and g.expires_at <= self.now:
                g.remaining = 0

    def _return(self, taken):
        for grant_id, credits in taken:
            self.grants[grant_id].held -= credits
            self.grants[grant_id].remaining += credits
        if any(self.grants[grant_id].expires_at and self.grants[grant_id].expires_at <= self.now for grant_id, _ in taken):
            self._expire_due()  # credits a released hold gives back to an expired grant expire at once

    def _settle_due(self):
        """What a read of the wallet settles on the spot: the month's reset, holds past their TTL,
        then expired grants."""
        period = period_of(self.now)
        if period > self.period:
            last = [g for g in self.grants.values() if g.source == "monthly" and g.expires_at == period_start(period)]
            roll = min(self.package.rollover_cap, sum(g.remaining for g in last)) if self.package.monthly_credits else 0
            for g in self.grants.values():
                if g.source in ("monthly", "rollover") and g.expires_at <= period_start(period):
                    g.remaining = 0
            self.period = period
            end = period_start(next_period(period))
            expected = [("rollover", roll, end)] if roll else []
            expected += [("monthly", self.package.monthly_credits, end)] if self.package.monthly_credits else []
            made = Grant.objects.filter(wallet_id=self.user.pk, idempotency_key__in=[f"rollover:{period:%Y-%m}", f"monthly:{period:%Y-%m}"]).order_by("id")
            assert [(g.source, g.amount, g.expires_at) for g in made] == expected
            for g in made:
                self.grants[g.pk] = ModelGrant(g.pk, g.source, g.priority, g.expires_at, g.amount)
        for hold, taken in [(h, t) for h, t in self.open_holds if h.expires_at <= self.now]:
            self.open_holds.remove((hold, taken))
            for grant_id, credits in taken:
                self.grants[grant_id].held -= credits
                self.grants[grant_id].remaining += credits
        self._expire_due()

    def read(self):
        with self.clock():
            services.wallet_refresh(user_id=self.user.pk)
        self._settle_due()

    @rule(quantity=st.integers(1, 3))
    def reserve(self, quantity):
        self.read()
        price = PAID[1] * quantity
        if price > self.available:
            with self.clock(), pytest.raises(InsufficientCredits):
                services.credits_reserve(user_id=self.user.pk, action_type=PAID[0], quantity=quantity)
            return
        with self.clock():
            hold = services.credits_reserve(user_id=self.user.pk, action_type=PAID[0], quantity=quantity)
        self.open_holds.append((hold, self._take(price, self.spendable(), hold=True)))

    @precondition(lambda self: self.open_holds)
    @rule(data=st.data())
    def capture(self, data):
        hold, taken = self.open_holds.pop(data.draw(st.integers(0, len(self.open_holds) - 1)))
        with self.clock():
            services.credits_capture(hold=hold)
        for grant_id, credits in taken:
            self.grants[grant_id].held -= credits

    @rule()
    def reserve_in_one_call(self):
        """The gate's reserve (`purchase_reserve`: one database call, which settles what is due first)."""
        self._settle_due()  # the model of what the call settles before it reserves
        self.references += 1
        call = dict(user_id=self.user.pk, action_type=PAID[0], reference=f"r{self.references}", price=PAID[1])
        if PAID[1] > self.available:
            with self.clock(), pytest.raises(InsufficientCredits):
                services.purchase_reserve(**call)
            return
        with self.clock():
            reservation = services.purchase_reserve(**call)
        assert reservation.outcome == "reserved"
        self.open_holds.append((reservation.hold, self._take(PAID[1], self.spendable(), hold=True)))

    @precondition(lambda self: self.open_holds)
    @rule(data=st.data())
    def capture_in_one_call(self, data):
        """The gate's capture (`purchase_capture`), of a hold either reserve made."""
        hold, taken = self.open_holds.pop(data.draw(st.integers(0, len(self.open_holds) - 1)))
        with self.clock():
            capture = services.purchase_capture(hold=hold)
        assert (capture.outcome, capture.charged) == ("captured", hold.amount)
        for grant_id, credits in taken:
            self.grants[grant_id].held -= credits

    @precondition(lambda self: self.open_holds)
    @rule(data=st.data())
    def release(self, data):
        hold, taken = self.open_holds.pop(data.draw(st.integers(0, len(self.open_holds) - 1)))
        with self.clock():
            services.credits_release(hold=hold)
        self._return(taken)

    @rule(amount=st.integers(1, 80))
    def top_up(self, amount):
        with self.clock():
            services.credits_top_up(user_id=self.user.pk, amount=amount)
        self._new_grant("purchase", amount)

    @rule(amount=st.integers(-120, 120).filter(bool))
    def adjust(self, amount):
        self.read()
        if amount < 0 and -amount > self.available:
            with self.clock(), pytest.raises(InvalidAmount):
                services.credits_adjust(user_id=self.user.pk, amount=amount, reason="model")
            return
        with self.clock():
            services.credits_adjust(user_id=self.user.pk, amount=amount, reason="model")
        if amount > 0:
            self._new_grant("purchase", amount)
        else:
            self._take(-amount, self.spendable())

    @rule(amount=st.integers(1, 60))
    def take_back(self, amount):
        self.read()
        purchases = self.spendable({"purchase"})
        taken = min(amount, sum(g.remaining for g in purchases))
        with self.clock():
            entry = services.credits_take_back(user_id=self.user.pk, amount=amount)
        assert (entry.amount if entry else 0) == taken
        if taken:
            self._take(taken, purchases)

    @rule(amount=st.integers(1, 50), minutes=st.integers(1, 3 * 24 * 60), source=st.sampled_from(["promo", "trial", "compensation"]))
    def staff_grant(self, amount, minutes, source):
        expires_at = self.now + timedelta(minutes=minutes)
        with self.clock():
            outcome = services.credits_grant(user_ids=[self.user.pk], amount=amount, reason="model", source=source,
                                             expires_at=expires_at)
        assert outcome.wallets == 1
        self._new_grant(source, amount, expires_at)

    @rule(minutes=st.sampled_from([1, 3, 60, 24 * 60, 9 * 24 * 60, 20 * 24 * 60]))
    def time_passes(self, minutes):
        self.now += timedelta(minutes=minutes)
        self.read()

    @invariant()
    def matches_model_and_ledger(self):
        wallet = Wallet.objects.get(pk=self.user.pk)
        db = {g.pk: (g.remaining, g.held) for g in Grant.objects.filter(wallet=wallet)}
        assert db == {g.id: (g.remaining, g.held) for g in self.grants.values()}
        ledger = LedgerEntry.objects.filter(wallet=wallet).aggregate(s=Sum("delta"))["s"]
        allocated = LedgerAllocation.objects.filter(wallet=wallet).aggregate(s=Sum("amount"))["s"]
        total = sum(g.remaining + g.held for g in self.grants.values())
        assert ledger == allocated == wallet.current_balance == total >= 0
        assert wallet.reserved == sum(g.held for g in self.grants.values())
        assert 0 <= wallet.reserved <= wallet.current_balance
        with self.clock():
            assert ledger_problems(stale_holds=False) == []
            report = finance_month_report(period=period_of(self.now))
        assert report.reconciles  # over every wallet the examples made so far
        by_source = {}
        for g in self.grants.values():
            by_source[g.source] = by_source.get(g.source, 0) + g.remaining + g.held
        outstanding = LedgerAllocation.objects.filter(wallet=wallet).values("source").annotate(s=Sum("amount"))
        assert {row["source"]: row["s"] for row in outstanding} == by_source


def test_grant_state_machine(db):
    PricingRuleFactory(action_type=PAID[0], credits_per_action=PAID[1])
    run_state_machine_as_test(
        GrantMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
