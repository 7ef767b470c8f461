from rest_framework import serializers

from common.serializers import StrictSerializer
from outbox.events import EventType

from .models import Notification


class AlertSettingsSerializer(serializers.Serializer):
    low_balance_threshold = serializers.IntegerField(help_text="balance.low fires when the available balance falls below this (0: off).")
    alert_state = serializers.ChoiceField(choices=["armed", "low", "depleted"], read_only=True,
                                          help_text="armed: nothing fired since the balance was last at or above the threshold.")
    available = serializers.IntegerField(read_only=True)
    email_notifications = serializers.BooleanField(help_text="Email for balance.low and credits.expiring.")


class AlertSettingsUpdateSerializer(StrictSerializer):
    low_balance_threshold = serializers.IntegerField(required=False, min_value=0, max_value=10_000_000)
    email_notifications = serializers.BooleanField(required=False)


class NotificationSerializer(serializers.ModelSerializer):
    type = serializers.ChoiceField(source="event_type", choices=EventType.choices)
    event_id = serializers.CharField(source="event.webhook_id", help_text="The webhook-id of the same event.")

    class Meta:
        model = Notification
        fields = ["id", "type", "title", "message", "data", "created_at", "read_at", "event_id"]


class MarkReadSerializer(StrictSerializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=1000,
                                help_text="Notifications to mark read; omitted: all of them.")


class MarkReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread_count = serializers.IntegerField()
