"""Grants over HTTP: a user's own grants, and staff giving promo, trial or compensation credits."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import F, Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from common import idempotency
from common.pagination import StrictQueryParams
from common.serializers import StrictSerializer
from pricing.models import Package

from .models import STAFF_SOURCES, Grant
from .serializers import GrantSerializer, StaffGrantResultSerializer
from .services import credits_grant
from .teams import wallet_id_of

STATUSES = ("active", "expired", "all")


class GrantListView(StrictQueryParams, generics.ListAPIView):
    """The user's grants, soonest to expire first: `active` (credits left, not expired; the default),
    `expired`, or `all`."""

    serializer_class = GrantSerializer
    extra_query_params = {"status"}
    filter_backends = []

    def get_queryset(self):
        now = timezone.now()
        grants = Grant.objects.filter(wallet_id=wallet_id_of(self.request.user))
        expired = Q(expires_at__lte=now) | Q(expired_at__isnull=False)
        status_ = self.request.query_params.get("status", "active")
        if status_ not in STATUSES:
            raise ValidationError({"status": [f"Must be one of: {', '.join(STATUSES)}."]})
        if status_ == "active":
            grants = grants.filter(remaining__gt=0).exclude(expired)
        elif status_ == "expired":
            grants = grants.filter(expired)
        return grants.order_by(F("expires_at").asc(nulls_last=True), "id")

    @extend_schema(
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=list(STATUSES), description="Default: active.")],
        tags=["wallet"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class StaffGrantSerializer(StrictSerializer):
    amount = serializers.IntegerField(min_value=1, max_value=10_000_000)
    reason = serializers.CharField(max_length=255)
    source = serializers.ChoiceField(choices=list(STAFF_SOURCES), default="promo")
    usernames = serializers.ListField(child=serializers.CharField(max_length=150), required=False, min_length=1,
                                      max_length=10_000)
    package = serializers.CharField(required=False, max_length=64, help_text="Every wallet of this package.")
    expires_at = serializers.DateTimeField(required=False)
    expires_in_days = serializers.IntegerField(required=False, min_value=1, max_value=3650)
    priority = serializers.IntegerField(required=False, min_value=-1000, max_value=1000)
    idempotency_key = serializers.CharField(required=False, max_length=200,
                                            help_text="An alias of the Idempotency-Key header (send one or the "
                                                      "other): a retry with the same key grants nothing twice.")

    def validate(self, attrs):
        if ("usernames" in attrs) == ("package" in attrs):
            raise ValidationError("Give either usernames or package.", code="invalid_target")
        if "expires_at" in attrs and "expires_in_days" in attrs:
            raise ValidationError("Give expires_at or expires_in_days, not both.", code="invalid_expiry")
        if "expires_in_days" in attrs:
            attrs["expires_at"] = timezone.now() + timedelta(days=attrs.pop("expires_in_days"))
        if attrs.get("expires_at") is not None and attrs["expires_at"] <= timezone.now():
            raise ValidationError({"expires_at": ["Must be in the future."]})
        return attrs


class StaffGrantView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=StaffGrantSerializer,
        parameters=[idempotency.SCHEMA_PARAMETER],
        responses={201: StaffGrantResultSerializer,
                   400: OpenApiResponse(description="Invalid grant or unknown users (`invalid`), `invalid_amount`, "
                                                    "`invalid_idempotency_key`, `idempotency_key_mismatch`."),
                   **idempotency.SCHEMA_RESPONSES},
        tags=["staff"],
    )
    @idempotency.honours_idempotency_key(body_field="idempotency_key")
    def post(self, request):
        body = StaffGrantSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        target = {}
        if "usernames" in data:
            names = set(data["usernames"])
            found = dict(get_user_model().objects.filter(username__in=names).values_list("username", "pk"))
            if missing := sorted(names - set(found)):
                raise ValidationError({"usernames": [f"Unknown users: {', '.join(missing[:20])}."]})
            target["user_ids"] = list(found.values())
        else:
            package = Package.objects.filter(name=data["package"]).first()
            if package is None:
                raise ValidationError({"package": ["Unknown package."]})
            target["package_id"] = package.pk
        outcome = credits_grant(
            amount=data["amount"], reason=data["reason"], source=data["source"], expires_at=data.get("expires_at"),
            priority=data.get("priority"), actor=request.user,
            idempotency_key=idempotency.idempotency_key_of(request, body_field="idempotency_key"), **target,
        )
        return Response(StaffGrantResultSerializer(outcome).data, status=status.HTTP_201_CREATED)
