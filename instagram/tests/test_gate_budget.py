"""What the gate adds to a request, pinned: statements and commits per paid, free, repeat, refused
and throttled request, measured against the same view with the gate off (`bench/urls.py`'s twin).

Inside a test's transaction a request's BEGIN ... COMMIT is a SAVEPOINT ... RELEASE SAVEPOINT, so
commits are counted as released savepoints (each atomic block of the gate is one commit outside)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from testing.clients import client_for
from testing.endpoints import statements

pytestmark = pytest.mark.django_db

# Statements the gate adds, then commits. A paid request: the rule and its tiers, the ask (the
# wallet and "paid already?"), the reserve (lock, checks, then the credits held with the wallet's
# total and the hold in one statement), the capture (lock, access record, then hold, wallet,
# grants, ledger row and allocations in one statement). A free unit also reads and moves the
# month's usage row and
# writes a `free_use` row instead of a `spend` (the month's first free use creates that row: +2). A repeat inside the access window and a refusal are
# the rule and the ask, nothing locked, nothing written.
BUDGETS = {
    "paid": (9, 2),
    "free": (16, 2),
    "repeat": (3, 0),
    "refused": (3, 0),
}


@pytest.fixture
def twin(settings):
    settings.ROOT_URLCONF = "bench.urls"  # the real URLs plus the ungated twin of the posts view


def measure(api, path):
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path)
    return response, statements(captured), commits_in(captured)


def commits_in(captured) -> int:
    """Outermost atomic blocks that completed (a nested savepoint, e.g. get_or_create's, is no commit)."""
    depth = commits = 0
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql.startswith("SAVEPOINT"):
            depth += 1
        elif sql.startswith(("RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            depth -= 1
            commits += depth == 0 and sql.startswith("RELEASE")
    return commits


def ungated_statements(api) -> int:
    response, sql, commits = measure(api, "/bench/ungated/dev_dan/posts")
    assert response.status_code == 200 and commits == 0
    return len(sql)


def added(api, path, *, baseline):
    response, sql, commits = measure(api, path)
    return response, len(sql) - baseline, commits, "\n".join(sql)


def test_what_the_gate_adds_to_a_paid_a_repeat_and_a_refused_request(twin, make_user, provider):
    api = client_for(make_user(balance=15))
    baseline = ungated_statements(api)

    response, extra, commits, sql = added(api, "/api/v1/profile/dev_dan/posts", baseline=baseline)
    assert response["X-Credits-Charged"] == "10"
    assert (extra, commits) == BUDGETS["paid"], sql
    assert sum('FROM "pricing_pricingrule"' in q for q in sql.splitlines()) == 1  # the rule is read once
    assert sql.count("FOR UPDATE") == 2  # one lock per transaction

    response, extra, commits, sql = added(api, "/api/v1/profile/dev_dan/posts", baseline=baseline)
    assert response["X-Credits-Charged"] == "0"
    assert (extra, commits) == BUDGETS["repeat"], sql
    assert "FOR UPDATE" not in sql

    response, extra, commits, sql = added(api, "/api/v1/profile/eco_emma/posts", baseline=baseline)
    assert (response.status_code, response.json()["code"]) == (402, "insufficient_credits")
    assert (extra, commits) == BUDGETS["refused"], sql
    assert "FOR UPDATE" not in sql


def test_what_the_gate_adds_to_a_request_paid_with_a_free_unit(twin, make_user, provider):
    api = client_for(make_user(balance=100))
    baseline = ungated_statements(api)
    response, extra, commits, sql = added(api, "/api/v1/profile/eco_emma", baseline=baseline)
    assert response["X-Credits-Charged"] == "0"  # influencer_unlock has free units
    assert (extra, commits) == BUDGETS["free"], sql
    response, extra, commits, sql = added(api, "/api/v1/profile/eco_emma", baseline=baseline)
    assert response["X-Credits-Charged"] == "0"
    assert (extra, commits) == BUDGETS["repeat"], sql  # paid already: no usage row read either


def test_a_throttled_request_reads_nothing_of_the_wallet(make_user, provider, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"gated": "1/min", "auth": "100/min"})
    cache.clear()
    try:
        api = client_for(make_user(balance=100))
        assert api.get("/api/v1/profile/dev_dan/posts").status_code == 200
        with CaptureQueriesContext(connection) as captured:
            response = api.get("/api/v1/profile/chef.carla/posts")
        assert (response.status_code, response.json()["code"]) == (429, "throttled")
        sql = statements(captured)
        assert not [q for q in sql if "wallets_" in q or "pricing_" in q or "instagram_" in q], sql
        assert provider.calls == ["dev_dan"]
    finally:
        cache.clear()
