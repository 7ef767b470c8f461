"""Sending deliveries: claim (a lease, not a row lock, so no lock is held across the HTTP call),
sign, POST, log the attempt, then mark delivered or schedule the next try with backoff.

Per endpoint, a wallet's events go in order: a delivery waits while an earlier one of the same
wallet to the same endpoint is pending. Retries stop WEBHOOK_RETRY_WINDOW_HOURS after the event;
an endpoint failing that long is disabled and staff are told (admin banner, error log)."""

import json
import logging
import time
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from .models import Delivery, DeliveryAttempt, DeliveryStatus, Endpoint
from .signing import signature_header
from .targets import TargetRefused, target_check

logger = logging.getLogger("credits.webhooks")

BACKOFF_SECONDS = (5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600)
LEASE_SECONDS = 60
USER_AGENT = "credits-platform-webhooks/1"

# Pending deliveries that are due and first in line for their (endpoint, wallet).
DUE = """
SELECT d.id FROM notifications_delivery d
WHERE d.status = 'pending' AND d.next_attempt_at <= %(now)s
  AND (d.leased_until IS NULL OR d.leased_until < %(now)s)
  {only}
  AND NOT EXISTS (
      SELECT 1 FROM notifications_delivery e
      WHERE e.endpoint_id = d.endpoint_id AND e.wallet_id = d.wallet_id AND e.status = 'pending'
        AND e.event_id < d.event_id)
ORDER BY d.next_attempt_at, d.event_id
LIMIT %(limit)s
"""


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1])


def deliveries_run_due(*, now: datetime | None = None, wallet_ids: list[int] | None = None, limit: int = 1000,
                       client: httpx.Client | None = None) -> int:
    """Attempt every due delivery (of `wallet_ids`, if given), up to `limit`; returns the attempts made."""
    attempted, own = 0, client is None
    client = client or _client()
    try:
        while attempted < limit:
            current = now or timezone.now()
            only, params = "", {"now": current, "limit": min(100, limit - attempted)}
            if wallet_ids is not None:
                only, params["wallets"] = "AND d.wallet_id = ANY(%(wallets)s)", list(wallet_ids)
            with connection.cursor() as cursor:
                cursor.execute(DUE.format(only=only), params)
                due = [row[0] for row in cursor]
            progressed = 0
            for delivery_id in due:
                if delivery_attempt(delivery_id=delivery_id, now=current, client=client):
                    progressed += 1
            attempted += progressed
            if not progressed:
                return attempted
    finally:
        if own:
            client.close()
    return attempted


def _client() -> httpx.Client:
    return httpx.Client(timeout=settings.WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False,
                        headers={"User-Agent": USER_AGENT})


def _claim(delivery_id: int, now: datetime) -> Delivery | None:
    claimed = Delivery.objects.filter(
        Q(leased_until__isnull=True) | Q(leased_until__lt=now), pk=delivery_id, status=DeliveryStatus.PENDING
    ).update(leased_until=now + timedelta(seconds=LEASE_SECONDS))
    if not claimed:
        return None
    return Delivery.objects.select_related("event", "endpoint").get(pk=delivery_id)


def delivery_attempt(*, delivery_id: int, now: datetime | None = None, client: httpx.Client | None = None) -> bool:
    """One attempt of one delivery, if it is still pending and nobody else holds it. True if attempted."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return False
    endpoint, event = delivery.endpoint, delivery.event
    if not endpoint.enabled:
        _give_up(delivery, now, "The endpoint is disabled.")
        return True
    body = json.dumps(event.payload(), separators=(",", ":"))
    status_code, error, excerpt, started = None, "", "", time.monotonic()
    try:
        target_check(endpoint.url)
        sent_at = timezone.now()
        secrets_in_use = [endpoint.secret]
        if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > sent_at:
            secrets_in_use.append(endpoint.previous_secret)
        headers = {
            "content-type": "application/json",
            "webhook-id": event.webhook_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": signature_header(secrets_in_use, msg_id=event.webhook_id, timestamp=sent_at, body=body),
        }
        response = (client or _client()).post(endpoint.url, content=body.encode(), headers=headers)
        status_code, excerpt = response.status_code, response.text[:500]
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}" + (" (redirects are not followed)" if 300 <= status_code < 400 else "")
    except TargetRefused as refused:
        error = str(refused)
    except httpx.TimeoutException:
        error = f"Timed out after {settings.WEBHOOK_TIMEOUT_SECONDS:g} s."
    except httpx.HTTPError as failure:
        error = f"{type(failure).__name__}: {failure}"[:500]
    duration_ms = int((time.monotonic() - started) * 1000)
    _settle(delivery, now=now, status_code=status_code, error=error, excerpt=excerpt, duration_ms=duration_ms)
    return True


@transaction.atomic
def _settle(delivery: Delivery, *, now: datetime, status_code, error: str, excerpt: str, duration_ms: int) -> None:
    DeliveryAttempt.objects.create(delivery=delivery, attempted_at=now, status_code=status_code, error=error[:500],
                                   response_excerpt=excerpt[:500], duration_ms=duration_ms)
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error, delivery.leased_until = status_code, error[:500], None
    endpoint = delivery.endpoint
    if not error:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        delivery.save()
        Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        return
    window_ends = delivery.event.created_at + timedelta(hours=settings.WEBHOOK_RETRY_WINDOW_HOURS)
    if now >= window_ends:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.next_attempt_at = min(now + backoff(delivery.attempts), window_ends)
    delivery.save()
    logger.warning("webhook delivery %s to %s failed (attempt %s): %s", delivery.pk, endpoint.url,
                   delivery.attempts, error)
    Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    failing_since = Endpoint.objects.values_list("failing_since", flat=True).get(pk=endpoint.pk)
    # Gave up on a delivery (its event's 24 h are over) with no success since: the endpoint has been
    # failing for the whole window.
    if delivery.status == DeliveryStatus.FAILED or failing_since <= now - timedelta(hours=settings.WEBHOOK_RETRY_WINDOW_HOURS):
        endpoint_disable(endpoint=endpoint, reason=f"Failing since {failing_since:%Y-%m-%d %H:%M} UTC: {error}"[:255])


def _give_up(delivery: Delivery, now: datetime, error: str) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, last_error=error, leased_until=None)


def endpoint_disable(*, endpoint: Endpoint, reason: str) -> None:
    if Endpoint.objects.filter(pk=endpoint.pk, enabled=True).update(enabled=False, disabled_reason=reason):
        logger.error("webhook endpoint %s (%s) disabled: %s", endpoint.pk, endpoint.url, reason)


def delivery_replay(*, delivery: Delivery) -> None:
    """Send a delivery again (admin): pending, due now; its attempt log is kept."""
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), leased_until=None, delivered_at=None
    )
