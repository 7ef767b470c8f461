"""Webhook delivery throughput beside its limit, a campaign, and what the outbox adds to a paid request.

    .venv/bin/python -m bench.webhooks [--events 2000] [--wallets 200] [--rounds 3]
                                       [--campaign-wallets 100000] [--requests 200]

1. Throughput, in `--rounds` alternated rounds: `--events` outbox rows over `--wallets` wallets to
   one endpoint (a threaded HTTP/1.1 receiver on a local port), delivered by one worker running
   beat's sweep (`deliver_due`: fan-out in sets, leased batches sent over kept-alive connections,
   settled in sets); and the limit measured beside it, a raw loop that signs and POSTs the same
   events to the same receiver over one kept-alive connection, with no database. Each round asserts
   every event arrived exactly once (distinct `webhook-id`s) and in order per wallet.
2. A campaign: a staff grant to every wallet of a package (`bench.webhook_campaign`), from the grant
   to the last event received.
3. A paid request (GET profile/{username}/ai-insights, 20 credits) through the real URL stack,
   for users whose charge crosses their threshold (an event fires) and users whose charge does not:
   SQL statements and median time. The dispatch itself runs after commit in the worker; the
   on-commit enqueue is a broker publish, switched off here so no task lands on a shared broker.

The last line is `events_ratio=X`: ours / raw events per second, the median of the rounds.
Uses its own database (`BENCH_DATABASE`, default `credits_bench`, dropped and recreated).
"""

import argparse
import json
import statistics
import sys
import time


def _events_write(count: int, users: list, round_number: int) -> list[int]:
    from django.db import transaction

    from outbox.events import EventType
    from outbox.services import event_emit

    with transaction.atomic():
        return [event_emit(wallet_id=users[i % len(users)].pk, event_type=EventType.WALLET_UNLOCKED,
                           data={"available": i, "current_balance": round_number})
                for i in range(count)]


def _assert_once_in_order(received: list, event_ids: list[int]) -> None:
    from outbox.models import OutboxEvent

    events = {event.webhook_id: (event.wallet_id, event.pk) for event in OutboxEvent.objects.filter(pk__in=event_ids)}
    webhook_ids = [request.headers["webhook-id"] for request in received]
    assert len(webhook_ids) == len(set(webhook_ids)) == len(event_ids), (len(webhook_ids), len(set(webhook_ids)))
    assert set(webhook_ids) == set(events)
    last: dict[int, int] = {}
    for webhook_id in webhook_ids:
        wallet, event_id = events[webhook_id]
        assert last.get(wallet, 0) < event_id, (wallet, last.get(wallet), event_id)
        last[wallet] = event_id


def ours(receiver, event_ids: list[int]) -> float:
    """Outbox to receiver through the worker's own task; returns events/s."""
    from notifications.tasks import deliver_due

    receiver.received.clear()
    started = time.perf_counter()
    while len(receiver.received) < len(event_ids):
        if not deliver_due():
            time.sleep(0.01)
    elapsed = time.perf_counter() - started
    _assert_once_in_order(receiver.received, event_ids)
    return len(event_ids) / elapsed


def raw(receiver, endpoint, event_ids: list[int]) -> float:
    """The limit: sign and POST the same events over one kept-alive connection, nothing else."""
    import httpx
    from django.utils import timezone

    from notifications.signing import signature_header
    from outbox.models import OutboxEvent

    events = list(OutboxEvent.objects.filter(pk__in=event_ids).order_by("pk"))
    receiver.received.clear()
    with httpx.Client(timeout=5, follow_redirects=False) as client:
        started = time.perf_counter()
        for event in events:
            body = json.dumps(event.payload(), separators=(",", ":"))
            sent_at = timezone.now()
            response = client.post(receiver.url, content=body.encode(), headers={
                "content-type": "application/json", "webhook-id": event.webhook_id,
                "webhook-timestamp": str(int(sent_at.timestamp())),
                "webhook-signature": signature_header([endpoint.secret], msg_id=event.webhook_id, timestamp=sent_at,
                                                      body=body),
            })
            assert response.status_code == 200
        elapsed = time.perf_counter() - started
    _assert_once_in_order(receiver.received, event_ids)
    return len(events) / elapsed


def throughput(args) -> float:
    from django.contrib.auth import get_user_model

    from notifications.endpoints import endpoint_create
    from notifications.tests.receiver import Receiver

    users = [get_user_model().objects.create_user(f"hook{i}", f"hook{i}@example.com") for i in range(args.wallets)]
    receiver = Receiver().start()
    endpoint = endpoint_create(url=receiver.url)
    ratios = []
    try:
        for round_number in range(1, args.rounds + 1):
            event_ids = _events_write(args.events, users, round_number)
            if round_number % 2:  # alternated, so a change of the machine's load hits both alike
                raw_rate, our_rate = raw(receiver, endpoint, event_ids), ours(receiver, event_ids)
            else:
                our_rate, raw_rate = ours(receiver, event_ids), raw(receiver, endpoint, event_ids)
            ratios.append(our_rate / raw_rate)
            print(f"round {round_number}: {args.events} events over {args.wallets} wallets, one endpoint, one worker: "
                  f"ours {our_rate:,.0f} events/s (outbox to receiver), raw sign + POST {raw_rate:,.0f} events/s, "
                  f"ratio {ratios[-1]:.2f}", flush=True)
    finally:
        receiver.stop()
    return statistics.median(ratios)


def paid_requests(args) -> None:
    """The paid request: quiet and crossing requests alternate, so the machine's load hits both alike."""
    from django.contrib.auth import get_user_model
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    from outbox.models import OutboxEvent
    from testing.endpoints import statements
    from wallets.services import credits_adjust, wallet_set_low_balance_threshold

    User = get_user_model()

    def paid_request(crosses: bool, name: str) -> tuple[int, float]:
        user = User.objects.create_user(name, f"{name}@example.com")
        credits_adjust(user_id=user.pk, amount=(30 if crosses else 100) - 50, reason="bench")
        wallet_set_low_balance_threshold(user_id=user.pk, threshold=20)
        client = APIClient(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            begin = time.perf_counter()
            response = client.get("/api/v1/profile/dev_dan/ai-insights")
            elapsed = (time.perf_counter() - begin) * 1000
        assert response.status_code == 200, response.content
        return len(statements(captured)), elapsed

    for i in range(20):
        paid_request(i % 2 == 0, f"warm{i}")
    quiet, loud = [], []
    for i in range(args.requests):
        quiet.append(paid_request(False, f"quiet{i}"))
        loud.append(paid_request(True, f"loud{i}"))
    assert OutboxEvent.objects.filter(event_type="balance.low", data__username__startswith="loud").count() == args.requests
    for label, results in (("no event", quiet), ("crossing the threshold (balance.low)", loud)):
        counts, times = zip(*results)
        print(f"paid request, {label}: {statistics.median(counts):g} statements, median {statistics.median(times):.2f} ms, "
              f"p90 {statistics.quantiles(times, n=10)[-1]:.2f} ms", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--wallets", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--campaign-wallets", type=int, default=100_000, help="0: no campaign")
    parser.add_argument("--requests", type=int, default=200, help="0: no paid requests")
    args = parser.parse_args(argv)

    from .common import recreate_database, setup_django

    recreate_database()
    setup_django("bench.settings")
    from django.conf import settings

    from outbox.signals import events_written

    from .results import record
    from .webhook_campaign import campaign_report, campaign_run

    # The on-commit enqueue would publish to a broker; here the one worker is this process.
    events_written.disconnect(dispatch_uid="notifications.enqueue_dispatch")
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True

    if args.campaign_wallets:  # first: its seed gives every user in the database a wallet
        print(campaign_report(campaign_run(args.campaign_wallets)), flush=True)
    ratio = throughput(args)
    if args.requests:
        paid_requests(args)
    record(events_ratio=ratio)
    print(f"events_ratio={ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
