from rest_framework import serializers

from common.serializers import StrictSerializer

from .models import TopUp


class TopUpSerializer(serializers.ModelSerializer):
    class Meta:
        model = TopUp
        fields = [
            "id",
            "credits",
            "amount_cents",
            "currency",
            "status",
            "provider",
            "provider_reference",
            "refunded_credits",
            "created_at",
            "completed_at",
        ]


class CheckoutRequestSerializer(StrictSerializer):
    credits = serializers.IntegerField(min_value=1, max_value=10_000_000)


class CheckoutSerializer(serializers.Serializer):
    top_up_id = serializers.IntegerField(source="pk")
    credits = serializers.IntegerField()
    amount_cents = serializers.IntegerField()
    currency = serializers.CharField()
    status = serializers.CharField()
    session_id = serializers.CharField(source="provider_reference")
    checkout_url = serializers.CharField()
