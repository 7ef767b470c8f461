"""Every endpoint x {anonymous, user, other user, staff}: the expected status, and no cross-user reads."""

import pytest

from payments.models import TopUp
from testing.clients import client_for
from testing.sequences import known_month
from wallets.models import Wallet

pytestmark = pytest.mark.django_db
C = "/api/v1/api/credits/"

# (method, path, body): every authenticated endpoint answers 401 anonymously and 2xx to a user.
USER_ENDPOINTS = [
    ("get", C + "balance", None),
    ("get", C + "wallet/summary", None),
    ("get", C + "dashboard", None),
    ("post", C + "wallet/create", {}),
    ("get", C + "transactions", None),
    ("get", C + "transactions/search?q=a", None),
    ("get", C + "transactions/export.csv", None),
    ("get", C + "usage/monthly", None),
    ("get", C + "analytics/spending", None),
    ("get", C + "can-perform/ai_insights", None),
    ("get", C + "pricing", None),
    ("get", C + "pricing/ai_insights", None),
    ("post", C + "pricing/calculate", {"action_type": "ai_insights", "quantity": 2}),
    ("get", C + "allowances", None),
    ("get", C + "system/stats", None),
    ("post", C + "top-up/estimate", {"credits": 100}),
    ("get", C + "top-up/history", None),
    ("get", C + "alerts", None),
    ("patch", C + "alerts", {"low_balance_threshold": 30}),
    ("get", C + "notifications", None),
    ("post", C + "notifications/read", {}),
    ("get", "/api/v1/profile/dev_dan", None),
    ("get", "/api/v1/profile/dev_dan/analytics", None),
    ("get", "/api/v1/profile/dev_dan/ai-insights", None),
    ("get", "/api/v1/profile/dev_dan/posts", None),
]
PUBLIC = [("get", "/api/v1/health/"), ("get", "/api/v1/schema/"), ("get", "/api/v1/docs/")]


def call(client, method, path, body):
    return getattr(client, method)(path, body, format="json") if method in ("post", "patch") else client.get(path)


@pytest.mark.parametrize("method, path, body", USER_ENDPOINTS)
def test_anonymous_is_401(anon, method, path, body):
    response = call(anon, method, path, body)
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("method, path, body", USER_ENDPOINTS)
@pytest.mark.parametrize("who", ["user", "staff"])
def test_users_and_staff_are_served(make_user, method, path, body, who):
    user = make_user(balance=200, is_staff=(who == "staff"))
    assert call(client_for(user), method, path, body).status_code in (200, 201)


@pytest.mark.parametrize("method, path", PUBLIC)
def test_public_endpoints(anon, method, path):
    assert anon.get(path).status_code == 200


def test_staff_only_block_and_admin(make_user, client):
    user = make_user()
    assert "staff" not in client_for(user).get(C + "system/stats").json()
    client.force_login(user)
    assert client.get("/admin/wallets/wallet/").status_code == 302


@pytest.mark.parametrize("method, path, body", [e for e in USER_ENDPOINTS if e[0] == "get" and "profile" not in e[1]])
def test_other_user_sees_none_of_the_first_users_data(make_user, method, path, body):
    """BOLA: the same URL for another user answers about that user only."""
    first, second = make_user(balance=100, username="first_user"), make_user(username="second_user")
    known_month(first)
    TopUp.objects.create(wallet_id=first.pk, credits=999, amount_cents=9990, provider_reference="cs_secret_first")
    response = client_for(second).get(path)
    text = (b"".join(response.streaming_content) if response.streaming else response.content).decode()
    for secret in ("alice.travels", "chef.carla", "dev_dan", "cs_secret_first", "first_user"):
        assert secret not in text, (path, secret)


@pytest.mark.parametrize(
    "path, body",
    [
        (C + "wallet/create", {"balance": 10**6}),
        (C + "wallet/create", {"user": 1, "is_staff": True}),
        (C + "pricing/calculate", {"action_type": "ai_insights", "quantity": 1, "credits_per_action": 0}),
        (C + "top-up/estimate", {"credits": 100, "unit_price": 0}),
        ("/api/v1/auth/register/", {"username": "mass", "email": "m@example.com", "password": "long-enough-pw", "is_staff": True}),
    ],
)
def test_mass_assignment_is_refused(make_user, path, body):
    user = make_user()
    response = client_for(user).post(path, body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert Wallet.objects.get(pk=user.pk).current_balance == 50
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="mass").exists()
