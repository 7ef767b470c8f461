"""Webhook delivery throughput, and what the outbox adds to a paid request.

    .venv/bin/python -m bench.webhooks [--events 2000] [--wallets 200] [--requests 200]

1. Throughput: `--events` outbox rows over `--wallets` wallets, then the worker's own functions
   (`events_dispatch`: deliveries and in-app notifications; `deliveries_run_due`: sign, POST, log)
   to one endpoint, a threaded HTTP receiver on a local port. Events/s from outbox to receiver.
2. A paid request (GET profile/{username}/ai-insights, 20 credits) through the real URL stack,
   for users whose charge crosses their threshold (an event fires) and users whose charge does not:
   SQL statements and median time. The dispatch itself runs after commit in the worker; the
   on-commit enqueue is a broker publish, switched off here so no task lands on a shared broker.
Uses its own `credits_bench` database.
"""

import argparse
import statistics
import sys
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--wallets", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1, help="concurrent delivery loops (as Celery workers)")
    args = parser.parse_args(argv)

    from .common import recreate_database, setup_django

    recreate_database()
    setup_django("bench.settings")
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    from testing.endpoints import statements
    from notifications.delivery import deliveries_run_due
    from notifications.endpoints import endpoint_create
    from notifications.fanout import events_dispatch
    from notifications.tests.receiver import Receiver
    from outbox.events import EventType
    from outbox.services import event_emit
    from outbox.signals import events_written
    from wallets.services import credits_adjust, wallet_set_low_balance_threshold

    events_written.disconnect(dispatch_uid="notifications.enqueue_dispatch")
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    User = get_user_model()

    # 1. Throughput.
    users = [User.objects.create_user(f"hook{i}", f"hook{i}@example.com") for i in range(args.wallets)]
    with transaction.atomic():
        for i in range(args.events):
            event_emit(wallet_id=users[i % len(users)].pk, event_type=EventType.WALLET_UNLOCKED,
                       data={"available": i, "current_balance": i})
    receiver = Receiver().start()
    endpoint_create(url=receiver.url)
    started = time.perf_counter()
    dispatched = 0
    while batch := events_dispatch(limit=500):
        dispatched += 1
    fanned = time.perf_counter()
    from concurrent.futures import ThreadPoolExecutor

    from notifications.models import Delivery, DeliveryStatus

    def worker(_):
        made = 0
        try:  # like a Celery worker: sweep until nothing is pending (leases keep workers apart)
            while Delivery.objects.filter(status=DeliveryStatus.PENDING).exists():
                made += deliveries_run_due(limit=args.events * 2)
        finally:
            connection.close()
        return made

    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        attempts = sum(pool.map(worker, range(args.workers)))
    done = time.perf_counter()
    receiver.stop()
    assert len(receiver.received) == args.events == attempts, (len(receiver.received), attempts)
    webhook_ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(set(webhook_ids)) == args.events  # no event sent twice
    print(f"events: {args.events} over {args.wallets} wallets, one endpoint, {args.workers} delivery worker(s)")
    print(f"fan-out (deliveries + in-app notifications): {args.events / (fanned - started):,.0f} events/s")
    print(f"delivery (sign, POST, log): {args.events / (done - fanned):,.0f} events/s")
    print(f"outbox to receiver overall: {args.events / (done - started):,.0f} events/s")

    # 2. The paid request: quiet and crossing requests alternate, so the machine's load hits both alike.
    from django.db import reset_queries

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
    from outbox.models import OutboxEvent

    assert OutboxEvent.objects.filter(event_type="balance.low", data__username__startswith="loud").count() == args.requests
    for label, results in (("no event", quiet), ("crossing the threshold (balance.low)", loud)):
        counts, times = zip(*results)
        print(f"paid request, {label}: {statistics.median(counts):g} statements, median {statistics.median(times):.2f} ms, "
              f"p90 {statistics.quantiles(times, n=10)[-1]:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
