"""The ledger's reads, called directly (the API tests go through HTTP)."""

from datetime import date, datetime, timezone

import pytest
import time_machine

from common.periods import period_of
from testing.sequences import use
from transactions import selectors

pytestmark = pytest.mark.django_db


def test_ledger_list_is_one_wallets_rows_newest_first(busy_user, make_user):
    other = make_user()
    rows = list(selectors.ledger_list(wallet_id=busy_user.pk))
    assert len(rows) == 8 and {row.wallet_id for row in rows} == {busy_user.pk}
    assert [row.created_at for row in rows] == sorted((row.created_at for row in rows), reverse=True)
    assert selectors.ledger_list(wallet_id=other.pk).count() == 1  # its own monthly grant only


@pytest.mark.parametrize(
    "q, expected",
    [
        ("ALICE.travels", 2),  # reference, case-insensitive: an unlock and an analytics
        ("insights", 1),  # action type
        ("Monthly credits", 1),  # description
        ("", 8),  # no text: every row
        ("nothing-like-this", 0),
    ],
)
def test_ledger_search(busy_user, q, expected):
    assert selectors.ledger_search(wallet_id=busy_user.pk, q=q).count() == expected


def test_ledger_recent(busy_user):
    recent = selectors.ledger_recent(wallet_id=busy_user.pk, limit=3)
    assert [row.transaction_type for row in recent] == ["top_up", "spend", "free_use"]


def test_ledger_totals(busy_user):
    assert selectors.ledger_totals(wallet_id=busy_user.pk) == {
        "total_granted": 50, "total_purchased": 40, "total_spent": 45, "total_refunded": 0, "total_expired": 0,
        "total_adjusted": 50, "free_uses": 3, "transactions_count": 8,
    }


def test_usage_month_summary_ranks_actions_by_units_then_credits(busy_user):
    assert selectors.usage_month_summary(wallet_id=busy_user.pk, period=period_of()) == {
        "total_spent": 45,
        "actions_performed": 5,
        "top_actions": ["influencer_unlock", "ai_insights", "detailed_analytics"],
        "free_allowances_used": 3,
    }


def test_usage_month_breakdown_stays_inside_its_month(make_user):
    user = make_user(balance=200)
    with time_machine.travel(datetime(2026, 1, 31, 23, 59, tzinfo=timezone.utc)):
        use(user, "ai_insights", "a")
    with time_machine.travel(datetime(2026, 2, 1, 0, 1, tzinfo=timezone.utc)):
        use(user, "profile_posts", "b", quantity=2)
    february = selectors.usage_month_breakdown(wallet_id=user.pk, period=date(2026, 2, 1))
    assert (february["period"], february["total_credits_spent"], february["total_actions"]) == ("2026-02", 20, 2)
    assert february["action_breakdown"] == {"profile_posts": {"count": 2, "credits": 20}}
    assert february["daily_usage"] == [{"date": "2026-02-01", "credits": 20, "actions": 2}]


def test_usage_spending_analytics_lists_every_month_even_empty_ones(make_user):
    user = make_user(balance=200)
    with time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=timezone.utc)):
        use(user, "ai_insights", "a")
        report = selectors.usage_spending_analytics(wallet_id=user.pk, months=3)
    assert [m["period"] for m in report["monthly"]] == ["2026-01", "2026-02", "2026-03"]
    assert [m["credits_spent"] for m in report["monthly"]] == [0, 0, 20]
    assert report["current_month"]["projected"] == round(20 / 10 * 31)
