"""Emails for balance.low and credits.expiring: one per event, at most once.

A batch's emails are claimed in one statement (emailed_at, on the notifications of users who have
an address and did not turn emails off) before any is sent, so a retried dispatch never sends
twice. A failed send is logged and not retried: the in-app notification and the webhooks still
carry the event."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection
from django.utils import timezone

logger = logging.getLogger("credits.notifications")

CLAIM_EMAILS = """
UPDATE notifications_notification n SET emailed_at = %(now)s
FROM {users} u
LEFT JOIN notifications_preference p ON p.user_id = u.id
WHERE n.event_id = ANY(%(events)s) AND n.emailed_at IS NULL
  AND u.id = n.user_id AND u.email <> '' AND p.email_enabled IS NOT FALSE
RETURNING n.event_id, n.user_id, u.email, n.title, n.message
"""


def emails_send(*, event_ids: list[int]) -> int:
    """Claim and send the emails of these events (already dispatched); returns how many were sent."""
    if not event_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_EMAILS.format(users=get_user_model()._meta.db_table),
                       {"now": timezone.now(), "events": list(event_ids)})
        claimed = cursor.fetchall()
    sent = 0
    for event_id, user_id, email, title, message in claimed:
        try:
            send_mail(title, f"{message}\n\nYou can turn these emails off in your alert settings.",
                      settings.DEFAULT_FROM_EMAIL, [email])
            sent += 1
        except Exception:  # the mail server is down: the notification stays in-app; logged for operators
            logger.exception("email for event %s to user %s failed", event_id, user_id)
    return sent
