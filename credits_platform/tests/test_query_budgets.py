"""Queries per request for every endpoint, pinned (testing/endpoints.py has the list).

Reads of a user's history must cost the same at 10 and at 1,000 ledger rows: a count that grows
with the history would show up here, long before it shows up in production.
"""

import pytest
from rest_framework.test import APIClient

from testing.clients import client_for
from testing.endpoints import READS, WRITES, count_queries
from testing.sequences import bulk_history, known_month

pytestmark = pytest.mark.django_db


def client(make_user, endpoint, history: int = 0):
    if endpoint.anonymous:
        return APIClient()
    user = make_user(balance=100)
    known_month(user)
    if history:
        bulk_history(user, history)
    return client_for(user)


@pytest.mark.parametrize("endpoint", READS, ids=lambda e: e.label)
def test_reads_stay_within_budget_whatever_the_history(make_user, endpoint):
    counts = []
    for history in (10, 1000) if endpoint.reads_history else (0,):
        queries, response = count_queries(client(make_user, endpoint, history), endpoint)
        assert response.status_code == 200, response.content
        counts.append(queries)
    assert max(counts) <= endpoint.budget, counts
    assert len(set(counts)) == 1, f"the count grows with the history: {counts}"


def test_writes_stay_within_budget(make_user):
    """In order, on one user: paid then repeated gated requests, wallet/create, register, token."""
    api, anonymous = client(make_user, WRITES[0]), APIClient()
    for endpoint in WRITES:
        queries, response = count_queries(anonymous if endpoint.anonymous else api, endpoint)
        assert response.status_code in (200, 201), (endpoint.label, response.content)
        assert queries <= endpoint.budget, (endpoint.label, queries)
