from django.db import connection
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from .heartbeat import heartbeat_status


def _component(name: str):
    return inline_serializer(
        name, {"alive": serializers.BooleanField(), "last_heartbeat": serializers.DateTimeField(allow_null=True)}
    )


@extend_schema(
    responses=inline_serializer(
        "Health",
        {
            "status": serializers.CharField(),
            "database": serializers.CharField(help_text="The database engine, e.g. postgresql."),
            "time": serializers.DateTimeField(),
            "worker": _component("HealthWorker"),
            "beat": _component("HealthBeat"),
        },
    ),
    tags=["ops"],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def health(request):
    """Liveness: the database answers; the worker and beat with their last heartbeats (a stopped
    worker or beat is reported, not an error: the API keeps serving without them)."""
    jobs = heartbeat_status()
    return Response(
        {"status": "ok", "database": connection.vendor, "time": timezone.now(), "worker": jobs["worker"],
         "beat": jobs["beat"]}
    )
