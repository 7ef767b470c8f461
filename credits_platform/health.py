from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from .unavailable import log_unavailable, retry_after


def database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except DatabaseError as error:
        log_unavailable(error, "health")
        return "down"


def cache_state() -> str:
    """`ok`, `down` (Redis configured and not answering: the cache runs from process memory) or
    `local` (no Redis configured)."""
    ping = getattr(cache, "ping", None)
    if ping is None:
        return "local"
    return "ok" if ping() else "down"


@extend_schema(
    responses={
        200: inline_serializer(
            "Health",
            {
                "status": serializers.ChoiceField(["ok", "degraded"]),
                "database": serializers.CharField(),
                "time": serializers.DateTimeField(),
                "dependencies": inline_serializer(
                    "HealthDependencies",
                    {"database": serializers.ChoiceField(["ok", "down"]),
                     "cache": serializers.ChoiceField(["ok", "down", "local"])},
                ),
            },
        ),
        503: inline_serializer(
            "HealthUnavailable",
            {"status": serializers.ChoiceField(["unavailable"]), "database": serializers.CharField(),
             "time": serializers.DateTimeField(), "dependencies": serializers.DictField(child=serializers.CharField()),
             "detail": serializers.CharField(), "code": serializers.CharField()},
        ),
    },
    tags=["ops"],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def health(request):
    """Liveness and each dependency; no authentication. 503 when the database is down (the API
    cannot serve anything), 200 `degraded` when only the cache is (requests still work)."""
    dependencies = {"database": database_state(), "cache": cache_state()}
    body = {"status": "ok", "database": connection.vendor, "time": timezone.now(), "dependencies": dependencies}
    if dependencies["database"] != "ok":
        body.update(status="unavailable", detail="The database is not answering.", code="service_unavailable")
        return Response(body, status=503, headers={"Retry-After": retry_after()})
    if dependencies["cache"] == "down":
        body["status"] = "degraded"
    return Response(body)
