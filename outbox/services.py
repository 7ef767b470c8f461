"""Writing events. Callers are inside the atomic block of the change that causes the event, so an
event whose transaction rolls back was never written and is never sent."""

import json

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from .models import OutboxEvent
from .signals import events_written

# One statement: the row, with the owner's username read alongside (no extra round trip).
INSERT_EVENT = """
INSERT INTO outbox_outboxevent (wallet_id, event_type, data, created_at)
SELECT u.id, %(type)s, %(data)s::jsonb || jsonb_build_object('wallet_id', u.id, 'username', u.username), %(now)s
FROM {users} u WHERE u.id = %(wallet)s
RETURNING id
"""


def event_emit(*, wallet_id: int, event_type: str, data: dict) -> int:
    """Write one event of `wallet_id`'s owner; returns its id."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("events are written in the transaction of their cause")
    with connection.cursor() as cursor:
        cursor.execute(INSERT_EVENT.format(users=get_user_model()._meta.db_table), {
            "type": str(event_type), "data": json.dumps(data, cls=DjangoJSONEncoder), "now": timezone.now(),
            "wallet": wallet_id,
        })
        event_id = cursor.fetchone()[0]
    events_written.send(sender=OutboxEvent, event_ids=[event_id])
    return event_id


def events_emitted_in_bulk() -> None:
    """Tell listeners a set-based statement wrote events (ids unknown: the dispatcher sweeps them)."""
    events_written.send(sender=OutboxEvent, event_ids=[])
