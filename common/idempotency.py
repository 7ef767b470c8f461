"""The `Idempotency-Key` convention for the POSTs that move credits or money.

A request sent with a key is remembered (per user) with its method, path and body. A retry of
the same request gets the first answer again and does nothing again; the same key on another
request (other path or body) is 409 `idempotency_key_reused`; a retry while the first is still
running is 409 `idempotency_key_in_flight` (retry later). An answer that is an error is not
remembered: it moved nothing, so the same key may be sent again.

A view opts in with `@honours_idempotency_key` on its handler; a body field of the same meaning
(`body_field`) is accepted as an alias of the header.
"""

import functools
import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.response import Response

from .exceptions import DomainError
from .models import IdempotentRequest

HEADER = "Idempotency-Key"


class InvalidIdempotencyKey(DomainError):
    code = "invalid_idempotency_key"
    detail = "Idempotency-Key must be 1 to 255 printable ASCII characters."


class IdempotencyKeyMismatch(DomainError):
    code = "idempotency_key_mismatch"
    detail = "The Idempotency-Key header and the body's idempotency_key differ: send one key."


class IdempotencyKeyReused(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "idempotency_key_reused"
    detail = "This Idempotency-Key was already used for another request: use a new key for a new request."


class IdempotencyKeyInFlight(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "idempotency_key_in_flight"
    detail = "A request with this Idempotency-Key is still being processed: retry in a moment."


# For the operations' OpenAPI decorations.
SCHEMA_PARAMETER = OpenApiParameter(
    HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, pattern=r"^[\x20-\x7E]{0,255}$",
    description="Empty: no key. A retry with the same key returns the first answer and moves nothing again; the same key "
                "on another request is 409 `idempotency_key_reused`.",
)
SCHEMA_RESPONSES = {
    409: OpenApiResponse(description="`idempotency_key_reused` (the key was used for another request) or "
                                     "`idempotency_key_in_flight` (its first request is still running)."),
}


def _valid(key: str) -> str:
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise InvalidIdempotencyKey()
    return key


def idempotency_key_of(request, *, body_field: str | None = None) -> str | None:
    """The request's key: the header, or the body field it aliases (both: they must agree)."""
    header = request.headers.get(HEADER) or None
    body = request.data.get(body_field) if body_field and isinstance(request.data, dict) else None
    if body is not None and not isinstance(body, str):
        raise InvalidIdempotencyKey()
    if header and body and header != body:
        raise IdempotencyKeyMismatch()
    key = header or body
    return _valid(key) if key else None


def _fingerprint(request, body_field: str | None) -> str:
    data = request.data if isinstance(request.data, dict) else {}
    # The alias is the key, not part of the request: with it in the body or in the header, the same request.
    payload = {name: value for name, value in data.items() if name != body_field}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _scope(request) -> str:
    return f"{request.method} {request.path.rstrip('/')}"[:255]


def _claim(*, user_id: int, key: str, scope: str, fingerprint: str) -> IdempotentRequest | None:
    """Record this request as the key's first; or return the key's earlier request.

    A record older than IDEMPOTENCY_KEY_TTL_HOURS is forgotten (the key may be used afresh), and so is
    one whose request never answered within IDEMPOTENCY_IN_FLIGHT_SECONDS (its server died): the
    services it called are idempotent on their own, so running it again is safe."""
    now = timezone.now()
    forgotten = (
        IdempotentRequest.objects.filter(user_id=user_id, key=key, created_at__lt=now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS))
        | IdempotentRequest.objects.filter(user_id=user_id, key=key, status_code__isnull=True,
                                           created_at__lt=now - timedelta(seconds=settings.IDEMPOTENCY_IN_FLIGHT_SECONDS))
    )
    while True:
        try:
            with transaction.atomic():
                forgotten.delete()
                IdempotentRequest.objects.create(user_id=user_id, key=key, scope=scope, fingerprint=fingerprint,
                                                 created_at=now)
            return None
        except IntegrityError:  # a concurrent or earlier request holds the key: read what it committed
            earlier = IdempotentRequest.objects.filter(user_id=user_id, key=key).first()
            if earlier is not None:
                return earlier
            # That request failed and let the key go in between: claim it again.


def _answer_of(earlier: IdempotentRequest, *, scope: str, fingerprint: str) -> Response:
    if earlier.scope != scope or earlier.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if earlier.status_code is None:
        raise IdempotencyKeyInFlight(headers={"Retry-After": "1"})
    return Response(earlier.response_body, status=earlier.status_code, headers={"Idempotent-Replayed": "true"})


def honours_idempotency_key(handler=None, *, body_field: str | None = None):
    """Decorate an APIView handler (`post`) so that it honours the Idempotency-Key header."""
    if handler is None:
        return functools.partial(honours_idempotency_key, body_field=body_field)

    @functools.wraps(handler)
    def run(view, request, *args, **kwargs):
        key = idempotency_key_of(request, body_field=body_field)
        if key is None:
            return handler(view, request, *args, **kwargs)
        scope, fingerprint = _scope(request), _fingerprint(request, body_field)
        earlier = _claim(user_id=request.user.pk, key=key, scope=scope, fingerprint=fingerprint)
        if earlier is not None:
            return _answer_of(earlier, scope=scope, fingerprint=fingerprint)
        mine = IdempotentRequest.objects.filter(user_id=request.user.pk, key=key)
        try:
            response = handler(view, request, *args, **kwargs)
        except BaseException:
            mine.delete()
            raise
        if status.is_success(response.status_code):
            mine.update(status_code=response.status_code, response_body=response.data)
        else:
            mine.delete()
        return response

    return run
