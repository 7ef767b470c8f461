"""After commit: an outbox event becomes one delivery per subscribed endpoint, an in-app notification
and (for balance.low and credits.expiring, unless the user turned it off) one email.

Idempotent: unique (event, endpoint) deliveries, one notification per event, and `dispatched_at`
claimed under a row lock, so the on-commit task and the sweep may both run for one event."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from outbox.models import OutboxEvent

from .messages import EMAILED, title_and_message
from .models import Delivery, Endpoint, Notification, Preference

logger = logging.getLogger("credits.notifications")


def events_dispatch(*, event_ids: list[int] | None = None, limit: int = 500) -> list[int]:
    """Dispatch the given events (or the oldest undispatched ones); returns the wallets touched."""
    pending = OutboxEvent.objects.filter(dispatched_at__isnull=True).order_by("id")
    if event_ids is not None:
        pending = pending.filter(pk__in=event_ids)
    wallets = []
    for event_id in list(pending.values_list("pk", flat=True)[:limit]):
        event = _dispatch_one(event_id)
        if event is not None:
            wallets.append(event.wallet_id)
            _email(event)
    return sorted(set(wallets))


def _dispatch_one(event_id: int) -> OutboxEvent | None:
    with transaction.atomic():
        event = (OutboxEvent.objects.select_for_update(skip_locked=True)
                 .filter(pk=event_id, dispatched_at__isnull=True).first())
        if event is None:
            return None  # dispatched meanwhile, or being dispatched by another worker
        endpoints = [e for e in Endpoint.objects.filter(enabled=True) if e.wants(event.event_type)]
        Delivery.objects.bulk_create(
            [Delivery(event=event, endpoint=e, wallet_id=event.wallet_id, next_attempt_at=event.created_at)
             for e in endpoints],
            ignore_conflicts=True,
        )
        title, message = title_and_message(event.event_type, event.data)
        # The owner exists: a user with a wallet cannot be deleted (the ledger protects it).
        Notification.objects.bulk_create(
            [Notification(user_id=event.wallet_id, event=event, event_type=event.event_type, title=title,
                          message=message, data=event.data, created_at=event.created_at)],
            ignore_conflicts=True,
        )
        event.dispatched_at = timezone.now()
        event.save(update_fields=["dispatched_at"])
    return event


def _email(event: OutboxEvent) -> None:
    """One email per event: the notification is claimed (emailed_at) before sending, so a retried
    dispatch never sends twice. A failed send is logged and not retried (at most once: the in-app
    notification and the webhooks still carry the event)."""
    if event.event_type not in EMAILED:
        return
    user = get_user_model().objects.filter(pk=event.wallet_id).only("email").first()
    preference = Preference.objects.filter(user_id=event.wallet_id).first()
    if user is None or not user.email or (preference is not None and not preference.email_enabled):
        return
    claimed = Notification.objects.filter(event=event, emailed_at__isnull=True).update(emailed_at=timezone.now())
    if not claimed:
        return
    notification = Notification.objects.get(event=event)
    try:
        send_mail(notification.title, f"{notification.message}\n\nYou can turn these emails off in your alert settings.",
                  settings.DEFAULT_FROM_EMAIL, [user.email])
    except Exception:  # the mail server is down: the notification stays in-app; logged for operators
        logger.exception("email for event %s to user %s failed", event.pk, event.wallet_id)
