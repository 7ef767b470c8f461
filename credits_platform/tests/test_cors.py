"""A browser frontend on an allowed origin: preflights pass without a token, the credits headers are readable."""

import pytest
from django.test import override_settings

from testing.clients import client_for

pytestmark = pytest.mark.django_db
ALLOWED = "http://localhost:5173"
CREDITS_HEADERS = ["X-Credits-Charged", "X-Credits-Remaining", "X-Credits-Required", "X-Credits-Available", "X-Credits-Needed"]
PROTECTED = ["/api/v1/api/credits/balance", "/api/v1/profile/dev_dan/ai-insights"]


def preflight(client, path: str, origin: str):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, idempotency-key",
    )


def exposed(response) -> set[str]:
    return {name.strip().lower() for name in response.get("Access-Control-Expose-Headers", "").split(",")}


@override_settings(CORS_ALLOWED_ORIGINS=[ALLOWED])
@pytest.mark.parametrize("path", PROTECTED)
def test_a_preflight_from_an_allowed_origin_needs_no_token(anon, path):
    response = preflight(anon, path, ALLOWED)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert "GET" in response["Access-Control-Allow-Methods"]
    allowed_headers = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "idempotency-key"} <= allowed_headers


@override_settings(CORS_ALLOWED_ORIGINS=[ALLOWED])
@pytest.mark.parametrize("path", PROTECTED)
def test_a_disallowed_origin_gets_no_cors_headers(anon, path):
    response = preflight(anon, path, "https://evil.example")
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]
    actual = anon.get(path, HTTP_ORIGIN="https://evil.example")
    assert actual.status_code == 401
    assert not [name for name in actual.headers if name.lower().startswith("access-control-")]


@override_settings(CORS_ALLOWED_ORIGINS=[ALLOWED])
def test_a_charged_response_exposes_the_credits_headers(make_user):
    client = client_for(make_user(balance=100))
    response = client.get("/api/v1/profile/dev_dan/ai-insights", HTTP_ORIGIN=ALLOWED)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert response["X-Credits-Charged"] == "20" and response["X-Credits-Remaining"] == "80"
    assert {h.lower() for h in CREDITS_HEADERS} | {"x-request-id"} <= exposed(response)


@override_settings(CORS_ALLOWED_ORIGINS=[ALLOWED])
def test_a_402_from_an_allowed_origin_is_readable_by_the_browser(make_user):
    client = client_for(make_user(balance=5))
    response = client.get("/api/v1/profile/dev_dan/ai-insights", HTTP_ORIGIN=ALLOWED)
    assert response.status_code == 402
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert response["X-Credits-Needed"] == "15"
    assert {"x-credits-required", "x-credits-available", "x-credits-needed"} <= exposed(response)


def test_no_origin_is_allowed_by_default(anon):
    assert not preflight(anon, PROTECTED[0], ALLOWED).has_header("Access-Control-Allow-Origin")


def local_origins(**env: str) -> list[str]:
    """CORS_ALLOWED_ORIGINS as `make run`'s settings compute them, in a fresh interpreter (those
    settings start an embedded database unless DATABASE_URL is set, so it is set here)."""
    import json
    import os
    import subprocess
    import sys

    environment = {k: v for k, v in os.environ.items() if k != "CORS_ALLOWED_ORIGINS"}
    environment.update(DJANGO_SETTINGS_MODULE="credits_platform.settings.local", DATABASE_URL="postgres://root@127.0.0.1:5432/unused", **env)
    code = "import json, django; django.setup(); from django.conf import settings; print(json.dumps(settings.CORS_ALLOWED_ORIGINS))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_make_run_allows_the_usual_local_dev_servers():
    assert {"http://localhost:5173", "http://127.0.0.1:3000", "http://localhost:8080"} <= set(local_origins())
    assert local_origins(CORS_ALLOWED_ORIGINS="https://app.example.com/, https://admin.example.com") == [
        "https://app.example.com",
        "https://admin.example.com",
    ]


# live_server flushes the database afterwards: marked transactional so pytest-django runs it with
# the other transactional tests, after every test that relies on the data-migrated catalogue.
@pytest.mark.django_db(transaction=True)
@override_settings(CORS_ALLOWED_ORIGINS=[ALLOWED])
def test_a_preflight_over_real_http(live_server):
    import httpx

    response = httpx.options(
        f"{live_server.url}/api/v1/profile/dev_dan/analytics",
        headers={"Origin": ALLOWED, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert response.headers["x-request-id"]
