"""A private PostgreSQL stopped under the app (gunicorn, real HTTP): every endpoint answers 503
`service_unavailable` with Retry-After, health names the database, nothing is charged, and the
app recovers by itself when the database is back."""

import httpx
import pytest

from testing import hostile
from testing.live_stack import LiveStack, wait_until
from testing.private_services import PrivatePostgres, pg_bin

pytestmark = pytest.mark.skipif(pg_bin() is None, reason="PostgreSQL server binaries not installed (PG_BIN)")


@pytest.fixture(scope="module")
def stack():
    with PrivatePostgres() as pg, LiveStack(pg.url) as app:
        app.pg = pg
        yield app


def test_database_down_is_503_everywhere_then_recovers(stack):
    (user_id, token), = stack.users(1, credits=1000, prefix="down")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=stack.url, headers=headers, timeout=10) as client:
        assert client.get("/api/v1/profile/dev_dan/posts").status_code == 200  # 10 credits
        assert client.get("/api/v1/health/").json()["dependencies"] == {"database": "ok", "cache": "local"}

        stack.pg.stop()
        answers = {path: client.get(path) for path in hostile.GETS}
        answers.update({path: client.post(path, json=hostile.VALID_BODIES[path]) for path in hostile.JSON_POSTS})
        no_database_needed = {"/api/v1/auth/token/refresh/"}  # a bad refresh token is refused by its signature
        for path, answer in answers.items():
            if path in no_database_needed:
                assert answer.status_code == 401
                continue
            assert answer.status_code == 503, (path, answer.status_code, answer.text[:200])
            assert answer.headers["Retry-After"] == "5"
            assert answer.json()["code"] == "service_unavailable", (path, answer.text[:200])
        health = answers["/api/v1/health/"].json()
        assert health["status"] == "unavailable" and health["dependencies"]["database"] == "down"

        stack.pg.start()
        recovery = wait_until(lambda: client.get("/api/v1/profile/dev_dan/ai-insights").status_code == 200, timeout=15)
        assert recovery < 5
        assert client.get("/api/v1/health/").json()["status"] == "ok"
    report = stack.ledger_report()
    assert report["ok"], report["verdict"]
    assert (report["spent"], report["spend_rows"], report["held"]) == (10 + 20, 2, 0)
