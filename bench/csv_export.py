"""Benchmark: memory of the streamed CSV export at 1,000 and 100,000 ledger rows.

    .venv/bin/python -m bench.csv_export [--rows 1000,100000]

For each size, one user with that many ledger rows (one INSERT ... SELECT), then the export is
requested through Django's request handler and its streamed body consumed chunk by chunk while
tracemalloc records the peak of Python allocations. Constant memory means the peak stops growing
once a history is bigger than one cursor chunk (2,000 rows): the same at 10,000 and 100,000. For contrast, the same rows built into one string (what a
non-streamed response would do). Uses its own database (credits_bench), never the app's or the tests'.
"""

import argparse
import gc
import time
import tracemalloc

from .common import recreate_database, setup_django


def seed_user(rows: int):
    from django.contrib.auth import get_user_model
    from django.db import connection

    user = get_user_model().objects.create_user(username=f"export{rows}", password="bench-password-1")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO transactions_ledgerentry (wallet_id, transaction_type, amount, delta, balance_after,"
            " action_type, quantity, reference, description, created_at)"
            " SELECT %s, 'free_use', 0, 0, 50, 'influencer_unlock', 1, 'profile_' || g,"
            " 'Free allowance used for influencer_unlock', now() - g * interval '1 second'"
            " FROM generate_series(1, %s) g",
            [user.pk, rows],
        )
        cursor.execute("ANALYZE transactions_ledgerentry")
    return user


def measure_stream(client, token: str, trace: bool = True) -> tuple[int, int, int, float]:
    """(peak bytes allocated, body bytes, chunks, seconds) while consuming the streamed export.
    Timed without tracemalloc (trace=False), which slows allocation-heavy code several times."""
    gc.collect()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    response = client.get(
        "/api/v1/api/credits/transactions/export.csv", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1"
    )
    assert response.status_code == 200 and response.streaming, response
    size = chunks = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        chunks += 1
    elapsed = time.perf_counter() - started
    peak = 0
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    response.close()
    return peak, size, chunks, elapsed


def measure_whole_file(user_id: int) -> int:
    """Peak bytes when the same CSV is built as one string (the non-streamed alternative)."""
    from transactions.csv_export import ledger_csv_lines
    from transactions.selectors import ledger_list

    gc.collect()
    tracemalloc.start()
    body = "".join(ledger_csv_lines(ledger_list(wallet_id=user_id).order_by("-created_at", "-id")))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del body
    return peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="1000,10000,100000", help="comma-separated history sizes")
    args = parser.parse_args()
    recreate_database()
    setup_django()
    from django.test import Client
    from rest_framework_simplejwt.tokens import RefreshToken

    client = Client()
    print("| ledger rows | streamed: peak Python memory | body | chunks | time | one string: peak |")
    print("|---:|---:|---:|---:|---:|---:|")
    for rows in (int(n) for n in args.rows.split(",")):
        user = seed_user(rows)
        token = str(RefreshToken.for_user(user).access_token)
        measure_stream(client, token)  # warm-up: imports, caches, the first connection
        peak, size, chunks, _ = measure_stream(client, token)
        *_, elapsed = measure_stream(client, token, trace=False)
        whole = measure_whole_file(user.pk)
        print(
            f"| {rows:,} | {peak / 1024:,.0f} KiB | {size / 1024 / 1024:.1f} MiB | {chunks:,} | {elapsed:.2f} s"
            f" | {whole / 1024 / 1024:.1f} MiB |"
        )


if __name__ == "__main__":
    main()
