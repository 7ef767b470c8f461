"""Claiming deliveries: a batch at a time, by lease.

One statement moves `leased_until` forward on the batch and returns everything needed to send it
(the event, the endpoint), then commits: no row lock outlives the claim, none is held across an
HTTP call. A worker that dies mid-batch holds its deliveries only until the lease ends; then any
worker claims them again (at least once).

Only the first of a wallet's deliveries to an endpoint can be claimed: none while an earlier one to
that endpoint is pending (waiting for a retry, or in flight under a lease), and none while an
earlier event of the wallet is not fanned out yet. So a batch holds at most one delivery per
(endpoint, wallet), and sending its deliveries at once never reorders a wallet's events.

The claim names its wallets: those of one shard per statement (wallets.shards), since Citus locks
within a shard only; on plain PostgreSQL, one statement for them all."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

from outbox.models import OutboxEvent
from wallets.shards import by_shard

# The wallets with the first due deliveries, unlocked (the claim locks and checks again).
DUE_WALLETS = """
SELECT DISTINCT wallet_id FROM (
    SELECT d.wallet_id FROM notifications_delivery d
    WHERE d.status = 'pending' AND d.next_attempt_at <= %(now)s
      AND (d.leased_until IS NULL OR d.leased_until < %(now)s)
    ORDER BY d.next_attempt_at, d.event_id
    LIMIT %(limit)s
) due
"""

CLAIM = """
WITH due AS (
    SELECT d.id, d.wallet_id FROM notifications_delivery d
    WHERE d.wallet_id = ANY(%(wallets)s) AND d.status = 'pending' AND d.next_attempt_at <= %(now)s
      AND (d.leased_until IS NULL OR d.leased_until < %(now)s)
      AND NOT EXISTS (
          SELECT 1 FROM notifications_delivery e
          WHERE e.wallet_id = ANY(%(wallets)s)  -- repeated: Citus finds the one shard by it
            AND e.endpoint_id = d.endpoint_id AND e.wallet_id = d.wallet_id AND e.status = 'pending'
            AND e.event_id < d.event_id)
      AND NOT EXISTS (
          SELECT 1 FROM outbox_outboxevent u
          WHERE u.wallet_id = ANY(%(wallets)s) AND u.wallet_id = d.wallet_id AND u.dispatched_at IS NULL
            AND u.id < d.event_id)
    ORDER BY d.next_attempt_at, d.event_id
    LIMIT %(limit)s
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE notifications_delivery d
SET leased_until = %(lease_ends)s, lease_token = %(token)s
FROM due, outbox_outboxevent o, notifications_endpoint p
WHERE d.wallet_id = ANY(%(wallets)s) AND o.wallet_id = ANY(%(wallets)s)
  AND d.wallet_id = due.wallet_id AND d.id = due.id AND o.wallet_id = d.wallet_id AND o.id = d.event_id
  AND p.id = d.endpoint_id
RETURNING d.id, d.attempts, d.endpoint_id, p.url, p.enabled, p.secret, p.previous_secret, p.previous_secret_until,
          o.id, o.uid, o.wallet_id, o.event_type, o.data::text, o.created_at
"""


@dataclass(frozen=True)
class EndpointTarget:
    id: int
    url: str
    enabled: bool
    secret: str
    previous_secret: str
    previous_secret_until: datetime | None

    def secrets_in_use(self, at: datetime) -> list[str]:
        """The secret, and the one before a rotation while its overlap lasts."""
        if self.previous_secret and self.previous_secret_until and self.previous_secret_until > at:
            return [self.secret, self.previous_secret]
        return [self.secret]


@dataclass(frozen=True)
class LeasedDelivery:
    id: int
    attempts: int
    endpoint: EndpointTarget
    event: OutboxEvent  # built from the claim's row: its `payload()` and `webhook_id` are the contract


@dataclass(frozen=True)
class Lease:
    token: uuid.UUID
    ends: datetime
    deliveries: list[LeasedDelivery]


def deliveries_lease(*, now: datetime, seconds: float, limit: int, wallet_ids: list[int] | None = None) -> Lease:
    """Claim up to `limit` due deliveries (of `wallet_ids`, if given) until `now + seconds`."""
    token, ends = uuid.uuid4(), now + timedelta(seconds=seconds)
    params = {"now": now, "limit": limit, "lease_ends": ends, "token": token}
    endpoints: dict[int, EndpointTarget] = {}
    deliveries = []
    if connection.in_atomic_block:
        raise RuntimeError("a lease commits before its HTTP calls: claim outside any transaction")
    rows = []
    with connection.cursor() as cursor:  # autocommit: each statement is its own transaction
        if wallet_ids is None:
            cursor.execute(DUE_WALLETS, params)
            wallet_ids = [wallet_id for (wallet_id,) in cursor.fetchall()]
        for group in by_shard(wallet_ids):
            if len(rows) >= limit:
                break
            cursor.execute(CLAIM, {**params, "wallets": group, "limit": limit - len(rows)})
            rows += cursor.fetchall()
    for (pk, attempts, endpoint_id, url, enabled, secret, previous, previous_until,
         event_id, uid, wallet_id, event_type, data, created_at) in rows:
        endpoint = endpoints.setdefault(endpoint_id, EndpointTarget(endpoint_id, url, enabled, secret, previous, previous_until))
        event = OutboxEvent(id=event_id, uid=uid, wallet_id=wallet_id, event_type=event_type, data=json.loads(data),
                            created_at=created_at)
        deliveries.append(LeasedDelivery(pk, attempts, endpoint, event))
    deliveries.sort(key=lambda delivery: (delivery.event.created_at, delivery.event.id))
    return Lease(token, ends, deliveries)
