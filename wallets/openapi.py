"""Schema extensions for wallet answers that are maps rather than objects with fixed fields."""

from drf_spectacular.extensions import OpenApiSerializerExtension


class AllowancesMap(OpenApiSerializerExtension):
    target_class = "wallets.serializers.AllowancesSerializer"

    def map_serializer(self, auto_schema, direction):
        from .serializers import AllowanceSerializer

        allowance = auto_schema.resolve_serializer(AllowanceSerializer, direction)
        return {"type": "object", "additionalProperties": allowance.ref, "description": "Keyed by action type."}
