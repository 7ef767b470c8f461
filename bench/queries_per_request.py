"""Queries per request for every endpoint, printed as the Markdown table of docs/benchmarks.md.

    .venv/bin/python -m bench.queries_per_request [--history 100000]

Reads are counted for a user with 1,000 ledger rows and for one with `--history` rows; writes
(the gated views, wallet creation, sign-up, token) once. The endpoints and their budgets come from
testing/endpoints.py, whose test asserts the budgets on every `make test`.
Statements only: BEGIN/COMMIT are not counted (a paid request's reserve and capture are one call
each, outside any transaction; a free unit's settle is one transaction).
"""

import argparse
import sys

from .common import recreate_database, setup_django


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=int, default=100_000)
    args = parser.parse_args(argv)

    recreate_database()
    setup_django("bench.settings")
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    from testing.endpoints import READS, WRITES, count_queries
    from testing.sequences import bulk_history, known_month
    from wallets.services import credits_adjust

    def client_with_history(name: str, rows: int) -> APIClient:
        user = get_user_model().objects.create_user(name, f"{name}@example.com")
        credits_adjust(user_id=user.pk, amount=50, reason="benchmark setup")  # 100, as in the tests
        known_month(user)
        bulk_history(user, rows)
        return APIClient(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")

    small, large = client_with_history("small_history", 1000), client_with_history("large_history", args.history)
    anonymous = APIClient(HTTP_HOST="127.0.0.1")

    print(f"| endpoint | queries, 1,000 rows | queries, {args.history:,} rows | budget (tested) |")
    print("|---|---|---|---|")
    for endpoint in READS:
        if endpoint.anonymous:
            counts = [count_queries(anonymous, endpoint)[0]] * 2
        else:
            counts = [count_queries(client, endpoint)[0] for client in (small, large)]
        print(f"| `{endpoint.label}` | {counts[0]} | {counts[1]} | {endpoint.budget} |")
    for endpoint in WRITES:
        queries, response = count_queries(anonymous if endpoint.anonymous else small, endpoint)
        assert response.status_code in (200, 201), (endpoint.label, response.content)
        print(f"| `{endpoint.label}` | {queries} | | {endpoint.budget} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
