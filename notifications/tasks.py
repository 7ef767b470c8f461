"""Celery tasks: thin wrappers over the fan-out and delivery services. Idempotent, so the on-commit
enqueue and beat's sweep may both run for one event."""

from celery import shared_task

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
    set-based statement) and every retry that is due."""
    events_dispatch()
    return deliveries_run_due()
