import pytest

from pricing.models import PricingRule
from testing.clients import client_for
from testing.sequences import use

pytestmark = pytest.mark.django_db
BASE = "/api/v1/api/credits/"


def test_pricing_lists_active_rules_with_tiers(api):
    PricingRule.objects.filter(action_type="profile_posts").update(is_active=False)
    body = api.get(BASE + "pricing").json()
    assert [r["action_type"] for r in body] == ["ai_insights", "detailed_analytics", "influencer_unlock"]
    unlock = body[2]
    assert unlock == {
        "action_type": "influencer_unlock",
        "credits_per_action": 25,
        "free_allowance_per_month": 2,
        "description": "Unlock an influencer profile",
        "access_window_hours": None,
        "bulk_tiers": [{"min_quantity": 5, "discount_percent": 10}, {"min_quantity": 10, "discount_percent": 20}],
    }


def test_pricing_detail_and_unknown(api):
    assert api.get(BASE + "pricing/ai_insights").json()["credits_per_action"] == 20
    response = api.get(BASE + "pricing/teleport/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Unknown action type: teleport.", "code": "unknown_action_type"}


def test_calculate_applies_free_units_then_the_bulk_discount(make_user):
    user = make_user(balance=1000)
    use(user, "influencer_unlock", "a")  # one of two free units used
    body = client_for(user).post(
        BASE + "pricing/calculate", {"action_type": "influencer_unlock", "quantity": 11}, format="json"
    ).json()
    # 1 free unit left, 10 billable x 25 = 250, 20% tier -> 200
    assert body == {
        "action_type": "influencer_unlock",
        "quantity": 11,
        "unit_price": 25,
        "free_units_applied": 1,
        "billable_units": 10,
        "subtotal": 250,
        "discount_percent": 20,
        "discount_credits": 50,
        "total_credits": 200,
        "can_afford": True,
        "current_balance": 1000,
    }


def test_calculate_rounds_up(make_user):
    body = client_for(make_user(balance=0)).post(
        BASE + "pricing/calculate", {"action_type": "detailed_analytics", "quantity": 11}, format="json"
    ).json()
    # 5 free, 6 billable x 15 = 90, 10% -> 81
    assert (body["total_credits"], body["can_afford"]) == (81, False)


@pytest.mark.parametrize(
    "body",
    [
        {"action_type": "ai_insights", "quantity": 0},
        {"action_type": "ai_insights", "quantity": -3},
        {"action_type": "ai_insights", "quantity": 10**9},
        {"action_type": "ai_insights", "quantity": "ten"},
        {"action_type": "ai_insights"},
        {"action_type": "ai_insights", "quantity": 1, "price": 0},
        {"action_type": "../../etc", "quantity": 1},
    ],
)
def test_calculate_bad_input(api, body):
    response = api.post(BASE + "pricing/calculate", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_calculate_unknown_action_and_malformed_json(api):
    assert api.post(BASE + "pricing/calculate", {"action_type": "teleport", "quantity": 1}, format="json").status_code == 404
    response = api.post(BASE + "pricing/calculate", "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


@pytest.mark.parametrize(
    "credits, unit, total, tier", [(10, 10, 100, 10), (499, 10, 4990, 10), (500, 9, 4500, 500), (25000, 7, 175000, 10000)]
)
def test_top_up_estimate(api, credits, unit, total, tier):
    body = api.post(BASE + "top-up/estimate", {"credits": credits}, format="json").json()
    assert body == {"credits": credits, "unit_price": unit, "total": total, "currency": "usd", "tier": tier,
                    "total_display": f"{total / 100:,.2f} USD", "unit_price_display": f"{unit / 100:.2f} USD"}


@pytest.mark.parametrize("credits", [0, 9, 100_001, "lots", None])
def test_top_up_estimate_out_of_range(api, credits):
    response = api.post(BASE + "top-up/estimate", {"credits": credits}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "invalid_amount"}


@pytest.mark.parametrize("path", ["pricing", "pricing/ai_insights"])
def test_needs_a_token(anon, path):
    assert anon.get(BASE + path).status_code == 401
    assert anon.post(BASE + "pricing/calculate", {"action_type": "ai_insights", "quantity": 1}, format="json").status_code == 401
