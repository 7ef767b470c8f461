"""A campaign: a staff grant to every wallet of a package, from the grant to the last webhook received.

    .venv/bin/python -m bench.webhook_campaign [--wallets 100000]

N wallets on the Professional package (seeded set-based, as `bench.reset_monthly` does), one
endpoint (a threaded HTTP receiver on a local port), then `wallets.services.credits_grant` to the
package, as staff make it, and beat's sweep (`notifications.tasks.deliver_due`) run back to back by
one worker until every event has arrived. Asserts every event arrived exactly once (distinct
`webhook-id`s) and in order per wallet. Uses its own database (`BENCH_DATABASE`, dropped and
recreated), never the app's or the tests'.
"""

import argparse
import json
import sys
import time
from datetime import date, timedelta

from .common import recreate_database, setup_django


def campaign_run(wallets: int, *, deadline_seconds: float = 4 * 3600) -> dict:
    """Seed, grant, deliver; returns the timings. Needs Django set up on a bench database with no
    users yet (the seed gives every user a wallet)."""
    from django.conf import settings
    from django.db import connection

    from notifications.endpoints import endpoint_create, endpoint_disable
    from notifications.tasks import deliver_due
    from notifications.tests.receiver import Receiver
    from outbox.models import OutboxEvent
    from outbox.signals import events_written
    from pricing.models import Package
    from wallets.services import credits_grant

    from .reset_monthly import seed

    # The on-commit enqueue would publish to a broker; here the one worker is this loop.
    events_written.disconnect(dispatch_uid="notifications.enqueue_dispatch")
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    today = date.today()
    this_month = today.replace(day=1)
    next_month = (this_month.replace(day=28) + timedelta(days=4)).replace(day=1)
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
    seed(wallets, this_month, next_month)
    connection.close()  # the seed's session settings stay behind

    receiver = Receiver().start()
    endpoint = endpoint_create(url=receiver.url)
    package_id = Package.objects.get(name="Professional").pk
    started = time.perf_counter()
    granted = credits_grant(package_id=package_id, amount=5, reason="campaign", source="promo")
    granted_at = time.perf_counter()
    while len(receiver.received) < granted.wallets and time.perf_counter() - started < deadline_seconds:
        if not deliver_due():
            time.sleep(0.05)  # nothing was due: the sweep's next tick
    done = time.perf_counter()
    receiver.stop()
    endpoint_disable(endpoint_id=endpoint.pk, url=endpoint.url, reason="campaign bench over")

    events = {f"msg_{uid.hex}": (wallet, pk) for pk, wallet, uid in
              OutboxEvent.objects.filter(event_type="credits.granted").values_list("pk", "wallet_id", "uid")}
    webhook_ids = [request.headers["webhook-id"] for request in receiver.received]
    assert granted.wallets == wallets == len(events), (granted.wallets, wallets, len(events))
    assert len(webhook_ids) == len(set(webhook_ids)) == wallets, (len(webhook_ids), len(set(webhook_ids)))
    assert set(webhook_ids) == set(events)
    last_seen: dict[int, int] = {}
    for request in receiver.received:  # in arrival order: a wallet's events by increasing id
        wallet, event_id = events[request.headers["webhook-id"]]
        assert json.loads(request.body)["data"]["wallet_id"] == wallet
        assert last_seen.get(wallet, 0) < event_id, (wallet, last_seen.get(wallet), event_id)
        last_seen[wallet] = event_id
    return {"wallets": wallets, "grant_seconds": granted_at - started, "total_seconds": done - started}


def campaign_report(result: dict) -> str:
    delivering = result["total_seconds"] - result["grant_seconds"]
    return (f"campaign: {result['wallets']:,} wallets, every event received exactly once and in order per wallet; "
            f"grant {result['grant_seconds']:.1f} s, events {delivering:.1f} s "
            f"({result['wallets'] / max(delivering, 1e-9):,.0f} events/s), "
            f"grant to last event received {result['total_seconds']:.1f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wallets", type=int, default=100_000)
    args = parser.parse_args(argv)
    recreate_database()
    setup_django("bench.settings")
    print(campaign_report(campaign_run(args.wallets)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
