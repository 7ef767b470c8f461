from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from common.unavailable import log_unavailable, retry_after

from .heartbeat import heartbeat_status


def _component(name: str):
    return inline_serializer(
        name, {"alive": serializers.BooleanField(), "last_heartbeat": serializers.DateTimeField(allow_null=True)}
    )


def jobs_state() -> dict | None:
    """The worker's and beat's heartbeats; its query is also the database probe (None: down)."""
    try:
        return heartbeat_status()
    except DatabaseError as error:
        log_unavailable(error, "health")
        return None


def cache_state() -> str:
    """`ok`; `down` (Redis configured and not answering: the cache runs from process memory, see
    common/cache.py); or `local` (no Redis configured)."""
    ping = getattr(cache, "ping", None)
    if ping is None:
        return "local"
    return "ok" if ping() else "down"


DEPENDENCIES = inline_serializer(
    "HealthDependencies",
    {"database": serializers.ChoiceField(["ok", "down"]), "cache": serializers.ChoiceField(["ok", "down", "local"])},
)


@extend_schema(
    responses={
        200: inline_serializer(
            "Health",
            {
                "status": serializers.ChoiceField(["ok", "degraded"]),
                "database": serializers.CharField(help_text="The database engine, e.g. postgresql."),
                "time": serializers.DateTimeField(),
                "worker": _component("HealthWorker"),
                "beat": _component("HealthBeat"),
                "dependencies": DEPENDENCIES,
            },
        ),
        503: inline_serializer(
            "HealthUnavailable",
            {
                "status": serializers.ChoiceField(["unavailable"]),
                "database": serializers.CharField(),
                "time": serializers.DateTimeField(),
                "dependencies": DEPENDENCIES,
                "detail": serializers.CharField(),
                "code": serializers.CharField(),
            },
        ),
    },
    tags=["ops"],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def health(request):
    """Liveness and each dependency. 503 `unavailable` (with Retry-After) when the database does not
    answer: nothing can be served. 200 `degraded` when only Redis is down: requests still work.
    The worker and beat with their last heartbeats (a stopped worker or beat is reported, not an
    error: the API keeps serving without them)."""
    jobs = jobs_state()
    dependencies = {"database": "ok" if jobs is not None else "down", "cache": cache_state()}
    body = {"status": "ok", "database": connection.vendor, "time": timezone.now(), "dependencies": dependencies}
    if jobs is None:
        body.update(status="unavailable", detail="The database is not answering.", code="service_unavailable")
        return Response(body, status=503, headers={"Retry-After": retry_after()})
    body.update(jobs)
    if dependencies["cache"] == "down":
        body["status"] = "degraded"
    return Response(body)
