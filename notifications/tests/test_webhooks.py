"""Outgoing webhooks against a real HTTP receiver on a local port, on real PostgreSQL, with the
outbox written in the transaction of its cause (transactional tests: on-commit hooks really run)."""

import io
import json
import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from testing.clients import client_for
from notifications.delivery import deliveries_run_due
from notifications.endpoints import InvalidEndpoint, endpoint_create, endpoint_rotate_secret
from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, Endpoint
from notifications.tasks import deliver_due
from outbox.models import OutboxEvent
from wallets.services import credits_top_up, wallet_set_status

pytestmark = pytest.mark.django_db(transaction=True)


def top_up(user, amount=100, key="t1"):
    return credits_top_up(user_id=user.pk, amount=amount, idempotency_key=key, reference=key)


def test_a_top_up_arrives_signed_and_the_standardwebhooks_package_verifies_it(make_user, receiver, endpoint):
    user = make_user(balance=100)
    top_up(user, 250)

    [request] = receiver.received
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "top_up.completed"
    assert payload["data"]["credits"] == 250
    assert payload["data"]["username"] == user.username
    assert payload["data"]["current_balance"] == 350
    event = OutboxEvent.objects.get(event_type="top_up.completed")
    assert request.headers["webhook-id"] == event.webhook_id
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(request.body.replace(b"250", b"999"), request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB").verify(request.body, request.headers)


def test_500_twice_then_200_is_delivered_once_with_three_attempts_logged(make_user, receiver, endpoint):
    receiver.statuses = [500, 500]
    user = make_user(balance=100)
    top_up(user)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    first_retry = delivery.next_attempt_at
    assert timedelta(seconds=4) < first_retry - timezone.now() < timedelta(seconds=6)

    assert deliveries_run_due() == 0  # not due yet: nothing is sent early
    assert deliveries_run_due(now=first_retry) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.next_attempt_at - first_retry == timedelta(seconds=30)
    assert deliveries_run_due(now=delivery.next_attempt_at) == 1
    assert deliveries_run_due(now=timezone.now() + timedelta(hours=30)) == 0

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("status_code", flat=True)) == [500, 500, 200]
    assert len(receiver.received) == 3
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1  # the receiver de-duplicates on it
    assert Endpoint.objects.get().failing_since is None


def test_an_event_whose_transaction_rolled_back_is_never_sent(make_user, receiver, endpoint):
    user = make_user(balance=100)
    with pytest.raises(RuntimeError), transaction.atomic():
        top_up(user)
        raise RuntimeError("the payment handler failed after crediting")
    deliver_due()
    assert receiver.received == []
    assert not OutboxEvent.objects.filter(event_type="top_up.completed").exists()


KILLED_WORKER = """
import os, signal, django
django.setup()
from django.db import transaction
from wallets.services import credits_top_up
with transaction.atomic():
    # Registered first, so it runs first after the commit: the process dies before the outbox
    # listener's on-commit enqueue (and so before any delivery).
    transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
    credits_top_up(user_id={user_id}, amount=77, idempotency_key="killed", reference="killed")
"""


def test_a_worker_killed_between_commit_and_delivery_delivers_after_restart(make_user, receiver, endpoint):
    user = make_user(balance=100)
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "credits_platform.settings.test",
           "TEST_DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
           "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1"}
    process = subprocess.run([sys.executable, "-c", KILLED_WORKER.format(user_id=user.pk)], env=env,
                             cwd=django_settings.BASE_DIR, capture_output=True, timeout=60)
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()[-2000:]
    event = OutboxEvent.objects.get(event_type="top_up.completed")  # committed...
    assert event.dispatched_at is None and receiver.received == []  # ...and never sent

    deliver_due()  # the restarted worker's beat sweep

    [request] = receiver.received
    assert Webhook(endpoint.secret).verify(request.body, request.headers)["data"]["credits"] == 77
    assert request.headers["webhook-id"] == event.webhook_id
    deliver_due()
    assert len(receiver.received) == 1


def test_a_wallets_events_go_in_order_even_when_the_first_needs_retries(make_user, receiver, endpoint):
    receiver.statuses = [503]
    user = make_user(balance=100)
    wallet_set_status(user_id=user.pk, status="locked")
    wallet_set_status(user_id=user.pk, status="active")
    assert len(receiver.received) == 1  # the unlock waits behind the lock's retry
    deliveries_run_due(now=timezone.now() + timedelta(seconds=10))
    types = [json.loads(r.body)["type"] for r in receiver.received]
    assert types == ["wallet.locked", "wallet.locked", "wallet.unlocked"]


def test_an_endpoint_failing_for_24_hours_is_disabled_and_staff_are_told(make_user, receiver, endpoint, admin_client):
    receiver.default = 500
    user = make_user(balance=100)
    top_up(user)
    now = timezone.now()
    for _ in range(40):
        delivery = Delivery.objects.get()
        if delivery.status != DeliveryStatus.PENDING:
            break
        deliveries_run_due(now=max(now, delivery.next_attempt_at))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert 8 <= delivery.attempts <= 15  # backoff: 5 s, 30 s, 2 min, ... hours, then the 24 h mark
    assert DeliveryAttempt.objects.last().attempted_at - OutboxEvent.objects.get().created_at >= timedelta(hours=24)
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "Failing since" in endpoint.disabled_reason
    page = admin_client.get("/admin/").content.decode()
    assert "was disabled" in page and receiver.url in page

    sent = len(receiver.received)
    top_up(user, key="t2")  # a disabled endpoint gets nothing new
    deliver_due()
    assert len(receiver.received) == sent


def test_private_targets_are_refused_unless_allowed(settings, make_user, receiver):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    for url in (receiver.url, "http://10.1.2.3/x", "http://169.254.169.254/latest", "http://[::1]:8000/",
                "ftp://example.com/"):
        with pytest.raises(InvalidEndpoint):
            endpoint_create(url=url)
    with pytest.raises(CommandError, match="private, loopback or link-local"):
        call_command("webhook_endpoint_add", receiver.url, stdout=io.StringIO())

    # Saved while allowed, then refused at delivery time: logged, nothing sent.
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    endpoint_create(url=receiver.url)
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    top_up(make_user(balance=100))
    assert receiver.received == []
    assert "private, loopback or link-local" in DeliveryAttempt.objects.get().error


def test_redirects_are_not_followed(make_user, receiver, private_targets):
    other = type(receiver)().start()
    try:
        receiver.default, receiver.headers = 307, {"Location": other.url}
        endpoint_create(url=receiver.url)
        top_up(make_user(balance=100))
        assert len(receiver.received) == 1 and other.received == []
        assert "redirects are not followed" in DeliveryAttempt.objects.get().error
    finally:
        other.stop()


def test_the_command_prints_the_secret_last_and_filters_events(make_user, receiver, private_targets):
    out = io.StringIO()
    call_command("webhook_endpoint_add", receiver.url, "--events", "wallet.locked", stdout=out)
    endpoint = Endpoint.objects.get()
    assert out.getvalue().strip().splitlines()[-1] == endpoint.secret and endpoint.secret.startswith("whsec_")
    assert endpoint.event_types == ["wallet.locked"]
    with pytest.raises(CommandError, match="Unknown event types: nope"):
        call_command("webhook_endpoint_add", receiver.url, "--events", "nope", stdout=io.StringIO())

    user = make_user(balance=100)
    top_up(user)  # filtered out
    wallet_set_status(user_id=user.pk, status="locked")
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["wallet.locked"]


def test_after_a_rotation_both_secrets_verify_until_the_overlap_ends(make_user, receiver, endpoint):
    old = endpoint.secret
    new = endpoint_rotate_secret(endpoint=endpoint)
    top_up(make_user(balance=100))
    [request] = receiver.received
    assert Webhook(new).verify(request.body, request.headers)
    assert Webhook(old).verify(request.body, request.headers)


def test_admin_replay_sends_a_delivery_again(make_user, receiver, endpoint, admin_client):
    top_up(make_user(balance=100))
    delivery = Delivery.objects.get()
    response = admin_client.post("/admin/notifications/delivery/", {"action": "replay", "_selected_action": [delivery.pk]})
    assert response.status_code == 302
    assert len(receiver.received) == 2
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
    assert admin_client.get(f"/admin/notifications/delivery/{delivery.pk}/change/").status_code == 200


def test_staff_add_an_endpoint_in_the_admin_and_see_its_secret_once(admin_client, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    refused = admin_client.post("/admin/notifications/endpoint/add/", {"url": receiver.url, "enabled": "on"})
    assert refused.status_code == 200 and "private, loopback or link-local" in refused.content.decode()
    assert not Endpoint.objects.exists()

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    response = admin_client.post("/admin/notifications/endpoint/add/",
                                 {"url": receiver.url, "enabled": "on", "event_types": ["balance.low"]}, follow=True)
    endpoint = Endpoint.objects.get()
    assert endpoint.event_types == ["balance.low"] and endpoint.secret.startswith("whsec_")
    assert endpoint.secret in response.content.decode()
    assert endpoint.secret not in admin_client.get(f"/admin/notifications/endpoint/{endpoint.pk}/change/").content.decode()
