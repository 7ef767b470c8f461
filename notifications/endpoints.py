"""Managing webhook endpoints (admin and `manage.py webhook_endpoint_add`)."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from common.exceptions import DomainError
from outbox.events import EventType

from .models import Endpoint
from .signing import secret_generate
from .targets import TargetRefused, target_check

logger = logging.getLogger("credits.webhooks")

ROTATION_OVERLAP = timedelta(hours=24)


class InvalidEndpoint(DomainError):
    code = "invalid_webhook_endpoint"
    detail = "Invalid webhook endpoint."


def event_types_parse(text: str | list[str] | None) -> list[str]:
    """'balance.low,credits.expiring' -> the list; empty means every event. Unknown types are refused."""
    items = text if isinstance(text, list) else (text or "").split(",")
    types = [item.strip() for item in items if item.strip()]
    unknown = sorted(set(types) - set(EventType.values))
    if unknown:
        raise InvalidEndpoint(f"Unknown event types: {', '.join(unknown)}. Known: {', '.join(EventType.values)}.")
    return list(dict.fromkeys(types))


def endpoint_create(*, url: str, event_types: list[str] | None = None, description: str = "") -> Endpoint:
    """A new enabled endpoint with a fresh secret (the caller shows it once)."""
    try:
        target_check(url)
    except TargetRefused as refused:
        raise InvalidEndpoint(str(refused)) from None
    return Endpoint.objects.create(url=url, event_types=event_types_parse(event_types), description=description,
                                   secret=secret_generate())


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: Endpoint) -> str:
    """A new secret; the old one keeps signing alongside for ROTATION_OVERLAP. Returns the new one."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, timezone.now() + ROTATION_OVERLAP
    endpoint.secret = secret_generate()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    return endpoint.secret


def endpoint_enable(*, endpoint: Endpoint) -> None:
    Endpoint.objects.filter(pk=endpoint.pk).update(enabled=True, disabled_reason="", failing_since=None)


def endpoint_disable(*, endpoint_id: int, url: str, reason: str) -> None:
    """Stop sending to an endpoint that failed too long; staff see it (admin banner, error log)."""
    if Endpoint.objects.filter(pk=endpoint_id, enabled=True).update(enabled=False, disabled_reason=reason):
        logger.error("webhook endpoint %s (%s) disabled: %s", endpoint_id, url, reason)
