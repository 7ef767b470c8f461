"""The ledger's history pages, above the ledger: their unfiltered count is the wallet's row counter
(kept by the ledger writer), not a COUNT(*) over the wallet's history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wallets.models import Wallet

pytestmark = pytest.mark.django_db


def test_the_unfiltered_count_is_the_wallets_counter(busy_user):
    from testing.clients import client_for

    api = client_for(busy_user)
    assert api.get("/api/v1/api/credits/transactions").json()["count"] == 8
    Wallet.objects.filter(pk=busy_user.pk).update(ledger_rows=1234)  # not what the rows say: the page reads it
    with CaptureQueriesContext(connection) as queries:
        body = api.get("/api/v1/api/credits/transactions").json()
    assert body["count"] == 1234
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    filtered = api.get("/api/v1/api/credits/transactions", {"transaction_type": "spend"}).json()
    assert filtered["count"] < 8  # a narrowed list counts its rows
