"""Sign-up and tokens through the API."""

import pytest
from django.contrib.auth import get_user_model

from wallets.models import Wallet

pytestmark = pytest.mark.django_db


def test_register_then_token_then_refresh(anon):
    response = anon.post(
        "/api/v1/auth/register/",
        {"username": "newbie", "email": "newbie@example.com", "password": "a-long-passphrase"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["username"] == "newbie"
    user = get_user_model().objects.get(username="newbie")
    assert Wallet.objects.get(pk=user.pk).current_balance == 50

    tokens = anon.post("/api/v1/auth/token/", {"username": "newbie", "password": "a-long-passphrase"}, format="json")
    assert tokens.status_code == 200
    assert set(tokens.json()) == {"access", "refresh"}
    refreshed = anon.post("/api/v1/auth/token/refresh", {"refresh": tokens.json()["refresh"]}, format="json")
    assert refreshed.status_code == 200 and "access" in refreshed.json()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"username": "x", "email": "x@example.com", "password": "a-long-passphrase"}, "username"),
        ({"username": "okname", "email": "not-an-email", "password": "a-long-passphrase"}, "email"),
        ({"username": "okname", "email": "ok@example.com", "password": "short"}, "password"),
        ({"username": "okname", "email": "ok@example.com", "password": "a-long-passphrase", "is_staff": True}, "is_staff"),
    ],
)
def test_register_rejects_bad_input(anon, body, field):
    response = anon.post("/api/v1/auth/register/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["errors"]
    assert not get_user_model().objects.filter(username=body["username"]).exists()


def test_register_rejects_a_taken_username(anon, user):
    response = anon.post(
        "/api/v1/auth/register/",
        {"username": user.username.upper(), "email": "other@example.com", "password": "a-long-passphrase"},
        format="json",
    )
    assert response.status_code == 400


def test_malformed_json_is_a_400(anon):
    response = anon.post("/api/v1/auth/register/", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_wrong_password_is_401_json(anon, user):
    response = anon.post("/api/v1/auth/token/", {"username": user.username, "password": "nope"}, format="json")
    assert response.status_code == 401
    assert set(response.json()) >= {"detail", "code"}


def test_demo_user_from_make_run_can_obtain_a_token(anon):
    from io import StringIO

    from django.core.management import call_command

    from wallets.management.commands.create_demo_user import DEMO_PASSWORD, DEMO_USERNAME

    out = StringIO()
    call_command("create_demo_user", stdout=out)
    call_command("create_demo_user", stdout=out)  # make run may run it again: still one user
    assert f"username={DEMO_USERNAME} password={DEMO_PASSWORD}" in out.getvalue()
    response = anon.post("/api/v1/auth/token/", {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}, format="json")
    assert response.status_code == 200 and "access" in response.json()
    assert get_user_model().objects.filter(username=DEMO_USERNAME).count() == 1
