"""The user's side: alert settings (`alerts`) and in-app notifications (`notifications`, `.../read`)."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from common.pagination import StrictQueryParams
from wallets.exceptions import TeamRoleRequired
from wallets.outcomes import AlertState
from wallets.services import wallet_refresh, wallet_set_low_balance_threshold
from wallets.teams import manages_wallet, wallet_id_of

from . import serializers
from .models import Notification, Preference
from .openapi import EVENT_COMPONENT_NAMES

STATE_NAMES = dict(AlertState.choices)


def _alerts_body(wallet, email_enabled: bool) -> dict:
    return {
        "low_balance_threshold": wallet.low_balance_threshold,
        "alert_state": STATE_NAMES.get(wallet.low_balance_state, "armed"),
        "available": wallet.available,
        "email_notifications": email_enabled,
    }


def _require_body(request) -> None:
    """PATCH alerts and POST notifications/read take a JSON object ({} included); no body at all is a
    client mistake (the schema marks the body required)."""
    if request.META.get("CONTENT_LENGTH") in (None, "", "0") and "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", ""):
        raise ValidationError({"body": ["A JSON object is required."]})


def _email_enabled(user_id: int) -> bool:
    return Preference.objects.filter(user_id=user_id).values_list("email_enabled", flat=True).first() is not False


class AlertsView(APIView):
    @staticmethod
    def schema_errors(method: str) -> dict[str, str]:
        return {"403": "The threshold of a team's wallet, set by a member (`team_role_required`)."} if method == "PATCH" else {}

    @extend_schema(responses={200: serializers.AlertSettingsSerializer}, tags=["notifications"])
    def get(self, request):
        wallet = wallet_refresh(user_id=wallet_id_of(request.user))
        return Response(_alerts_body(wallet, _email_enabled(request.user.pk)))

    @extend_schema(request=serializers.AlertSettingsUpdateSerializer,
                   responses={200: serializers.AlertSettingsSerializer}, tags=["notifications"])
    def patch(self, request):
        _require_body(request)
        body = serializers.AlertSettingsUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "low_balance_threshold" in data:
            if not manages_wallet(request.user):
                raise TeamRoleRequired()  # the threshold is the team wallet's; the email choice is one's own
            wallet_set_low_balance_threshold(user_id=wallet_id_of(request.user), threshold=data["low_balance_threshold"])
        if "email_notifications" in data:
            Preference.objects.update_or_create(user_id=request.user.pk,
                                                defaults={"email_enabled": data["email_notifications"]})
        return self.get(request)


class NotificationListView(StrictQueryParams, generics.ListAPIView):
    """Newest first, with `unread_count` beside the page. `?unread=true` lists only unread ones."""

    serializer_class = serializers.NotificationSerializer
    filter_backends = []
    extra_query_params = {"unread"}

    def get_queryset(self):
        notifications = Notification.objects.filter(user_id=self.request.user.pk).select_related("event")
        if self.request.query_params.get("unread") in ("1", "true"):
            notifications = notifications.filter(read_at__isnull=True)
        return notifications.order_by("-id")

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        response.data["unread_count"] = Notification.objects.filter(user_id=request.user.pk, read_at__isnull=True).count()
        return response

    @extend_schema(
        tags=["notifications"],
        description="In-app notifications. Each `data` is the event's data; the event payloads are the "
        "components " + ", ".join(f"`{name}`" for name in EVENT_COMPONENT_NAMES) + " (also sent as webhooks).",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NotificationReadView(APIView):
    @extend_schema(request=serializers.MarkReadSerializer, responses={200: serializers.MarkReadResultSerializer},
                   tags=["notifications"])
    def post(self, request):
        _require_body(request)
        body = serializers.MarkReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        unread = Notification.objects.filter(user_id=request.user.pk, read_at__isnull=True)
        chosen = unread.filter(pk__in=body.validated_data["ids"]) if "ids" in body.validated_data else unread
        marked = chosen.update(read_at=timezone.now())
        return Response({"marked": marked, "unread_count": unread.count()})
