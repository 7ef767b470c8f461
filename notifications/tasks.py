"""Celery tasks: thin wrappers over the fan-out and delivery services. Idempotent, so the on-commit
enqueue and beat's sweep may both run for one event."""

import time

from celery import shared_task
from django.conf import settings

from .delivery import deliveries_run_due
from .fanout import events_dispatch


@shared_task(name="notifications.tasks.dispatch_events")
def dispatch_events(event_ids: list[int]) -> int:
    """Right after the commit of the events' transaction: fan out, then try the wallets' deliveries."""
    wallets = events_dispatch(event_ids=event_ids)
    return deliveries_run_due(wallet_ids=wallets) if wallets else 0


@shared_task(name="notifications.tasks.deliver_due")
def deliver_due() -> int:
    """Beat's sweep: whatever the on-commit enqueue missed (a broker outage, a killed worker, a
    set-based statement such as a campaign's grant) and every retry that is due. It keeps going, a
    batch of fan-out then the deliveries due, until nothing is left or WEBHOOK_SWEEP_SECONDS have
    passed (the next tick, 5 s later, carries on; leases keep concurrent sweeps apart)."""
    ends = time.monotonic() + settings.WEBHOOK_SWEEP_SECONDS
    attempted = 0
    while True:
        fanned = events_dispatch(limit=settings.WEBHOOK_BATCH_SIZE)
        made = deliveries_run_due(limit=settings.WEBHOOK_BATCH_SIZE)
        attempted += made
        if (not fanned and not made) or time.monotonic() > ends:
            return attempted
