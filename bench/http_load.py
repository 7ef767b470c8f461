"""HTTP benchmarks under gunicorn (DEBUG off, PostgreSQL), load from this separate process.

    .venv/bin/python -m bench.http_load [--seconds 8] [--rounds 3] [--concurrency 16] [--workers 4] [--history 1000000]

Prints, each as a ratio measured in this one run (the median of the alternated rounds' ratios):
  1. gate overhead: a gated endpoint charging every request vs the same view with the gate off;
  2. hot wallet: charges/s when every client shares one wallet vs one wallet per client;
  3. history growth: p50 of dashboard, usage/monthly and transactions at 1,000 vs N ledger rows.
"""

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .common import recreate_database, setup_django
from .results import record

ROOT = Path(__file__).resolve().parent.parent


def usernames_by_client(concurrency: int) -> list[list[str]]:
    """The demo catalogue (35 profiles) dealt out to the clients: up to 35 clients, no two ask for the
    same profile, so no two requests in flight compete for one resource and the hot-wallet
    comparison measures the wallet lock alone (a shared resource adds the in-flight path's work).
    Beyond 35 clients, client i shares profile i % 35."""
    from instagram.providers.demo import catalogue

    names = sorted(catalogue())
    return [names[i::concurrency] or [names[i % len(names)]] for i in range(concurrency)]


def seed(clients: int, history: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework_simplejwt.tokens import AccessToken

    from pricing.models import PricingRule
    from wallets.services import credits_top_up

    with connection.cursor() as cursor:  # seeding a million ledger rows is not a web request
        cursor.execute("SET statement_timeout = 0")
    # Every request pays: no free units, and a paid access expires at once.
    PricingRule.objects.filter(action_type="profile_posts").update(free_allowance_per_month=0, access_window_hours=0)
    User = get_user_model()
    users = [User.objects.create_user(f"load{i}", f"load{i}@example.com") for i in range(clients)]
    small, large = (User.objects.create_user(name, f"{name}@example.com") for name in ("small_history", "large_history"))
    for user in [*users, small, large]:
        credits_top_up(user_id=user.pk, amount=5_000_000)
    with connection.cursor() as cursor:
        for user, rows in ((small, 1000), (large, history)):
            cursor.execute(
                "INSERT INTO transactions_ledgerentry (wallet_id, transaction_type, amount, delta, balance_after,"
                " action_type, quantity, reference, description, idempotency_key, created_at)"
                " SELECT %s, 'free_use', 0, 0, 5000050, 'influencer_unlock', 1, 'bulk' || g, 'history', NULL,"
                # history lies before this month: both users have the same (empty) current month
                " date_trunc('month', now()) - (g || ' minutes')::interval FROM generate_series(1, %s) g",
                [user.pk, rows],
            )
            cursor.execute("UPDATE wallets_wallet SET ledger_rows = ledger_rows + %s WHERE user_id = %s", [rows, user.pk])
        cursor.execute("VACUUM ANALYZE")
    token = lambda user: str(AccessToken.for_user(user))  # noqa: E731
    return {"clients": [token(u) for u in users], "small": token(small), "large": token(large)}


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "credits_platform.wsgi", "-w", str(workers),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health/", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


async def load(base: str, paths_for, tokens: list[str], seconds: float, concurrency: int) -> dict:
    """`concurrency` clients loop for `seconds`; client i uses tokens[i % len(tokens)]."""
    latencies, statuses = [], {}
    deadline = time.perf_counter() + seconds

    async def client(index: int):
        headers = {"Authorization": f"Bearer {tokens[index % len(tokens)]}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            n = 0
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await http.get(paths_for(index, n))
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                n += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    return {"elapsed": time.perf_counter() - started, "latencies": latencies, "statuses": statuses}


def summary(runs: list[dict]) -> dict:
    """Several runs of one scenario as one: total requests over total time, pooled percentiles."""
    latencies = sorted(latency for run in runs for latency in run["latencies"])
    statuses = {}
    for run in runs:
        for status, count in run["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "rps": len(latencies) / sum(run["elapsed"] for run in runs),
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "statuses": statuses,
    }


def compare(run, first, second, rounds: int) -> tuple[dict, dict]:
    """Run two scenarios alternately, `rounds` times each, so drift on a shared machine hits both.
    Each result also carries `rounds_rps` and `ratio`: the median of the rounds' throughput ratios
    of this side to the other."""
    a, b = [], []
    for _ in range(rounds):
        a.append(run(*first))
        b.append(run(*second))
    first_summary, second_summary = summary(a), summary(b)
    rps = lambda result: len(result["latencies"]) / result["elapsed"]  # noqa: E731
    first_summary["rounds_rps"] = [rps(r) for r in a]
    second_summary["rounds_rps"] = [rps(r) for r in b]
    second_summary["ratio"] = statistics.median(rps(y) / rps(x) for x, y in zip(a, b))
    first_summary["ratio"] = statistics.median(rps(x) / rps(y) for x, y in zip(a, b))
    return first_summary, second_summary


def rounds_ratios(first: dict, second: dict) -> str:
    return ", ".join(f"{y / x:.2f}" for x, y in zip(first["rounds_rps"], second["rounds_rps"]))


def line(name: str, result: dict) -> str:
    return (f"  {name:<34} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:7.1f} ms  "
            f"p99 {result['p99_ms']:7.1f} ms  {result['statuses']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_HTTP_PORT", "8189")))
    parser.add_argument("--rounds", type=int, default=3, help="alternate each compared pair this many times")
    parser.add_argument("--scenarios", default="gate,hot,history", help="comma-separated subset of gate,hot,history")
    args = parser.parse_args(argv)

    recreate_database()
    setup_django()
    started = time.perf_counter()
    tokens = seed(args.concurrency, args.history)
    from django.db import connection

    connection.close()
    print(f"seeded in {time.perf_counter() - started:.1f}s; gunicorn -w {args.workers}, {args.concurrency} clients, "
          f"{args.seconds:.0f}s per run, each compared pair alternated {args.rounds}x")
    server = start_gunicorn(args.port, args.workers)
    base = f"http://127.0.0.1:{args.port}"
    run = lambda paths, toks: asyncio.run(load(base, paths, toks, args.seconds, args.concurrency))  # noqa: E731
    try:
        names = usernames_by_client(args.concurrency)
        name = lambda i, n: names[i][n % len(names[i])]  # noqa: E731
        posts = lambda i, n: f"/api/v1/profile/{name(i, n)}/posts"  # noqa: E731
        ungated = lambda i, n: f"/bench/ungated/{name(i, n)}/posts"  # noqa: E731
        run(ungated, tokens["clients"])  # warm the workers and the provider cache
        scenarios = set(args.scenarios.split(","))
        if "gate" in scenarios:
            off, on = compare(run, (ungated, tokens["clients"]), (posts, tokens["clients"]), args.rounds)
            print("1. gate overhead")
            print(line("gate off (same view)", off))
            print(line("gate on, charging every request", on))
            print(f"  ratio gated/ungated per round: {rounds_ratios(off, on)}; median {on['ratio']:.2f}  (goal >= 0.70)")
            record(gate_ratio=on["ratio"])
        if "hot" in scenarios:
            shared, own = compare(run, (posts, tokens["clients"][:1]), (posts, tokens["clients"]), args.rounds)
            print("2. hot wallet")
            print(line("every client on one wallet", shared))
            print(line("one wallet per client", own))
            print(f"  ratio shared/own per round: {rounds_ratios(own, shared)}; median {shared['ratio']:.2f}  (goal >= 0.90)")
            record(hot_ratio=shared["ratio"])
        if "history" in scenarios:
            print(f"3. history growth (1,000 vs {args.history:,} ledger rows)")
            for path in ("/api/v1/api/credits/dashboard", "/api/v1/api/credits/usage/monthly",
                         "/api/v1/api/credits/transactions"):
                small, large = compare(run, (lambda i, n: path, [tokens["small"]]),
                                       (lambda i, n: path, [tokens["large"]]), args.rounds)
                print(line(f"{path.rsplit('/', 1)[-1]} @1,000", small))
                print(line(f"{path.rsplit('/', 1)[-1]} @{args.history:,}", large))
                print(f"  ratio p50 large/small: {large['p50_ms'] / small['p50_ms']:.2f}  (goal <= 1.5)")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
