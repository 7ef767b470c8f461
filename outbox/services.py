"""Writing events. Callers are inside the atomic block of the change that causes the event, so an
event whose transaction rolls back was never written and is never sent. The row and the shape of
its data are the database's (outbox/db/functions/outbox_emit.sql, outbox_event_data.sql), so an
event written here and one written by a set-based statement of the ledger look the same."""

import json
from functools import partial

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from common.db_calls import fetch_row

from .models import OutboxEvent
from .signals import events_written

EMIT = "SELECT outbox_emit(%s, %s, %s, %s)"


def event_emit(*, wallet_id: int, event_type: str, data: dict) -> int:
    """Write one event of `wallet_id`'s owner; returns its id."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("events are written in the transaction of their cause")
    (event_id,) = fetch_row(EMIT, [
        wallet_id, str(event_type), Jsonb(data, dumps=partial(json.dumps, cls=DjangoJSONEncoder)), timezone.now(),
    ])
    events_written.send(sender=OutboxEvent, event_ids=[event_id])
    return event_id


def events_emitted_in_bulk() -> None:
    """Tell listeners a set-based statement wrote events (ids unknown: the dispatcher sweeps them)."""
    events_written.send(sender=OutboxEvent, event_ids=[])
