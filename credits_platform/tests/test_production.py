"""Production settings pass `check --deploy`; requests are logged with an id; throttles apply."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache

ROOT = Path(__file__).resolve().parents[2]


def test_production_settings_pass_check_deploy():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "credits_platform.settings.production",
        "SECRET_KEY": "x" * 20 + "-production-like-secret-key-for-the-check-0123456789",
        "ALLOWED_HOSTS": "credits.example.com",
        "DATABASE_URL": "postgres://root@127.0.0.1:5432/credits",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_a_missing_secret_key():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "credits_platform.settings.production", "SECRET_KEY": ""}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_request_log_line_with_request_id(api, caplog):
    with caplog.at_level(logging.INFO, logger="credits.requests"):
        response = api.get("/api/v1/api/credits/balance", HTTP_X_REQUEST_ID="req-abc-123")
    assert response["X-Request-ID"] == "req-abc-123"
    line = json.loads(next(r.getMessage() for r in caplog.records if r.name == "credits.requests"))
    assert (line["request_id"], line["method"], line["path"], line["status"]) == (
        "req-abc-123", "GET", "/api/v1/api/credits/balance", 200,
    )
    assert api.get("/api/v1/health/", HTTP_X_REQUEST_ID="bad id; drop table")["X-Request-ID"] != "bad id; drop table"


@pytest.mark.django_db
def test_ledger_writes_are_logged_with_wallet_type_amount_and_key(user, caplog):
    from wallets.services import credits_top_up

    with caplog.at_level(logging.INFO, logger="credits.ledger"):
        credits_top_up(user_id=user.pk, amount=7, idempotency_key="log-key-1")
    message = next(r.getMessage() for r in caplog.records if r.name == "credits.ledger")
    assert f"wallet={user.pk} type=top_up amount=7" in message and "key=log-key-1" in message


@pytest.mark.django_db
def test_auth_and_gated_endpoints_are_throttled(anon, make_user, settings, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min", "gated": "2/min"})
    cache.clear()
    codes = [anon.post("/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    from instagram.tests.gate_fixtures import ScriptedProvider
    from testing.clients import client_for

    monkeypatch.setattr("instagram.views.get_provider", lambda: ScriptedProvider())
    client = client_for(make_user(balance=100))
    codes = [client.get("/api/v1/profile/dev_dan/posts").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/api/v1/profile/dev_dan/posts").json()["code"] == "throttled"
    cache.clear()
