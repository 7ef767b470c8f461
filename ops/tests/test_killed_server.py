"""A server killed with a gated request in flight strands a hold; no sweeper runs, yet once the hold's
TTL has passed the next read of the wallet releases it and the credits are spendable again."""

import signal
import threading
import time

import httpx
import pytest
from django.db import connection
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from testing.clients import client_for
from transactions.models import LedgerEntry
from wallets.models import Hold, HoldStatus, Wallet
from wallets.verification import ledger_problems

from .processes import PYTHON, free_port, local_env, start, wait_until_serving

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HOLD_TTL = 3


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_hold_of_a_killed_request_is_released_by_the_next_read(make_user, tmp_path):
    user = make_user(balance=100)
    port, log = free_port(), tmp_path / "server.log"
    env = local_env(
        DATABASE_URL=database_url(), INSTAGRAM_DEMO_LATENCY_MS="30000", CREDITS_HOLD_TTL_SECONDS=str(HOLD_TTL),
        CREDITS_DATA_DIR=str(tmp_path / "data"), DEBUG="0",
    )
    server = start([PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], env, log)
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(base, server, log)
    token = RefreshToken.for_user(user).access_token
    outcome = {}

    def gated_request():
        try:
            outcome["response"] = httpx.get(
                f"{base}/api/v1/profile/dev_dan/ai-insights", headers={"Authorization": f"Bearer {token}"}, timeout=60
            )
        except httpx.HTTPError as error:
            outcome["error"] = error

    request = threading.Thread(target=gated_request)
    request.start()
    try:
        deadline = time.monotonic() + 20
        while not Hold.objects.filter(wallet_id=user.pk, status=HoldStatus.HELD).exists():
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGKILL)  # the provider is still sleeping: the request never settles
        server.wait(timeout=10)
        request.join(timeout=10)
    assert "error" in outcome, outcome  # the client saw the connection drop, not an answer

    hold = Hold.objects.get(wallet_id=user.pk)
    api = client_for(user)
    # Inside its TTL the hold is a request in flight, as far as anyone can tell: its credits stay held.
    inside = api.get("/api/v1/api/credits/balance").json()
    assert (inside["current_balance"], inside["reserved"]) == (100, 20)

    time.sleep(max(0.0, (hold.expires_at - timezone.now()).total_seconds()) + 0.2)
    after = api.get("/api/v1/api/credits/balance").json()  # no sweeper ran: this read releases it
    assert (after["current_balance"], after["reserved"]) == (100, 0)
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.EXPIRED
    assert Wallet.objects.get(pk=user.pk).holds_due_at is None
    assert not LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="spend").exists()
    assert api.get("/api/v1/api/credits/can-perform/ai_insights").json()["current_balance"] == 100
    assert ledger_problems() == []
