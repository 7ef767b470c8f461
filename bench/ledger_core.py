"""The ledger core against the physical limit: reserve + capture through `wallets.services` (no HTTP)
vs the same two phases as raw SQL on the same database, each in N client processes.

    .venv/bin/python -m bench.ledger_core [--clients 8] [--seconds 5] [--rounds 3]

Raw SQL, one statement per phase, one wallet per client (as pgbench would run it):
  reserve: a conditional `UPDATE wallets_wallet ... WHERE available >= price` and the hold's insert;
  capture: the hold's update, the wallet's update and the ledger row's insert.
The service side is what the gate calls: `services.purchase_reserve` and `purchase_capture`, one
database function call each (the access policy's questions left out, as the raw pair leaves them).
It does the same plus what the raw pair leaves out, and what the guarantees need: the lock and
the checks after it (a hold in flight, an Idempotency-Key), the month's catch-up check, the grants
(which credits, in the consumption order, into `held` and out), the allocations, the low-balance
alert on the locked row, the spend row's idempotency key. The raw pair is the physical limit of
the two phases, not a fair implementation of them.
Each round runs the service then the raw SQL (alternated); the ratio is the median of the rounds'.
"""

import argparse
import multiprocessing
import statistics
import sys
import time

from .common import recreate_database, setup_django
from .results import record

PRICE = 10

RAW_RESERVE = """
WITH w AS (
    UPDATE wallets_wallet
    SET reserved = reserved + %(price)s, updated_at = now()
    WHERE id = %(wallet)s AND monthly_balance + purchased_balance + bonus_balance - reserved >= %(price)s
    RETURNING id
)
INSERT INTO wallets_hold (wallet_id, action_type, quantity, amount, free_units, period, reference, status,
                          expires_at, created_at)
SELECT id, 'profile_posts', 1, %(price)s, 0, date_trunc('month', now())::date, %(reference)s, 'held',
       now() + interval '120 seconds', now()
FROM w
RETURNING id
"""

RAW_CAPTURE = """
WITH h AS (
    UPDATE wallets_hold SET status = 'captured', settled_at = now()
    WHERE id = %(hold)s AND wallet_id = %(wallet)s AND status = 'held'  -- the hold's whole key
    RETURNING wallet_id, amount, reference
),
w AS (
    UPDATE wallets_wallet
    SET purchased_balance = purchased_balance - h.amount, reserved = reserved - h.amount,
        ledger_rows = ledger_rows + 1, updated_at = now()
    FROM h WHERE id = h.wallet_id
    RETURNING id, monthly_balance + purchased_balance + bonus_balance AS balance, h.amount, h.reference
)
INSERT INTO transactions_ledgerentry (wallet_id, transaction_type, amount, delta, balance_after, action_type,
                                      quantity, reference, description, created_at)
SELECT id, 'spend', amount, -amount, balance, 'profile_posts', 1, reference, 'Credits spent', now()
FROM w
RETURNING id
"""


def seed(clients: int) -> dict:
    from django.contrib.auth import get_user_model

    from pricing.models import PricingRule
    from wallets.services import credits_top_up

    PricingRule.objects.filter(action_type="profile_posts").update(free_allowance_per_month=0)
    User = get_user_model()
    ids = {}
    for side in ("service", "raw"):
        users = [User.objects.create_user(f"core_{side}{i}", f"core_{side}{i}@example.com") for i in range(clients)]
        for user in users:
            credits_top_up(user_id=user.pk, amount=5_000_000)
        ids[side] = [user.pk for user in users]
    return ids


def service_worker(wallet_id: int, deadline: float) -> int:
    from django.db import connections

    from wallets.services import purchase_capture, purchase_reserve

    connections.close_all()  # a connection of this process's own, never the parent's
    done = 0
    while time.time() < deadline:
        reservation = purchase_reserve(user_id=wallet_id, action_type="profile_posts", reference=f"core{done}",
                                       price=PRICE)
        purchase_capture(hold=reservation.hold)
        done += 1
    connections.close_all()
    return done


def raw_worker(wallet_id: int, deadline: float) -> int:
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    done = 0
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True) as conn:
        while time.time() < deadline:
            hold = conn.execute(RAW_RESERVE, {"price": PRICE, "wallet": wallet_id, "reference": f"raw{done}"}).fetchone()
            conn.execute(RAW_CAPTURE, {"wallet": wallet_id, "hold": hold[0]}).fetchone()
            done += 1
    return done


def run(pool, worker, wallet_ids: list[int], seconds: float) -> float:
    deadline = time.time() + 0.5 + seconds  # every client starts, then all run for `seconds`
    started = time.time() + 0.5
    counts = pool.starmap(worker, [(wallet_id, deadline) for wallet_id in wallet_ids])
    return sum(counts) / max(time.time() - started, seconds)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    recreate_database()
    setup_django()
    ids = seed(args.clients)
    from django.db import connections

    connections.close_all()
    print(f"ledger core: {args.clients} client processes, {args.seconds:.0f}s per run, alternated {args.rounds}x")
    ratios = []
    with multiprocessing.get_context("fork").Pool(args.clients) as pool:
        run(pool, service_worker, ids["service"], 1)  # warm up
        for n in range(args.rounds):
            service = run(pool, service_worker, ids["service"], args.seconds)
            raw = run(pool, raw_worker, ids["raw"], args.seconds)
            ratios.append(service / raw)
            print(f"  round {n + 1}: service {service:7.1f} charges/s   raw SQL {raw:7.1f} charges/s   "
                  f"ratio {service / raw:.2f}")
    core_ratio = statistics.median(ratios)
    print(f"  ratio service/raw SQL (median of {args.rounds}): {core_ratio:.2f}  (goal >= 0.50)")
    record(core_ratio=core_ratio)
    return 0


if __name__ == "__main__":
    sys.exit(main())
