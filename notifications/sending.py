"""Sending a leased batch: per endpoint, over a few kept-alive connections at once, no database.

Every request has a deadline (WEBHOOK_TIMEOUT_SECONDS for the whole attempt: connect, headers,
body) and the batch has one (its lease): a delivery that cannot finish before the lease ends is
not started, and comes back unattempted, so its lease is released rather than overrun (another
worker could otherwise claim it while it is still in flight)."""

import json
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime

import httpx
from django.conf import settings
from django.utils import timezone

from .lease import EndpointTarget, Lease, LeasedDelivery
from .signing import signature_header
from .targets import TargetRefused, target_check

USER_AGENT = "credits-platform-webhooks/1"
EXCERPT_CHARS = 500
# A receiver's answer is read up to this much (so the connection can be kept), never more.
MAX_ANSWER_BYTES = 65536
# Time kept between the last request's deadline and the lease's end, for settling.
LEASE_MARGIN_SECONDS = 2.0


@dataclass
class Outcome:
    delivery: LeasedDelivery
    attempted: bool = True  # False: not started before the lease's end; released, not counted
    status_code: int | None = None
    error: str = ""
    excerpt: str = ""
    duration_ms: int = 0
    refused_disabled: bool = False  # the endpoint was disabled meanwhile: given up without a request

    @property
    def delivered(self) -> bool:
        return self.attempted and not self.error and not self.refused_disabled


class AttemptTimedOut(Exception):
    pass


class EndpointSenders:
    """The kept-alive connections of one worker's run: one client (httpx's may be shared between
    threads) and as many sending threads as it has connections per endpoint, reused across
    batches, closed at the end (`with`)."""

    def __init__(self, client: httpx.Client | None = None):
        self._shared_client = client
        self._clients: dict[int, httpx.Client] = {}
        self._pools: dict[int, ThreadPoolExecutor] = {}

    def __enter__(self) -> "EndpointSenders":
        return self

    def __exit__(self, *exc) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        for client in self._clients.values():
            client.close()

    def _client(self, endpoint_id: int) -> httpx.Client:
        if self._shared_client is not None:
            return self._shared_client
        if endpoint_id not in self._clients:
            connections = settings.WEBHOOK_CONNECTIONS_PER_ENDPOINT
            self._clients[endpoint_id] = httpx.Client(
                timeout=settings.WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False, headers={"User-Agent": USER_AGENT},
                limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            )
        return self._clients[endpoint_id]

    def _pool(self, endpoint_id: int) -> ThreadPoolExecutor:
        if endpoint_id not in self._pools:
            self._pools[endpoint_id] = ThreadPoolExecutor(max_workers=settings.WEBHOOK_CONNECTIONS_PER_ENDPOINT,
                                                          thread_name_prefix=f"webhooks-{endpoint_id}")
        return self._pools[endpoint_id]

    def send(self, lease: Lease, *, now: datetime) -> list[Outcome]:
        """Every delivery of the batch, each endpoint's at once over its connections; in the
        batch's order per endpoint (event order)."""
        lease_left = (lease.ends - now).total_seconds()
        start_before = time.monotonic() + lease_left - LEASE_MARGIN_SECONDS - settings.WEBHOOK_TIMEOUT_SECONDS
        by_endpoint: dict[int, list[LeasedDelivery]] = {}
        for delivery in lease.deliveries:
            by_endpoint.setdefault(delivery.endpoint.id, []).append(delivery)
        futures, outcomes = [], []
        for endpoint_id, deliveries in by_endpoint.items():
            endpoint = deliveries[0].endpoint
            refusal = _refusal(endpoint)
            if refusal is not None:
                outcomes += [refusal(delivery) for delivery in deliveries]
                continue
            client, pool = self._client(endpoint_id), self._pool(endpoint_id)
            futures += [(delivery, pool.submit(_post, client, delivery, start_before)) for delivery in deliveries]
        wait([future for _, future in futures], timeout=max(lease_left - LEASE_MARGIN_SECONDS, 0))
        for delivery, future in futures:
            if future.done():
                outcomes.append(future.result())
            else:  # still in flight at the lease's end: recorded as a timeout; its thread ends at its own deadline
                future.cancel()
                outcomes.append(Outcome(delivery, error=_timed_out()))
        return outcomes


def _timed_out() -> str:
    return f"Timed out after {settings.WEBHOOK_TIMEOUT_SECONDS:g} s."


def _refusal(endpoint: EndpointTarget):
    """Endpoint-wide answers that need no request: disabled (give up), or a target refused now."""
    if not endpoint.enabled:
        return lambda delivery: Outcome(delivery, refused_disabled=True, error="The endpoint is disabled.")
    try:
        target_check(endpoint.url)  # the address is checked again for each batch sent
    except TargetRefused as refused:
        reason = str(refused)
        return lambda delivery: Outcome(delivery, error=reason)
    return None


def _post(client: httpx.Client, delivery: LeasedDelivery, start_before: float) -> Outcome:
    if time.monotonic() > start_before:
        return Outcome(delivery, attempted=False)
    endpoint, event = delivery.endpoint, delivery.event
    body = json.dumps(event.payload(), separators=(",", ":"))
    sent_at = timezone.now()
    headers = {
        "content-type": "application/json",
        "webhook-id": event.webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature_header(endpoint.secrets_in_use(sent_at), msg_id=event.webhook_id,
                                              timestamp=sent_at, body=body),
    }
    outcome, started = Outcome(delivery), time.monotonic()
    deadline = started + settings.WEBHOOK_TIMEOUT_SECONDS
    try:
        with client.stream("POST", endpoint.url, content=body.encode(), headers=headers) as response:
            outcome.status_code = response.status_code
            outcome.excerpt = _read_answer(response, deadline)
        if not 200 <= outcome.status_code < 300:
            redirect = " (redirects are not followed)" if 300 <= outcome.status_code < 400 else ""
            outcome.error = f"HTTP {outcome.status_code}{redirect}"
    except (httpx.TimeoutException, AttemptTimedOut):
        outcome.error = _timed_out()
    except httpx.HTTPError as failure:
        outcome.error = f"{type(failure).__name__}: {failure}"[:EXCERPT_CHARS]
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


def _read_answer(response: httpx.Response, deadline: float) -> str:
    """The answer's start, for the log; a body that trickles past the deadline or never ends is cut off."""
    read = bytearray()
    for chunk in response.iter_bytes():
        read += chunk
        if time.monotonic() > deadline:
            raise AttemptTimedOut()
        if len(read) >= MAX_ANSWER_BYTES:
            break
    return read[:EXCERPT_CHARS * 4].decode(response.encoding or "utf-8", errors="replace")[:EXCERPT_CHARS]
