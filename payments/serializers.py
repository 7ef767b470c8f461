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


class CardSerializer(serializers.Serializer):
    brand = serializers.CharField(source="card_brand")
    last4 = serializers.CharField(source="card_last4")


class AutoRechargeRequestSerializer(StrictSerializer):
    enabled = serializers.BooleanField()
    threshold = serializers.IntegerField(min_value=0, max_value=10_000_000)
    credits = serializers.IntegerField(min_value=1, max_value=10_000_000, required=False, allow_null=True)
    target_balance = serializers.IntegerField(min_value=1, max_value=10_000_000, required=False, allow_null=True)
    monthly_limit = serializers.IntegerField(min_value=0, max_value=10_000_000)

    def validate(self, data):
        if (data.get("credits") is None) == (data.get("target_balance") is None):
            raise serializers.ValidationError("Give either credits (top up by) or target_balance (top up to).")
        return data


class AutoRechargeSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(source="wallet.recharge_enabled")
    threshold = serializers.IntegerField(source="wallet.recharge_threshold")
    credits = serializers.IntegerField(source="wallet.recharge_credits", allow_null=True)
    target_balance = serializers.IntegerField(source="wallet.recharge_target", allow_null=True)
    monthly_limit = serializers.IntegerField(source="wallet.recharge_monthly_limit")
    status = serializers.CharField(source="wallet.recharge_status")
    payment_method = CardSerializer(allow_null=True, help_text="The saved card ({brand, last4}), or null.")
    recharged_this_month = serializers.IntegerField(help_text="Credits recharged this month (succeeded).")
    last_failure = serializers.CharField(allow_null=True, help_text="Why the last recharge failed, if it did.")


class SetupSerializer(serializers.Serializer):
    checkout_url = serializers.URLField(source="url")
    session_id = serializers.CharField(source="id")


class PlanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    monthly_credits = serializers.IntegerField()
    price_cents = serializers.IntegerField()
    currency = serializers.CharField()


class SubscriptionSerializer(serializers.Serializer):
    package = PlanSerializer(help_text="The wallet's package now (the default one without a subscription).")
    status = serializers.ChoiceField(choices=["none", "incomplete", "active", "past_due", "canceled", "unpaid"])
    current_period_start = serializers.DateTimeField(allow_null=True)
    current_period_end = serializers.DateTimeField(allow_null=True)
    cancel_at_period_end = serializers.BooleanField()
    pending_package = PlanSerializer(allow_null=True, help_text="A downgrade waiting for the period's end.")
    upgrade_pending = PlanSerializer(allow_null=True, help_text="An upgrade waiting for its invoice to be paid.")
    payment_url = serializers.CharField(allow_null=True, help_text="Where to pay the invoice that failed.")
    wallet_status = serializers.ChoiceField(choices=["active", "locked"])


class SubscriptionRequestSerializer(StrictSerializer):
    package = serializers.IntegerField(min_value=1, max_value=2_147_483_647, help_text="A package id (GET packages).")


class RedirectSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="Where to send the buyer (Stripe Checkout or the customer portal).")
