"""Settling a sent batch in one transaction of a few statements, whatever its size: the attempts
logged, each delivery delivered or scheduled again with backoff (or given up when its event's retry
window is over), the lease released, and the endpoints' failure clocks moved.

Only deliveries still under this batch's lease are changed: a worker whose lease ran out and was
taken over by another changes nothing (its attempts are still logged: they happened)."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from wallets.shards import distributed

from .endpoints import endpoint_disable
from .lease import Lease
from .models import DeliveryStatus
from .sending import EXCERPT_CHARS, Outcome

logger = logging.getLogger("credits.webhooks")

BACKOFF_SECONDS = (5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600)

LOG_ATTEMPTS = """
INSERT INTO notifications_deliveryattempt
    (delivery_id, wallet_id, attempted_at, status_code, error, response_excerpt, duration_ms)
SELECT a.delivery_id, a.wallet_id, %(now)s, a.status_code, a.error, a.excerpt, a.duration_ms
FROM unnest(%(ids)s::bigint[], %(wallets)s::int[], %(codes)s::int[], %(errors)s::text[], %(excerpts)s::text[],
            %(durations)s::int[])
     AS a(delivery_id, wallet_id, status_code, error, excerpt, duration_ms)
"""

# One row per delivery of the batch: `attempted` false for one given up without a request (its
# endpoint disabled) and for one released unsent at the lease's end (`status` stays pending).
SETTLE_DELIVERIES = """
UPDATE notifications_delivery d
SET status = s.status,
    attempts = d.attempts + s.attempted::int,
    next_attempt_at = COALESCE(s.next_attempt_at, d.next_attempt_at),
    last_status_code = CASE WHEN s.attempted THEN s.status_code ELSE d.last_status_code END,
    last_error = COALESCE(s.error, d.last_error),
    delivered_at = COALESCE(s.delivered_at, d.delivered_at),
    leased_until = NULL, lease_token = NULL
FROM unnest(%(ids)s::bigint[], %(statuses)s::text[], %(attempted)s::bool[], %(next)s::timestamptz[],
            %(codes)s::int[], %(errors)s::text[], %(delivered)s::timestamptz[])
     AS s(id, status, attempted, next_attempt_at, status_code, error, delivered_at)
WHERE d.id = s.id AND d.lease_token = %(token)s
"""

# A success clears an endpoint's failure clock, a failure starts it (both in one batch: it failed
# after answering, so its clock starts now). The rows are locked first, in id order, so that two
# workers settling batches of the same endpoints never deadlock; an endpoint that only succeeded and
# was not failing is not touched (nor locked). Two statements, neither with a CTE of the batch: on
# Citus (the endpoints are a reference table) such a CTE would be shipped to the nodes as a
# result file, which the update of a reference table after a multi-shard write fails to read.
LOCK_ENDPOINTS = """
SELECT p.id FROM notifications_endpoint p
WHERE p.id = ANY(%(ids)s) AND (p.id = ANY(%(failed)s) OR p.failing_since IS NOT NULL)
ORDER BY p.id
FOR UPDATE
"""
ENDPOINTS_CLOCK = """
UPDATE notifications_endpoint p
SET failing_since = CASE WHEN NOT s.failed THEN NULL
                         WHEN s.recovered THEN %(now)s
                         ELSE COALESCE(p.failing_since, %(now)s) END
FROM unnest(%(ids)s::bigint[], %(recovered)s::bool[], %(failed_flags)s::bool[]) AS s(id, recovered, failed)
WHERE p.id = ANY(%(locked)s) AND p.id = s.id
RETURNING p.id, p.url, p.failing_since
"""


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1])


@transaction.atomic
def deliveries_settle(*, lease: Lease, outcomes: list[Outcome], now: datetime) -> None:
    window = timedelta(hours=settings.WEBHOOK_RETRY_WINDOW_HOURS)
    rows, gave_up = [], set()
    for outcome in outcomes:
        delivery = outcome.delivery
        status, next_at, delivered_at = DeliveryStatus.PENDING, None, None
        if outcome.refused_disabled:
            status = DeliveryStatus.FAILED
        elif outcome.delivered:
            status, delivered_at = DeliveryStatus.DELIVERED, now
        elif outcome.attempted:
            window_ends = delivery.event.created_at + window
            if now >= window_ends:
                status = DeliveryStatus.FAILED
                gave_up.add(delivery.endpoint.id)
            else:
                next_at = min(now + backoff(delivery.attempts + 1), window_ends)
        error = outcome.error[:EXCERPT_CHARS] if (outcome.attempted or outcome.refused_disabled) else None
        rows.append((delivery.id, status, outcome.attempted and not outcome.refused_disabled, next_at,
                     outcome.status_code, error, delivered_at))
    logged = [outcome for outcome in outcomes if outcome.attempted and not outcome.refused_disabled]
    with connection.cursor() as cursor:
        if distributed():
            # The batch's wallets span shards, and the endpoints (a reference table its deliveries
            # point at) change after them: Citus allows that in one transaction only when it writes
            # the shards one connection per node.
            cursor.execute("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")
        if logged:
            cursor.execute(LOG_ATTEMPTS, {
                "now": now, "ids": [o.delivery.id for o in logged], "wallets": [o.delivery.event.wallet_id for o in logged],
                "codes": [o.status_code for o in logged],
                "errors": [o.error[:EXCERPT_CHARS] for o in logged], "excerpts": [o.excerpt[:EXCERPT_CHARS] for o in logged],
                "durations": [o.duration_ms for o in logged],
            })
        if rows:
            ids, statuses, attempted, next_at, codes, errors, delivered = (list(column) for column in zip(*rows))
            cursor.execute(SETTLE_DELIVERIES, {"ids": ids, "statuses": statuses, "attempted": attempted, "next": next_at,
                                               "codes": codes, "errors": errors, "delivered": delivered,
                                               "token": lease.token})
        _endpoints_settle(cursor, logged, gave_up, now, window)


def _endpoints_settle(cursor, logged: list[Outcome], gave_up: set[int], now: datetime, window: timedelta) -> None:
    """Move the endpoints' failure clocks. Given up on a delivery (its event's window is over), or
    failing for a whole window with no success: disabled, staff told."""
    recovered = {o.delivery.endpoint.id for o in logged if o.delivered}
    failed: dict[int, list[Outcome]] = {}
    for outcome in logged:
        if not outcome.delivered:
            failed.setdefault(outcome.delivery.endpoint.id, []).append(outcome)
    for outcomes in failed.values():
        first = outcomes[0]
        logger.warning("webhook delivery %s to %s failed (attempt %s): %s%s", first.delivery.id,
                       first.delivery.endpoint.url, first.delivery.attempts + 1, first.error,
                       f" (and {len(outcomes) - 1} more deliveries of this batch)" if len(outcomes) > 1 else "")
    ids = sorted(recovered | set(failed))
    if not ids:
        return
    cursor.execute(LOCK_ENDPOINTS, {"ids": ids, "failed": list(failed)})
    locked = [endpoint_id for (endpoint_id,) in cursor.fetchall()]
    if not locked:
        return
    cursor.execute(ENDPOINTS_CLOCK, {"ids": ids, "recovered": [i in recovered for i in ids],
                                     "failed_flags": [i in failed for i in ids], "locked": locked, "now": now})
    for endpoint_id, url, failing_since in cursor.fetchall():
        if endpoint_id in failed and (endpoint_id in gave_up or failing_since <= now - window):
            error = failed[endpoint_id][-1].error
            endpoint_disable(endpoint_id=endpoint_id, url=url,
                             reason=f"Failing since {failing_since:%Y-%m-%d %H:%M} UTC: {error}"[:255])
