"""What the gate adds to a request, pinned: statements and commits per paid, free, repeat, refused
and throttled request, measured against the same view with the gate off (`bench/urls.py`'s twin).

Inside a test's transaction a request's BEGIN ... COMMIT is a SAVEPOINT ... RELEASE SAVEPOINT, so
commits are counted as released savepoints (each atomic block of the gate is one commit outside)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pricing.models import PricingRule
from pricing.selectors import RULES_VERSION_SQL, pricing_rule_current, pricing_rules_forget
from testing.clients import client_for
from testing.endpoints import statements

pytestmark = pytest.mark.django_db

# Statements the gate adds, then commits (transactions that write). A paid request: the ask (the
# wallet, "paid already?", the month's free units and the rules' version, in one read; the rule
# itself from the process's cache), the reserve (one call: the checks under the wallet lock, the
# credits held, the hold), the capture (one call: the access recorded, the hold, wallet, grants,
# ledger row and allocations). Each call is a transaction of its own. A free unit goes through the
# same two calls (the reserve holds the unit, the capture writes the `free_use` row). A repeat
# inside the access window and a refusal are the ask alone, nothing locked or written.
BUDGETS = {
    "paid": (3, 2),
    "free": (3, 2),
    "repeat": (1, 0),
    "refused": (1, 0),
}
RULE_READ = 2  # the rule and its tiers, on a process's first request after the rules changed

# Outside a test's transaction (autocommit), each of these statements is a transaction of its own.
OWN_TRANSACTION = ("SELECT * FROM wallets_hold_reserve(", "SELECT * FROM wallets_hold_capture(")


@pytest.fixture(autouse=True)
def rules_cached(db):
    """Start every test with this process's pricing cache warm (a test's changes are rolled back,
    and the version with them, so a cache from another test is simply read again)."""
    pricing_rules_forget()
    for rule in PricingRule.objects.filter(is_active=True):
        pricing_rule_current(action_type=rule.action_type, version=rules_version())


def rules_version() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {RULES_VERSION_SQL}")
        return cursor.fetchone()[0]


@pytest.fixture
def twin(settings):
    settings.ROOT_URLCONF = "bench.urls"  # the real URLs plus the ungated twin of the posts view


def measure(api, path):
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path)
    return response, statements(captured), commits_in(captured)


def commits_in(captured) -> int:
    """Outermost atomic blocks that completed (a nested savepoint, e.g. get_or_create's, is no commit),
    and the calls of the gate's functions made outside any block (each its own transaction)."""
    depth = commits = 0
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql.startswith("SAVEPOINT"):
            depth += 1
        elif sql.startswith(("RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            depth -= 1
            commits += depth == 0 and sql.startswith("RELEASE")
        elif depth == 0 and sql.startswith(OWN_TRANSACTION):
            commits += 1
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
    assert "pricing_pricingrule" not in sql  # the rule comes from the process's cache
    assert "FOR UPDATE" not in sql  # the locks are taken inside the two calls

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
        # Authentication reads the user with their team membership (who they are, one statement);
        # nothing of the wallet, the price list or the feature's tables after that.
        sql = [q for q in statements(captured) if not q.startswith('SELECT "auth_user".')]
        assert len(statements(captured)) - len(sql) <= 1
        assert not [q for q in sql if "wallets_" in q or "pricing_" in q or "instagram_" in q], sql
        assert provider.calls == ["dev_dan"]
    finally:
        cache.clear()


def test_the_rule_is_read_again_on_the_first_request_after_any_change(twin, make_user, provider):
    api = client_for(make_user(balance=100))
    baseline = ungated_statements(api)

    PricingRule.objects.filter(action_type="profile_posts").update(credits_per_action=7)  # no signal: a trigger
    response, extra, commits, sql = added(api, "/api/v1/profile/dev_dan/posts", baseline=baseline)
    assert response["X-Credits-Charged"] == "7"
    assert (extra, commits) == (BUDGETS["paid"][0] + RULE_READ, 2), sql

    response, extra, commits, sql = added(api, "/api/v1/profile/eco_emma/posts", baseline=baseline)
    assert response["X-Credits-Charged"] == "7"
    assert (extra, commits) == BUDGETS["paid"], sql  # cached again


def test_auto_recharge_on_adds_nothing_to_a_charge_that_crosses_nothing(twin, make_user, provider):
    """Its settings are read with the wallet row the capture updates anyway."""
    from wallets.models import Wallet

    user = make_user(balance=100)
    Wallet.objects.filter(pk=user.pk).update(recharge_enabled=True, recharge_threshold=10, recharge_credits=500,
                                             recharge_monthly_limit=1000)
    api = client_for(user)
    baseline = ungated_statements(api)
    response, extra, commits, sql = added(api, "/api/v1/profile/dev_dan/posts", baseline=baseline)
    assert response["X-Credits-Charged"] == "10"
    assert (extra, commits) == BUDGETS["paid"], sql


def test_a_team_members_request_costs_what_anyones_does(twin, make_user, provider):
    """The member's cap is decided inside the reserve, under the wallet lock: nothing is added to a
    paid request; a request past the cap is refused by the reserve, the ask and that call."""
    from testing.teams import make_team

    team = make_team(make_user, balance=100, members={"tia": ("owner", None), "tom": ("member", 10)})
    api = client_for(team.memberships.get(role="member").user)
    baseline = ungated_statements(api)

    response, extra, commits, sql = added(api, "/api/v1/profile/dev_dan/posts", baseline=baseline)
    assert response["X-Credits-Charged"] == "10"
    assert (extra, commits) == BUDGETS["paid"], sql
    response, extra, commits, sql = added(api, "/api/v1/profile/eco_emma/posts", baseline=baseline)
    assert (response.status_code, response.json()["code"]) == (402, "member_cap_reached")
    assert (extra, commits) == (2, 1), sql  # the ask, then the reserve that refused (it writes nothing)
