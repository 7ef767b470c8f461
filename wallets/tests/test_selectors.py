"""Wallet reads, called directly; and the wallet pages asking the gate's access table."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pricing.exceptions import UnknownAction
from testing.clients import client_for
from wallets import selectors
from wallets.models import Access, Wallet
from wallets.services import wallet_set_status

pytestmark = pytest.mark.django_db


def wallet_of(user) -> Wallet:
    return Wallet.objects.select_related("package").get(pk=user.pk)


class TestCreditsCheck:
    def test_a_free_unit_first(self, make_user):
        decision = selectors.credits_check(wallet=wallet_of(make_user(balance=0)), action_type="influencer_unlock")
        assert (decision.can_perform, decision.credits_required, decision.free_allowance_remaining) == (True, 0, 2)
        assert decision.will_use_free_allowance

    def test_missing_credits(self, make_user):
        decision = selectors.credits_check(wallet=wallet_of(make_user(balance=5)), action_type="ai_insights")
        assert (decision.can_perform, decision.reason, decision.credits_required, decision.credits_needed) == (
            False, "insufficient_credits", 20, 15,
        )

    def test_bulk_quantity_after_free_units(self, make_user):
        decision = selectors.credits_check(
            wallet=wallet_of(make_user(balance=1000)), action_type="influencer_unlock", quantity=7
        )
        assert decision.credits_required == 113

    def test_locked_wallet(self, user):
        wallet_set_status(user_id=user.pk, status="locked")
        decision = selectors.credits_check(wallet=wallet_of(user), action_type="ai_insights")
        assert (decision.can_perform, decision.reason) == (False, "wallet_locked")

    def test_already_paid_costs_nothing(self, make_user):
        wallet = wallet_of(make_user(balance=0))
        decision = selectors.credits_check(wallet=wallet, action_type="ai_insights", already_paid=True)
        assert (decision.can_perform, decision.reason, decision.credits_required) == (True, "already_paid", 0)

    def test_no_wallet_is_a_decision_not_an_error(self, db):
        decision = selectors.credits_check(wallet=None, action_type="ai_insights")
        assert (decision.can_perform, decision.reason) == (False, "wallet_not_found")

    def test_unknown_action_is_an_error_wallet_or_not(self, user):
        for wallet in (wallet_of(user), None):
            with pytest.raises(UnknownAction):
                selectors.credits_check(wallet=wallet, action_type="no_such_action")

    def test_asks_without_writing(self, make_user):
        wallet = wallet_of(make_user(balance=100))
        with CaptureQueriesContext(connection) as queries:
            selectors.credits_check(wallet=wallet, action_type="influencer_unlock")
        # the rule, its tiers, this month's allowance use: reads only
        assert [q["sql"].split()[0] for q in queries.captured_queries] == ["SELECT"] * 3


def test_allowance_summary_after_a_known_month(busy_user):
    summary = selectors.allowance_summary(wallet_id=busy_user.pk)
    assert {action: (a["used_this_month"], a["remaining"]) for action, a in summary.items()} == {
        "ai_insights": (0, 0), "detailed_analytics": (1, 4), "influencer_unlock": (2, 0), "profile_posts": (0, 0),
    }


def test_circulation_summary_counts_every_wallet(busy_user, make_user):
    make_user(balance=10)
    stats = selectors.circulation_summary(period=busy_user.wallet.billing_cycle_start)
    assert stats["credits_in_circulation"] == 95 + 10
    assert stats["wallets_by_status"] == {"active": 2, "locked": 0}
    assert stats["spent_this_month"] == 45


def test_can_perform_asks_the_gates_own_access_table(make_user):
    user = make_user(balance=0)
    Access.objects.create(wallet_id=user.pk, action_type="ai_insights", reference="anything")
    api = client_for(user)
    paid = api.get("/api/v1/api/credits/can-perform/ai_insights", {"username": "  @Anything "}).json()
    assert (paid["can_perform"], paid["already_paid"], paid["reason"]) == (True, True, "already_paid")
    other = api.get("/api/v1/api/credits/can-perform/ai_insights", {"username": "else"}).json()
    assert (other["can_perform"], other["already_paid"]) == (False, False)


def test_dashboard_counts_the_wallets_unlocked_profiles(make_user):
    user, other = make_user(), make_user()
    for wallet, action, reference in [(user, "influencer_unlock", "a"), (user, "influencer_unlock", "b"),
                                      (user, "ai_insights", "c"), (other, "influencer_unlock", "d")]:
        Access.objects.create(wallet_id=wallet.pk, action_type=action, reference=reference)
    Access.objects.create(wallet_id=user.pk, action_type="influencer_unlock", reference="gone",
                          expires_at=timezone.now() - timedelta(hours=1))
    body = client_for(user).get("/api/v1/api/credits/dashboard").json()
    assert body["unlocked_influencers_count"] == 2
