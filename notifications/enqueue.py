"""Listens to the outbox: when events are written, queue their dispatch for after the commit.

Nothing depends on this enqueue succeeding: beat's `deliver-due-webhooks` sweeps undispatched
events, so a broker outage or a worker killed between commit and delivery only delays them."""

import logging

from django.db import transaction
from django.dispatch import receiver

from outbox.signals import events_written

logger = logging.getLogger("credits.notifications")


@receiver(events_written, dispatch_uid="notifications.enqueue_dispatch")
def enqueue_dispatch(sender, event_ids, **kwargs):
    def enqueue():
        from .tasks import deliver_due, dispatch_events

        try:
            if event_ids:
                dispatch_events.delay(event_ids)
            else:
                deliver_due.delay()
        except Exception:  # the broker is down (or an eager run failed): beat's sweep delivers later
            logger.exception("could not queue the dispatch of events %s; the sweep will", event_ids or "(set)")

    transaction.on_commit(enqueue)
