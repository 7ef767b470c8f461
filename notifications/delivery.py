"""Sending deliveries: claim a batch by lease (no row lock is held across the HTTP calls), send it
to each endpoint over kept-alive connections at once, then settle it (log the attempts, mark
delivered or schedule the next try with backoff), one batch after another.

Per endpoint, a wallet's events go in order: a delivery waits while an earlier one of the same
wallet to the same endpoint is pending (`lease.py`). Retries stop WEBHOOK_RETRY_WINDOW_HOURS after
the event; an endpoint failing that long is disabled and staff are told (admin banner, error log)."""

from datetime import datetime

import httpx
from django.conf import settings
from django.utils import timezone

from .lease import deliveries_lease
from .models import Delivery, DeliveryStatus
from .sending import EndpointSenders
from .settle import deliveries_settle


def deliveries_run_due(*, now: datetime | None = None, wallet_ids: list[int] | None = None, limit: int = 1000,
                       client: httpx.Client | None = None) -> int:
    """Attempt every due delivery (of `wallet_ids`, if given), up to `limit`; returns the attempts made
    (a delivery given up because its endpoint was disabled counts as one)."""
    attempted = 0
    with EndpointSenders(client) as senders:
        while attempted < limit:
            current = now or timezone.now()
            lease = deliveries_lease(now=current, seconds=settings.WEBHOOK_LEASE_SECONDS, wallet_ids=wallet_ids,
                                     limit=min(settings.WEBHOOK_BATCH_SIZE, limit - attempted))
            if not lease.deliveries:
                break
            outcomes = senders.send(lease, now=current)
            deliveries_settle(lease=lease, outcomes=outcomes, now=current)
            made = sum(1 for outcome in outcomes if outcome.attempted or outcome.refused_disabled)
            attempted += made
            if not made:  # nothing could start before the lease's end: the next run takes them
                break
    return attempted


def delivery_replay(*, delivery: Delivery) -> None:
    """Send a delivery again (admin): pending, due now; its attempt log is kept."""
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), leased_until=None, lease_token=None,
        delivered_at=None,
    )
