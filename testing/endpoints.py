"""Every endpoint as the frontend calls it, with its query budget.

One list for two readers: `credits_platform/tests/test_query_budgets.py` asserts each budget (and
that reads do not grow with history), `bench/queries_per_request.py` prints the table for
docs/benchmarks.md. Top-up checkout and the Stripe webhook need a payment provider; their budgets
are pinned next to their tests (`transactions/tests/test_payments.py`).
"""

from dataclasses import dataclass

from django.db import connection
from django.test.utils import CaptureQueriesContext

C = "/api/v1/api/credits/"
P = "/api/v1/profile/"


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    budget: int  # SQL statements, transaction control (BEGIN, COMMIT, savepoints) not counted
    body: dict | None = None
    anonymous: bool = False
    reads_history: bool = False  # its count must not depend on the ledger's size
    note: str = ""

    @property
    def label(self) -> str:
        label = f"{self.method.upper()} {self.path.removeprefix('/api/v1/')}"
        return f"{label} ({self.note})" if self.note else label


READS = [
    # balance and wallet/summary read the next expiry when one is within 7 days (expiring_soon).
    Call("get", C + "balance", 3, reads_history=True),
    Call("get", C + "wallet/summary", 4, reads_history=True),
    Call("get", C + "dashboard", 7, reads_history=True),
    Call("get", C + "transactions", 3, reads_history=True),
    Call("get", C + "transactions?transaction_type=spend&ordering=-amount", 3, reads_history=True),
    Call("get", C + "transactions/search?q=dev_dan", 3, reads_history=True),
    Call("get", C + "usage/monthly", 3, reads_history=True),
    Call("get", C + "analytics/spending", 3, reads_history=True),
    Call("get", C + "top-up/history", 2, reads_history=True),
    Call("get", C + "can-perform/ai_insights", 4, reads_history=True),
    Call("get", C + "can-perform/influencer_unlock?username=dev_dan", 6, reads_history=True),
    Call("get", C + "allowances", 3, reads_history=True),
    Call("get", C + "alerts", 3),  # user, wallet, email preference
    Call("get", C + "notifications", 4),  # the page's count, the page, the unread count
    Call("get", C + "system/stats", 3),
    Call("get", C + "pricing", 3),
    Call("get", C + "pricing/ai_insights", 3),
    Call("post", C + "pricing/calculate", 5, body={"action_type": "ai_insights", "quantity": 12}),
    Call("post", C + "top-up/estimate", 2, body={"credits": 500}),
    Call("get", "/api/v1/health/", 1, anonymous=True),
]

WRITES = [
    # The four gated views on a resource not paid for yet: the user, the ask, the reserve and the
    # capture (one statement each), plus the rule and its tiers when this process has not cached
    # that rule's current version yet (+2: counted, so the budgets hold on a cold cache). A free
    # unit is settled in the general transaction: lock, access, hold, usage row, wallet, `free_use`
    # row instead of the capture call (+5).
    Call("get", P + "eco_emma", 11, note="paid with a free unit"),
    Call("get", P + "eco_emma", 4, note="repeat inside the access window, free"),
    Call("get", P + "eco_emma/analytics", 11, note="paid with a free unit"),
    Call("get", P + "eco_emma/ai-insights", 6, note="paid with credits"),
    Call("get", P + "eco_emma/posts", 6, note="paid with credits"),
    Call("post", C + "wallet/create", 4, body={}, note="wallet exists (+1: the next expiry)"),
    Call("post", "/api/v1/auth/register", 8, anonymous=True, note="user, wallet, its first grant and ledger row",
         body={"username": "newcomer", "email": "newcomer@example.com", "password": "a-long-passphrase-2026"}),
    Call("post", "/api/v1/auth/token", 2, anonymous=True, note="user, outstanding refresh token",
         body={"username": "newcomer", "password": "a-long-passphrase-2026"}),
]


def call(client, endpoint: Call):
    if endpoint.method == "post":
        return client.post(endpoint.path, endpoint.body, format="json")
    return client.get(endpoint.path)


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def statements(captured: CaptureQueriesContext) -> list[str]:
    """The SQL a block ran, without transaction control: inside a test's transaction a request's
    BEGIN/COMMIT become savepoints, and a count must not differ between the two."""
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL)]


def count_queries(client, endpoint: Call) -> tuple[int, object]:
    """(statements, response) for one call."""
    with CaptureQueriesContext(connection) as captured:
        response = call(client, endpoint)
    return len(statements(captured)), response
