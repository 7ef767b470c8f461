"""Every way a token can be wrong answers 401 with one readable sentence and a stable code."""

from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

pytestmark = pytest.mark.django_db
BALANCE = "/api/v1/api/credits/balance"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"


def assert_readable(response, status: int, code: str, detail: str | None = None):
    body = response.json()
    assert response.status_code == status, body
    assert body["code"] == code, body
    assert set(body) == {"detail", "code"}, body
    text = body["detail"]
    assert isinstance(text, str) and text.endswith("."), body
    assert not any(mark in text for mark in ("[", "{", "ErrorDetail", "messages")), body
    assert text.count(". ") == 0, f"more than one sentence: {text}"
    if detail is not None:
        assert text == detail


def signed(payload: dict, key: str = settings.SECRET_KEY, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def access_payload(user, **changes) -> dict:
    return {**AccessToken.for_user(user).payload, **changes}


def with_header(value: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=value)
    return client


@pytest.mark.parametrize(
    "make_header, code, detail",
    [
        (lambda u: f"Bearer {signed(access_payload(u, exp=1_600_000_000))}", "token_not_valid", "Token is expired."),
        (lambda u: f"Bearer {signed(access_payload(u), key='x' * 50)}", "token_not_valid", "Token is invalid."),
        (lambda u: f"Bearer {signed(access_payload(u), key='', algorithm='none')}", "token_not_valid", "Token is invalid."),
        (lambda u: "Bearer not-a-jwt-at-all", "token_not_valid", "Token is invalid."),
        (lambda u: f"Bearer {RefreshToken.for_user(u)}", "token_not_valid", "Token has wrong type."),
        (lambda u: "Bearer", "bad_authorization_header", "Authorization header must contain two space-delimited values."),
        (lambda u: f"Bearer {AccessToken.for_user(u)} {AccessToken.for_user(u)}", "bad_authorization_header", None),
        (lambda u: f"Token {AccessToken.for_user(u)}", "not_authenticated", "Authentication credentials were not provided."),
    ],
    ids=["expired", "wrong-key", "alg-none", "garbage", "refresh-as-access", "bearer-alone", "two-tokens", "token-scheme"],
)
def test_bad_tokens_are_readable_401s(user, make_header, code, detail):
    assert_readable(with_header(make_header(user)).get(BALANCE), 401, code, detail)


@pytest.mark.parametrize("claim", ["abc", ["1"], {"id": 1}, 1.5, True, "", "-1", "0", "1" * 30, None])
def test_a_user_id_claim_that_is_no_id_is_refused_before_any_lookup(user, claim):
    """Signed with our key, so only the claim is wrong: this was a 500 (ValueError in the lookup)."""
    token = signed(access_payload(user, user_id=claim))
    assert_readable(
        with_header(f"Bearer {token}").get(BALANCE), 401, "token_not_valid",
        "Token contained no recognizable user identification.",
    )


def test_an_integer_user_id_claim_still_works(user):
    assert with_header(f"Bearer {signed(access_payload(user, user_id=user.pk))}").get(BALANCE).status_code == 200


def test_a_token_of_a_user_who_no_longer_exists(user):
    # A user with a ledger cannot be deleted (the ledger PROTECTs its wallet), so the token names an
    # id with no user behind it: the same lookup miss a deleted account gives.
    token = signed(access_payload(user, user_id=str(user.pk + 10_000)))
    assert_readable(with_header(f"Bearer {token}").get(BALANCE), 401, "user_not_found", "User not found.")


def test_a_gated_endpoint_answers_the_same_way(user):
    response = with_header(f"Bearer {signed(access_payload(user, exp=1_600_000_000))}").get("/api/v1/profile/dev_dan")
    assert_readable(response, 401, "token_not_valid", "Token is expired.")


# Refresh and logout


def test_refresh_rotates_and_the_old_refresh_token_is_then_blacklisted(anon, user):
    old = str(RefreshToken.for_user(user))
    first = anon.post(REFRESH, {"refresh": old}, format="json")
    assert first.status_code == 200 and set(first.json()) == {"access", "refresh"}
    assert first.json()["refresh"] != old
    assert_readable(anon.post(REFRESH, {"refresh": old}, format="json"), 401, "token_not_valid", "Token is blacklisted.")
    assert anon.post(REFRESH, {"refresh": first.json()["refresh"]}, format="json").status_code == 200


@pytest.mark.parametrize(
    "make_refresh, code, detail",
    [
        (lambda u: "garbage", "token_not_valid", "Token is invalid."),
        (lambda u: str(AccessToken.for_user(u)), "token_not_valid", "Token has wrong type."),
        (lambda u: signed({**RefreshToken.for_user(u).payload, "exp": 1_600_000_000}), "token_not_valid", "Token is expired."),
        (lambda u: signed({**RefreshToken.for_user(u).payload, "user_id": "abc"}), "token_not_valid",
         "Token contained no recognizable user identification."),
        (lambda u: signed({**RefreshToken.for_user(u).payload, "user_id": [u.pk]}), "token_not_valid",
         "Token contained no recognizable user identification."),
        (lambda u: signed({**RefreshToken.for_user(u).payload, "user_id": str(u.pk + 10_000)}), "user_not_found", "User not found."),
    ],
    ids=["garbage", "access-as-refresh", "expired", "string-user-id", "list-user-id", "missing-user"],
)
@pytest.mark.parametrize("path", [REFRESH, LOGOUT])
def test_refresh_and_logout_answer_readable_errors(anon, user, make_refresh, code, detail, path):
    if path == LOGOUT and code == "user_not_found":
        code, detail = None, None  # logout revokes a token of a deleted user too: nothing to refuse
    response = anon.post(path, {"refresh": make_refresh(user)}, format="json")
    if code is None:
        assert response.status_code == 200
    else:
        assert_readable(response, 401, code, detail)


@pytest.mark.parametrize("path", [REFRESH, LOGOUT, LOGOUT.rstrip("/")])
def test_refresh_and_logout_without_the_field_are_400(anon, path):
    response = anon.post(path, {}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["detail"] == "refresh: This field is required."


def test_logout_revokes_the_refresh_token(anon, user):
    refresh = str(RefreshToken.for_user(user))
    response = anon.post(LOGOUT.rstrip("/"), {"refresh": refresh}, format="json")
    assert response.status_code == 200
    assert response.json() == {"detail": "Logged out."}
    assert_readable(anon.post(REFRESH, {"refresh": refresh}, format="json"), 401, "token_not_valid", "Token is blacklisted.")
    assert_readable(anon.post(LOGOUT, {"refresh": refresh}, format="json"), 401, "token_not_valid", "Token is blacklisted.")


def test_logout_refuses_unknown_fields(anon, user):
    response = anon.post(LOGOUT, {"refresh": str(RefreshToken.for_user(user)), "all": True}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_logout_is_throttled_with_the_auth_scope(anon, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import ScopedRateThrottle

    cache.clear()
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "2/min", "gated": "2/min"})
    statuses = [anon.post(LOGOUT, {"refresh": "x"}, format="json").status_code for _ in range(3)]
    cache.clear()
    assert statuses == [401, 401, 429]


def test_an_expired_access_token_from_simplejwt_itself(user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=5))
    assert_readable(with_header(f"Bearer {token}").get(BALANCE), 401, "token_not_valid", "Token is expired.")


def test_refresh_and_logout_query_budgets(anon, user):
    """Rotation reads the blacklist and the user, then writes the outstanding and blacklisted rows.
    Pinned here because each call needs a fresh token (the other auth budgets: testing/endpoints.py)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from testing.endpoints import statements

    refresh = str(RefreshToken.for_user(user))
    with CaptureQueriesContext(connection) as captured:
        refreshed = anon.post(REFRESH, {"refresh": refresh}, format="json")
    assert refreshed.status_code == 200
    assert len(statements(captured)) <= 9, statements(captured)  # simplejwt looks the user up three times
    with CaptureQueriesContext(connection) as captured:
        assert anon.post(LOGOUT, {"refresh": refreshed.json()["refresh"]}, format="json").status_code == 200
    assert len(statements(captured)) <= 5, statements(captured)


def test_the_schema_documents_logout(anon):
    import yaml

    paths = yaml.safe_load(anon.get("/api/v1/schema/").content)["paths"]
    logout = paths["/api/v1/auth/logout/"]["post"] if "/api/v1/auth/logout/" in paths else paths["/api/v1/auth/logout"]["post"]
    assert {"200", "400", "401", "429"} <= set(logout["responses"])
    assert logout["tags"] == ["auth"]
