from datetime import datetime, timezone

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from testing.clients import client_for
from testing.sequences import bulk_history, use
from wallets.services import credits_top_up

pytestmark = pytest.mark.django_db
BASE = "/api/v1/api/credits/"


def get(client, path, **params):
    return client.get(BASE + path, params)


class TestTransactions:
    def test_paginated_newest_first(self, busy_user):
        body = get(client_for(busy_user), "transactions").json()
        assert set(body) == {"count", "next", "previous", "results"}
        assert body["count"] == 8
        first = body["results"][0]
        assert set(first) == {
            "id", "transaction_type", "amount", "delta", "balance_after", "action_type", "quantity",
            "reference", "description", "created_at",
        }
        assert (first["transaction_type"], first["amount"], first["delta"], first["balance_after"]) == ("top_up", 40, 40, 95)

    @pytest.mark.parametrize(
        "params, expected",
        [
            ({"transaction_type": "spend"}, 2),
            ({"transaction_type": "spend,free_use"}, 5),
            ({"action_type": "influencer_unlock"}, 3),
            ({"min_amount": 25}, 4),  # grant 50, adjustment 50, unlock 25, top-up 40
            ({"max_amount": 0}, 3),
            ({"min_amount": 20, "max_amount": 30}, 2),
        ],
    )
    def test_filters(self, busy_user, params, expected):
        assert get(client_for(busy_user), "transactions", **params).json()["count"] == expected

    def test_date_filters(self, make_user):
        user = make_user(balance=100)
        with time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=timezone.utc)):
            credits_top_up(user_id=user.pk, amount=5)
        with time_machine.travel(datetime(2026, 4, 10, 12, tzinfo=timezone.utc)):
            credits_top_up(user_id=user.pk, amount=6)
        client = client_for(user)
        march = get(client, "transactions", created_after="2026-03-01", created_before="2026-04-01").json()
        assert [r["amount"] for r in march["results"]] == [5]
        since_april = get(client, "transactions", created_after="2026-04-01T00:00:00Z", transaction_type="top_up").json()
        assert [r["amount"] for r in since_april["results"]] == [6]

    def test_ordering_and_page_size_cap(self, busy_user):
        client = client_for(busy_user)
        amounts = [r["amount"] for r in get(client, "transactions", ordering="amount").json()["results"]]
        assert amounts == sorted(amounts)
        page = get(client, "transactions", page_size=3, page=2).json()
        assert len(page["results"]) == 3 and page["next"] and page["previous"]
        for _ in range(120):
            credits_top_up(user_id=busy_user.pk, amount=1)
        assert len(get(client, "transactions", page_size=1000).json()["results"]) == 100

    @pytest.mark.parametrize(
        "params",
        [
            {"transaction_type": "teleport"},
            {"min_amount": "lots"},
            {"min_amount": -1},
            {"max_amount": 10**12},
            {"created_after": "yesterday"},
        ],
    )
    def test_bad_filters_are_400(self, busy_user, params):
        response = get(client_for(busy_user), "transactions", **params)
        assert response.status_code == 400
        assert response.json()["code"] == "invalid"

    def test_out_of_range_page_is_404_json(self, busy_user):
        response = get(client_for(busy_user), "transactions", page=99)
        assert response.status_code == 404 and response.json()["code"] == "not_found"


class TestSearch:
    def test_over_description_action_and_reference(self, busy_user):
        client = client_for(busy_user)
        assert get(client, "transactions/search", q="chef").json()["count"] == 1  # reference
        assert get(client, "transactions/search", q="INSIGHTS").json()["count"] == 1  # action, any case
        assert get(client, "transactions/search", q="Top-up").json()["count"] == 1  # description
        assert get(client, "transactions/search", q="alice", transaction_type="free_use").json()["count"] == 2
        assert get(client, "transactions/search").json()["count"] == 8

    def test_query_too_long(self, busy_user):
        response = get(client_for(busy_user), "transactions/search", q="x" * 101)
        assert response.status_code == 400


class TestMonthlyUsage:
    def test_exact_structure_and_numbers(self, busy_user):
        body = get(client_for(busy_user), "usage/monthly").json()
        assert set(body) == {"period", "total_credits_spent", "total_actions", "free_allowances_used", "action_breakdown", "daily_usage"}
        assert (body["total_credits_spent"], body["total_actions"], body["free_allowances_used"]) == (45, 5, 3)
        assert body["action_breakdown"] == {
            "ai_insights": {"count": 1, "credits": 20},
            "detailed_analytics": {"count": 1, "credits": 0},
            "influencer_unlock": {"count": 3, "credits": 25},
        }
        assert body["daily_usage"] == [{"date": datetime.now(timezone.utc).date().isoformat(), "credits": 45, "actions": 5}]

    def test_other_period_and_days(self, make_user):
        user = make_user(balance=200)
        with time_machine.travel(datetime(2026, 1, 31, 23, 59, tzinfo=timezone.utc)):
            use(user, "ai_insights", "a")
        with time_machine.travel(datetime(2026, 2, 1, 0, 1, tzinfo=timezone.utc)):
            use(user, "ai_insights", "b")
        with time_machine.travel(datetime(2026, 2, 3, 8, tzinfo=timezone.utc)):
            use(user, "profile_posts", "c")
            use(user, "profile_posts", "d")
        client = client_for(user)
        january = get(client, "usage/monthly", period="2026-01").json()
        assert (january["period"], january["total_credits_spent"]) == ("2026-01", 20)
        february = get(client, "usage/monthly", period="2026-02").json()
        assert february["daily_usage"] == [
            {"date": "2026-02-01", "credits": 20, "actions": 1},
            {"date": "2026-02-03", "credits": 20, "actions": 2},
        ]

    @pytest.mark.parametrize("period", ["2026-13", "2026-1", "26-01", "january", "1999-12", "9999-01", "2026-00"])
    def test_bad_period(self, user, period):
        response = get(client_for(user), "usage/monthly", period=period)
        assert response.status_code == 400 and response.json()["code"] == "invalid_period"


class TestSpendingAnalytics:
    def test_months_and_projection(self, make_user):
        user = make_user(balance=500)
        with time_machine.travel(datetime(2026, 9, 5, 12, tzinfo=timezone.utc)):
            use(user, "ai_insights", "a")
        with time_machine.travel(datetime(2026, 11, 10, 12, tzinfo=timezone.utc), tick=False):
            use(user, "ai_insights", "b")
            use(user, "profile_posts", "c")
            body = get(client_for(user), "analytics/spending", months=3).json()
        assert [m["period"] for m in body["monthly"]] == ["2026-09", "2026-10", "2026-11"]
        assert [m["credits_spent"] for m in body["monthly"]] == [20, 0, 30]
        assert body["by_action"] == [
            {"action_type": "ai_insights", "count": 2, "credits": 40},
            {"action_type": "profile_posts", "count": 1, "credits": 10},
        ]
        assert body["current_month"] == {
            "period": "2026-11", "spent_so_far": 30, "projected": 90, "days_elapsed": 10, "days_in_month": 30,
        }
        assert body["total_spent"] == 50
        assert body["average_daily_spend"] == round(50 / 71, 2)  # Sep 1 .. Nov 10

    @pytest.mark.parametrize("months", [0, 25, "six", -1])
    def test_bad_months(self, user, months):
        assert get(client_for(user), "analytics/spending", months=months).status_code == 400


@pytest.mark.parametrize("path", ["transactions", "transactions/search", "usage/monthly", "analytics/spending"])
def test_needs_a_token(anon, path):
    assert get(anon, path).status_code == 401


def test_second_user_sees_nothing_of_the_first(busy_user, make_user):
    other = client_for(make_user())
    assert get(other, "transactions").json()["count"] == 1
    assert get(other, "transactions/search", q="alice").json()["count"] == 0
    assert get(other, "usage/monthly").json()["total_actions"] == 0
    assert get(other, "analytics/spending").json()["total_spent"] == 0


@pytest.mark.parametrize("path", ["transactions", "usage/monthly", "analytics/spending", "transactions/search?q=bulk"])
def test_query_count_does_not_grow_with_history(make_user, path):
    counts = []
    for rows in (10, 1000):
        user = make_user(balance=100)
        bulk_history(user, rows)
        with CaptureQueriesContext(connection) as queries:
            assert client_for(user).get(BASE + path).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_query_budgets(busy_user, django_assert_max_num_queries):
    client = client_for(busy_user)
    with django_assert_max_num_queries(4):
        get(client, "transactions")
    with django_assert_max_num_queries(4):
        get(client, "usage/monthly")
