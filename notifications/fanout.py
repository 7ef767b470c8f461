"""After commit: outbox events become one delivery per subscribed endpoint, an in-app notification
each and (for balance.low and credits.expiring, unless the user turned it off) one email.

In sets: a batch of events is claimed, written out and marked dispatched in one transaction of a
few statements, whatever its size. An event no endpoint subscribed to gets no delivery row.

Idempotent: the batch is claimed with FOR UPDATE SKIP LOCKED and marked `dispatched_at` in the same
statement (one per shard on Citus), deliveries are unique per (event, endpoint) and notifications
per event, so the on-commit task and beat's sweep may both run for the same events."""

import json
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from wallets.shards import shard_of

from .emails import emails_send
from .messages import EMAILED, title_and_message
from .models import Endpoint

# The oldest undispatched events (of `ids`, if given), in the order they were written, read
# without a lock: they are claimed next, per shard.
PENDING_EVENTS = """
SELECT wallet_id, id, {shard} FROM outbox_outboxevent
WHERE dispatched_at IS NULL {only}
ORDER BY created_at, id LIMIT %(limit)s
"""

# Those of one shard's wallets, marked dispatched in the statement that claims them; events another
# worker is fanning out are skipped, not waited for. Named by wallet: on Citus the statement stays
# on one shard, where it may lock (it refuses to lock across shards).
CLAIM_EVENTS = """
UPDATE outbox_outboxevent o SET dispatched_at = %(now)s
FROM (SELECT wallet_id, id FROM outbox_outboxevent
      WHERE wallet_id = ANY(%(wallets)s) AND id = ANY(%(ids)s) AND dispatched_at IS NULL
      ORDER BY wallet_id, id
      FOR UPDATE SKIP LOCKED) batch
WHERE o.wallet_id = batch.wallet_id AND o.id = batch.id
RETURNING o.id, o.wallet_id, o.event_type, o.data::text, o.created_at
"""

INSERT_DELIVERIES = """
INSERT INTO notifications_delivery
    (event_id, endpoint_id, wallet_id, status, attempts, next_attempt_at, last_error, created_at)
SELECT d.event_id, d.endpoint_id, d.wallet_id, 'pending', 0, d.due, '', %(now)s
FROM unnest(%(events)s::bigint[], %(endpoints)s::bigint[], %(wallets)s::integer[], %(due)s::timestamptz[])
     AS d(event_id, endpoint_id, wallet_id, due)
ON CONFLICT (event_id, endpoint_id, wallet_id) DO NOTHING
"""

# The event's data is copied from its outbox row here rather than sent back from Python. A
# personal wallet's notification goes to its user, a team wallet's to the team's owner.
INSERT_NOTIFICATIONS = """
INSERT INTO notifications_notification (user_id, event_id, event_type, title, message, data, created_at)
SELECT coalesce(w.user_id, owner.user_id), o.id, o.event_type, n.title, n.message, o.data, o.created_at
FROM unnest(%(events)s::bigint[], %(titles)s::text[], %(messages)s::text[]) AS n(event_id, title, message)
JOIN outbox_outboxevent o ON o.id = n.event_id
JOIN wallets_wallet w ON w.id = o.wallet_id
LEFT JOIN wallets_membership owner ON w.user_id IS NULL AND owner.team_id = w.id AND owner.role = 'owner'
WHERE coalesce(w.user_id, owner.user_id) IS NOT NULL
ON CONFLICT (event_id) DO NOTHING
"""


@dataclass(frozen=True)
class ClaimedEvent:
    id: int
    wallet_id: int
    event_type: str
    data: dict
    created_at: datetime


def events_dispatch(*, event_ids: list[int] | None = None, limit: int = 500) -> list[int]:
    """Dispatch the given events (or the oldest undispatched ones), up to `limit`, in batches of
    WEBHOOK_BATCH_SIZE; returns the wallets touched."""
    wallets: set[int] = set()
    done = 0
    while done < limit:
        size = min(settings.WEBHOOK_BATCH_SIZE, limit - done)
        waiting, batch = events_dispatch_batch(event_ids=event_ids, limit=size)
        done += len(batch)
        wallets.update(event.wallet_id for event in batch)
        emails_send(event_ids=[event.id for event in batch if event.event_type in EMAILED])
        # Done when nothing more was waiting (the on-commit task's one event: one batch), or when
        # every event waiting is another worker's now (it finishes them).
        if waiting < size or not batch:
            break
    return sorted(wallets)


def events_dispatch_batch(*, event_ids: list[int] | None = None, limit: int) -> tuple[int, list[ClaimedEvent]]:
    """One batch, one transaction: claim and mark the events, write their deliveries and in-app
    notifications. Returns how many were waiting (up to `limit`) and the events dispatched (fewer,
    when another worker claimed some first)."""
    now = timezone.now()
    only, params = "", {"limit": limit}
    if event_ids is not None:
        only, params["ids"] = "AND id = ANY(%(ids)s)", list(event_ids)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(PENDING_EVENTS.format(only=only, shard=shard_of("wallet_id")), params)
        waiting = cursor.fetchall()
        shards: dict[int, list[tuple[int, int]]] = {}
        for wallet_id, event_id, shard in waiting:
            shards.setdefault(shard, []).append((wallet_id, event_id))
        events = []
        for pending in shards.values():
            cursor.execute(CLAIM_EVENTS, {"now": now, "wallets": sorted({w for w, _ in pending}),
                                          "ids": [event_id for _, event_id in pending]})
            events += [ClaimedEvent(pk, wallet, event_type, json.loads(data), created)
                       for pk, wallet, event_type, data, created in cursor.fetchall()]
        if not events:
            return len(waiting), []
        events.sort(key=lambda event: (event.created_at, event.id))
        _deliveries_write(cursor, events, now)
        _notifications_write(cursor, events)
    return len(waiting), events


def _deliveries_write(cursor, events: list[ClaimedEvent], now: datetime) -> None:
    """One row per (event, enabled endpoint that wants its type); none at all, and no statement,
    when no endpoint wants any of them."""
    endpoints = list(Endpoint.objects.filter(enabled=True).only("pk", "event_types"))
    pairs = [(event, endpoint.pk) for event in events for endpoint in endpoints if endpoint.wants(event.event_type)]
    if not pairs:
        return
    cursor.execute(INSERT_DELIVERIES, {
        "now": now,
        "events": [event.id for event, _ in pairs],
        "endpoints": [endpoint_id for _, endpoint_id in pairs],
        "wallets": [event.wallet_id for event, _ in pairs],
        # A retry's clock and the order of the claim start at the event, as before.
        "due": [event.created_at for event, _ in pairs],
    })


def _notifications_write(cursor, events: list[ClaimedEvent]) -> None:
    # The owner exists: a user with a wallet cannot be deleted (the ledger protects it).
    texts = [title_and_message(event.event_type, event.data) for event in events]
    cursor.execute(INSERT_NOTIFICATIONS, {
        "events": [event.id for event in events],
        "titles": [title for title, _ in texts],
        "messages": [message for _, message in texts],
    })
