"""The fan-out in sets and the leased, pipelined deliveries, on real PostgreSQL, with real threads,
a real process killed mid-batch and real HTTP receivers on local ports."""

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.delivery import deliveries_run_due
from notifications.endpoints import endpoint_create
from notifications.enqueue import enqueue_dispatch
from notifications.fanout import events_dispatch
from notifications.lease import deliveries_lease
from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, Notification
from notifications.sending import EndpointSenders
from notifications.settle import deliveries_settle
from notifications.tasks import deliver_due
from outbox.events import EventType
from outbox.models import OutboxEvent
from outbox.services import event_emit
from outbox.signals import events_written
from wallets.services import credits_grant
from wallets.shards import by_shard, distributed

from .receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def quiet_outbox():
    """Events stay in the outbox until the test runs the worker's functions itself."""
    events_written.disconnect(dispatch_uid="notifications.enqueue_dispatch")
    yield
    events_written.connect(enqueue_dispatch, dispatch_uid="notifications.enqueue_dispatch")


@pytest.fixture
def users(db):
    return [get_user_model().objects.create_user(f"wallet{i}", f"wallet{i}@example.com") for i in range(12)]


def emit(users, count: int, event_type=EventType.WALLET_UNLOCKED) -> list[int]:
    """`count` events round-robin over the users' wallets, in one transaction."""
    with transaction.atomic():
        return [event_emit(wallet_id=users[i % len(users)].pk, event_type=event_type, data={"available": i})
                for i in range(count)]


class ScriptedReceiver(Receiver):
    """Answers 500 to a seeded random share of requests and logs (webhook-id, status) in arrival order."""

    def __init__(self, failure_rate: float = 0.0, seed: int = 29):
        super().__init__()
        self.answers, self._random, self._lock = [], random.Random(seed), threading.Lock()
        self.failure_rate = failure_rate
        self.on_request = self._answer

    def _answer(self, request):
        with self._lock:
            status = 500 if self._random.random() < self.failure_rate else 200
            self.answers.append((request.headers["webhook-id"], status))
        return status


def assert_in_order_per_wallet(answers, events_by_webhook_id):
    """Per wallet, each event is first sent only after the one before it was answered 2xx."""
    by_wallet: dict[int, list[int]] = {}
    for wallet, event_id in events_by_webhook_id.values():
        by_wallet.setdefault(wallet, []).append(event_id)
    expected = {wallet: iter(sorted(ids)) for wallet, ids in by_wallet.items()}
    current = {wallet: next(ids) for wallet, ids in expected.items()}
    for webhook_id, status in answers:
        wallet, event_id = events_by_webhook_id[webhook_id]
        assert event_id == current[wallet], f"wallet {wallet}: event {event_id} sent while {current[wallet]} was due"
        if status == 200:
            current[wallet] = next(expected[wallet], None)
    assert all(value is None for value in current.values()), "some events were never delivered"


def statements_per_batch(captured, wallet_ids) -> int:
    """How many statements a dispatch ran, its claims counted as one: a claim names its wallets, one
    statement per shard of them on Citus (wallets.shards; one for all on plain PostgreSQL)."""
    # (Not counted: a process's first look at whether the wallets are distributed, made once.)
    statements = [query["sql"] for query in captured if "pg_dist_partition" not in query["sql"]]
    claims = sum("UPDATE outbox_outboxevent o SET dispatched_at" in sql for sql in statements)
    assert claims == len(by_shard(wallet_ids)), (claims, statements)
    return len(statements) - claims + 1


def test_fan_out_is_a_few_statements_per_batch_whatever_its_size(users, quiet_outbox, private_targets):
    receiver = Receiver().start()
    try:
        endpoint_create(url=receiver.url)
        counts = []
        for size in (5, 120):
            emit(users, size)
            with CaptureQueriesContext(connection) as captured:
                events_dispatch()
            counts.append(statements_per_batch(captured, [user.pk for user in users[:size]]))
        assert counts[0] == counts[1], counts  # per batch, not per event
        assert Delivery.objects.count() == Notification.objects.count() == 125
        assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
    finally:
        receiver.stop()


def test_bulk_events_nobody_subscribed_to_cost_no_delivery_and_no_request(users, quiet_outbox, private_targets):
    receiver = Receiver().start()
    try:
        endpoint_create(url=receiver.url, event_types=["wallet.locked"])  # not credits.granted
        counts = []
        for chosen in (users[:2], users):
            credits_grant(user_ids=[user.pk for user in chosen], amount=5, reason="campaign")
            with CaptureQueriesContext(connection) as captured:
                deliver_due()
            statements = [query["sql"] for query in captured]
            assert not [sql for sql in statements if "INSERT INTO notifications_delivery" in sql]
            counts.append(statements_per_batch(captured, [user.pk for user in chosen]))
        assert counts[0] == counts[1], counts  # the same few statements for 2 events or 12
        assert Delivery.objects.count() == 0 and receiver.received == []
        assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
        # The in-app notification is every event's (the user sees credits.granted), written in the same set.
        assert Notification.objects.filter(event_type="credits.granted").count() == 2 + len(users)
    finally:
        receiver.stop()


def test_concurrent_fan_outs_write_each_event_once(users, quiet_outbox, private_targets):
    receiver = Receiver().start()
    try:
        endpoint_create(url=receiver.url)
        emit(users, 600)

        def fan_out(_):
            try:
                return len(events_dispatch(limit=10_000))
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(fan_out, range(4)))
        assert Delivery.objects.count() == Notification.objects.count() == 600
        assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
    finally:
        receiver.stop()


def test_at_least_once_and_in_order_per_wallet_per_endpoint_with_four_workers_and_failures(
        users, quiet_outbox, private_targets, settings):
    settings.WEBHOOK_BATCH_SIZE = 7  # many small batches, so workers interleave
    receivers = [ScriptedReceiver(failure_rate=0.25, seed=seed).start() for seed in (1, 2)]
    try:
        for receiver in receivers:
            endpoint_create(url=receiver.url)
        event_ids = emit(users, 120)  # ten per wallet
        events = {event.webhook_id: (event.wallet_id, event.pk) for event in OutboxEvent.objects.filter(pk__in=event_ids)}
        started = timezone.now()
        # Phases of a shared clock: within one, every worker claims at the same instant (so no lease
        # runs out under a live worker); between them the clock moves an hour, past the backoff of a
        # sixth failure. A wallet's chain advances until its first failure in a phase, so it needs a
        # phase per failure: well within the 24 h retry window.
        for phase in itertools.count():
            now = started + timedelta(hours=phase)
            assert phase < 23, f"deliveries still pending: {Delivery.objects.filter(status='pending').count()}"

            def work(_):
                try:
                    events_dispatch(limit=10_000)
                    made = 0
                    while attempted := deliveries_run_due(now=now):
                        made += attempted
                    return made
                finally:
                    connection.close()

            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(work, range(4)))
            if not Delivery.objects.filter(status=DeliveryStatus.PENDING).exists():
                break
        assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 2 * 120
        for receiver in receivers:
            assert {webhook_id for webhook_id, status in receiver.answers if status == 200} == set(events)
            assert any(status == 500 for _, status in receiver.answers)  # retries really happened
            assert_in_order_per_wallet(receiver.answers, events)
    finally:
        for receiver in receivers:
            receiver.stop()


def test_a_delivery_waits_for_an_earlier_event_of_its_wallet_not_yet_fanned_out(users, quiet_outbox, private_targets):
    receiver = Receiver().start()
    try:
        endpoint_create(url=receiver.url)
        first, second = emit(users[:1], 2)
        events_dispatch(event_ids=[second])  # the later event's on-commit task ran first
        assert deliveries_run_due() == 0 and receiver.received == []
        events_dispatch()
        assert deliveries_run_due() == 2
        sent = [json.loads(request.body)["data"]["available"] for request in receiver.received]
        assert sent == [0, 1]
    finally:
        receiver.stop()


def test_no_row_lock_or_transaction_is_held_while_requests_are_in_flight(users, quiet_outbox, private_targets):
    arrived, release = threading.Event(), threading.Event()

    def hold(request):
        arrived.set()
        release.wait(timeout=30)

    receiver = Receiver(on_request=hold).start()
    try:
        endpoint_create(url=receiver.url)
        emit(users, 24)
        events_dispatch()
        worker = threading.Thread(target=lambda: (deliveries_run_due(), connections.close_all()))
        worker.start()
        assert arrived.wait(timeout=30)
        time.sleep(0.2)  # the other connections' requests are in flight too
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '100ms'")
            if not distributed():  # (Citus locks rows of one shard at a time: the activity below says it)
                for table in ("notifications_delivery", "outbox_outboxevent", "notifications_endpoint",
                              "notifications_notification"):
                    with transaction.atomic():
                        cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} FOR UPDATE NOWAIT) locked")
            # Every node's backends on Citus, but for this one's own and the workers' side of it.
            activity = ("citus_stat_activity WHERE global_pid <> citus_backend_gpid() AND "
                        if distributed() else "pg_stat_activity WHERE pid <> pg_backend_pid() AND ")
            cursor.execute(
                f"SELECT count(*) FROM {activity} datname = current_database()"
                " AND backend_type = 'client backend' AND (state LIKE 'idle in transaction%' OR state = 'active')")
            assert cursor.fetchone()[0] == 0  # the worker's connection is idle: its claim committed
        leased = Delivery.objects.filter(leased_until__isnull=False, lease_token__isnull=False)
        assert leased.count() == 12  # one batch: the first event of each of the 12 wallets
        release.set()
        worker.join(timeout=30)
        assert not worker.is_alive()
        assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 24  # then the second batch
    finally:
        release.set()
        receiver.stop()


KILLED_SENDER = """
import django
django.setup()
from notifications.delivery import deliveries_run_due
deliveries_run_due()
"""


def test_a_killed_workers_lease_expires_and_its_deliveries_are_sent_again(users, quiet_outbox, private_targets, settings):
    arrived, release = threading.Event(), threading.Event()

    def hold_the_first(request):
        if not arrived.is_set():
            arrived.set()
            release.wait(timeout=60)

    receiver = ScriptedReceiver()
    receiver.on_request = lambda request: (hold_the_first(request), receiver._answer(request))[1]
    receiver.start()
    try:
        endpoint_create(url=receiver.url)
        event_ids = emit(users, 36)
        events_dispatch()
        db = connection.settings_dict
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "credits_platform.settings.test",
               "TEST_DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
               "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1"}
        worker = subprocess.Popen([sys.executable, "-c", KILLED_SENDER], env=env, cwd=django_settings.BASE_DIR,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert arrived.wait(timeout=60), worker.stderr.read().decode()[-2000:] if worker.poll() is not None else ""
            time.sleep(0.3)
            worker.send_signal(signal.SIGKILL)  # mid-batch: requests sent, nothing settled
            assert worker.wait(timeout=30) == -signal.SIGKILL
        finally:
            release.set()
        leased = Delivery.objects.filter(status=DeliveryStatus.PENDING, leased_until__gt=timezone.now())
        assert leased.count() == 12 and DeliveryAttempt.objects.count() == 0

        assert deliveries_run_due() == 0  # the lease still holds: nobody sends them meanwhile
        after_lease = timezone.now() + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS + 1)
        while deliveries_run_due(now=after_lease):
            pass
        assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 36
        events = {event.webhook_id: (event.wallet_id, event.pk) for event in OutboxEvent.objects.filter(pk__in=event_ids)}
        assert {webhook_id for webhook_id, _ in receiver.answers} == set(events)  # at least once
        # The killed batch's requests arrive again (the receiver de-duplicates on webhook-id);
        # each wallet's later events only after its first was settled.
        first_seen: dict[str, int] = {}
        for position, (webhook_id, _) in enumerate(receiver.answers):
            first_seen.setdefault(webhook_id, position)
        for wallet in {wallet for wallet, _ in events.values()}:
            ids = sorted((event_id, webhook_id) for webhook_id, (w, event_id) in events.items() if w == wallet)
            positions = [first_seen[webhook_id] for _, webhook_id in ids]
            assert positions == sorted(positions), wallet
    finally:
        release.set()
        receiver.stop()


def test_a_silent_receiver_is_cut_off_at_the_deadline(users, quiet_outbox, private_targets, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    release = threading.Event()
    receiver = Receiver(on_request=lambda request: release.wait(timeout=10) and None).start()
    try:
        endpoint_create(url=receiver.url)
        emit(users[:1], 1)
        events_dispatch()
        started = time.monotonic()
        assert deliveries_run_due() == 1
        assert time.monotonic() - started < 3
        delivery = Delivery.objects.get()
        assert delivery.status == DeliveryStatus.PENDING and delivery.last_error == "Timed out after 0.5 s."
    finally:
        release.set()
        receiver.stop()


def test_what_cannot_be_sent_within_the_lease_is_released_unattempted(users, quiet_outbox, private_targets, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS, settings.WEBHOOK_CONNECTIONS_PER_ENDPOINT = 0.5, 1
    receiver = Receiver(on_request=lambda request: time.sleep(0.3)).start()
    try:
        endpoint_create(url=receiver.url)
        emit(users, 12)
        events_dispatch()
        now = timezone.now()
        lease = deliveries_lease(now=now, seconds=3.0, limit=100)  # 12 deliveries, 3.6 s of requests one by one
        assert len(lease.deliveries) == 12
        started = time.monotonic()
        with EndpointSenders() as senders:
            outcomes = senders.send(lease, now=now)
        assert time.monotonic() - started < 3  # within the lease, not twelve requests' time
        deliveries_settle(lease=lease, outcomes=outcomes, now=now)
        made = sum(outcome.attempted for outcome in outcomes)
        assert 0 < made < 12
        released = Delivery.objects.filter(status=DeliveryStatus.PENDING)
        assert released.count() == 12 - made
        assert all(d.attempts == 0 and d.leased_until is None and d.lease_token is None for d in released)
        assert DeliveryAttempt.objects.count() == made and len(receiver.received) == made
    finally:
        receiver.stop()
