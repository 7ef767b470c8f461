import pytest
from django.db import connection

from wallets.models import Access
from testing.clients import client_for
from testing.factories import user_without_wallet
from testing.sequences import bulk_history
from transactions.models import LedgerEntry
from wallets.exceptions import WALLET_NOT_FOUND
from wallets.services import wallet_set_status

pytestmark = pytest.mark.django_db
BASE = "/api/v1/api/credits/"


def get(client, path, **params):
    return client.get(BASE + path, params)


def test_balance(busy_user):
    body = get(client_for(busy_user), "balance").json()
    assert body == {
        "current_balance": 95,
        "monthly_allowance": 50,
        "package_name": "Free",
        "billing_cycle_start": body["billing_cycle_start"],
        "wallet_status": "active",
        "monthly_credits_balance": 5,
        "purchased_balance": 90,
        "bonus_balance": 0,
        "reserved": 0,
        "available": 95,
        "next_reset": body["next_reset"],
        "expiring_soon": body["expiring_soon"],
    }
    assert body["billing_cycle_start"].endswith("-01") and body["next_reset"].endswith("-01")
    # The month's grant (5 left) is the next to expire, at the reset; shown in its last 7 days only.
    assert body["expiring_soon"] in (None, {"credits": 5, "expires_at": f"{body['next_reset']}T00:00:00Z"})


def test_both_slash_forms(busy_user):
    client = client_for(busy_user)
    assert client.get(BASE + "balance").status_code == client.get(BASE + "balance/").status_code == 200


def test_wallet_summary_lifetime_totals(busy_user):
    body = get(client_for(busy_user), "wallet/summary").json()
    assert body["wallet"]["current_balance"] == 95
    assert body["lifetime"] == {
        "total_granted": 50,
        "total_purchased": 40,
        "total_spent": 45,
        "total_refunded": 0,
        "total_expired": 0,
        "total_adjusted": 50,
        "free_uses": 3,
        "transactions_count": 8,
    }


def test_dashboard_has_exactly_the_guides_keys(busy_user):
    Access.objects.create(wallet_id=busy_user.pk, action_type="influencer_unlock", reference="alice.travels")
    Access.objects.create(wallet_id=busy_user.pk, action_type="influencer_unlock", reference="bob_fitness")
    Access.objects.create(wallet_id=busy_user.pk, action_type="detailed_analytics", reference="dev_dan")
    body = get(client_for(busy_user), "dashboard").json()
    assert set(body) == {"wallet", "recent_transactions", "monthly_usage", "pricing_rules", "unlocked_influencers_count"}
    assert set(body["wallet"]) == {"current_balance", "monthly_allowance", "package_name", "billing_cycle_start", "wallet_status"}
    assert body["wallet"]["current_balance"] == 95 and body["wallet"]["package_name"] == "Free"
    assert body["monthly_usage"] == {
        "total_spent": 45,
        "actions_performed": 5,
        "top_actions": ["influencer_unlock", "ai_insights", "detailed_analytics"],
        "free_allowances_used": 3,
    }
    recent = body["recent_transactions"]
    assert len(recent) == 8 and {"amount", "action_type", "created_at", "description"} <= set(recent[0])
    assert recent[0]["transaction_type"] == "top_up" and recent[1]["description"] == "Credits spent for ai_insights"
    assert {r["action_type"] for r in body["pricing_rules"]} == {
        "influencer_unlock", "detailed_analytics", "ai_insights", "profile_posts",
    }
    assert set(body["pricing_rules"][0]) == {"action_type", "credits_per_action", "free_allowance_per_month"}
    assert body["unlocked_influencers_count"] == 2


def test_wallet_create_is_idempotent(user, make_user):
    client = client_for(user)
    response = client.post(BASE + "wallet/create", {}, format="json")
    assert response.status_code == 200 and response.json()["current_balance"] == 50
    other = user_without_wallet()
    other_client = client_for(other)
    assert get(other_client, "balance").json() == {"detail": WALLET_NOT_FOUND, "code": "wallet_not_found"}
    created = other_client.post(BASE + "wallet/create", format="json")
    assert created.status_code == 201 and created.json()["current_balance"] == 50
    assert other_client.post(BASE + "wallet/create", format="json").status_code == 200


def test_wallet_create_refuses_fields(user):
    response = client_for(user).post(BASE + "wallet/create", {"balance": 1000000}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"


class TestCanPerform:
    def test_free_allowance(self, user):
        body = get(client_for(user), "can-perform/influencer_unlock").json()
        assert body == {
            "action_type": "influencer_unlock",
            "can_perform": True,
            "credits_required": 0,
            "current_balance": 50,
            "free_allowance_remaining": 2,
            "will_use_free_allowance": True,
            "reason": None,
            "credits_needed": 0,
            "quantity": 1,
            "already_paid": False,
        }

    def test_insufficient(self, make_user):
        user = make_user(balance=5)
        body = get(client_for(user), "can-perform/ai_insights").json()
        assert (body["can_perform"], body["reason"], body["credits_required"], body["credits_needed"]) == (
            False, "insufficient_credits", 20, 15,
        )

    def test_bulk_quantity(self, make_user):
        body = get(client_for(make_user(balance=1000)), "can-perform/influencer_unlock", quantity=7).json()
        assert (body["credits_required"], body["free_allowance_remaining"]) == (113, 2)

    def test_already_paid_username(self, make_user):
        user = make_user(balance=0)
        Access.objects.create(wallet_id=user.pk, action_type="ai_insights", reference="dev_dan")
        body = get(client_for(user), "can-perform/ai_insights", username="@Dev_Dan").json()
        assert (body["can_perform"], body["already_paid"], body["credits_required"], body["reason"]) == (
            True, True, 0, "already_paid",
        )
        assert get(client_for(user), "can-perform/ai_insights", username="eco_emma").json()["can_perform"] is False

    def test_locked(self, user):
        wallet_set_status(user_id=user.pk, status="locked")
        body = get(client_for(user), "can-perform/ai_insights").json()
        assert (body["can_perform"], body["reason"]) == (False, "wallet_locked")

    @pytest.mark.parametrize("params", [{"quantity": 0}, {"quantity": "many"}, {"quantity": 10**9}, {"bogus": 1}])
    def test_bad_input(self, user, params):
        response = get(client_for(user), "can-perform/ai_insights", **params)
        assert response.status_code == 400 and response.json()["code"] == "invalid"

    def test_unknown_action(self, user):
        response = get(client_for(user), "can-perform/teleport")
        assert response.status_code == 404 and response.json()["code"] == "unknown_action_type"

    def test_asking_changes_nothing(self, user):
        rows = LedgerEntry.objects.count()
        get(client_for(user), "can-perform/influencer_unlock")
        assert LedgerEntry.objects.count() == rows
        assert get(client_for(user), "allowances").json()["influencer_unlock"]["remaining"] == 2


def test_allowances_exact_structure(busy_user):
    body = get(client_for(busy_user), "allowances").json()
    assert set(body) == {"influencer_unlock", "detailed_analytics", "ai_insights", "profile_posts"}
    assert body["influencer_unlock"] == {
        "monthly_allowance": 2, "used_this_month": 2, "remaining": 0, "next_reset": body["influencer_unlock"]["next_reset"],
    }
    assert (body["detailed_analytics"]["used_this_month"], body["detailed_analytics"]["remaining"]) == (1, 4)


def test_system_stats_for_users_and_staff(busy_user, make_user):
    plain = get(client_for(busy_user), "system/stats").json()
    assert "staff" not in plain
    assert set(plain) == {"server_time", "current_period", "next_reset", "active_action_types"}
    staff = get(client_for(make_user(is_staff=True)), "system/stats").json()
    assert staff["staff"]["wallets_by_status"]["active"] == 2
    assert staff["staff"]["credits_in_circulation"] == 95 + 50
    assert staff["staff"]["spent_this_month"] == 45
    assert staff["staff"]["top_actions_this_month"][0] == {"action_type": "influencer_unlock", "count": 3, "credits": 25}


@pytest.mark.parametrize(
    "path", ["balance", "wallet/summary", "dashboard", "can-perform/ai_insights", "allowances", "system/stats"]
)
def test_needs_a_token(anon, path):
    response = anon.get(BASE + path)
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_second_user_sees_nothing_of_the_first(busy_user, make_user):
    other = client_for(make_user())
    assert get(other, "balance").json()["current_balance"] == 50
    assert get(other, "wallet/summary").json()["lifetime"]["total_spent"] == 0
    dashboard = get(other, "dashboard").json()
    assert dashboard["monthly_usage"]["total_spent"] == 0 and len(dashboard["recent_transactions"]) == 1
    assert get(other, "allowances").json()["influencer_unlock"]["used_this_month"] == 0


def test_hot_reads_have_fixed_query_counts(busy_user, django_assert_max_num_queries):
    client = client_for(busy_user)
    for path, budget in [("balance", 4), ("dashboard", 9), ("can-perform/influencer_unlock", 7)]:
        with django_assert_max_num_queries(budget):
            assert get(client, path).status_code == 200


def test_dashboard_query_count_does_not_grow_with_history(make_user):
    from django.test.utils import CaptureQueriesContext

    counts = []
    for rows in (10, 1000):
        user = make_user(balance=100)
        bulk_history(user, rows)
        client = client_for(user)
        with CaptureQueriesContext(connection) as queries:
            assert get(client, "dashboard").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_packages_lists_every_plan_with_its_price_and_the_current_one(api, user):
    body = api.get("/api/v1/api/credits/packages").json()
    assert [(p["name"], p["price_cents"], p["monthly_credits"]) for p in body] == [
        ("Free", 0, 50), ("Starter", 900, 100), ("Professional", 1500, 100), ("Business", 4900, 500),
        ("Enterprise", 14900, 2000),
    ]
    assert [p["name"] for p in body if p["current"]] == ["Free"]
    assert {p["currency"] for p in body} == {"usd"}
