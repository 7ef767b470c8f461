from rest_framework import serializers

from common.serializers import StrictSerializer

from .models import BulkTier, PricingRule
from .money import money_display


class BulkTierSerializer(serializers.ModelSerializer):
    class Meta:
        model = BulkTier
        fields = ["min_quantity", "discount_percent"]


class PricingRuleSerializer(serializers.ModelSerializer):
    bulk_tiers = BulkTierSerializer(many=True, read_only=True)

    class Meta:
        model = PricingRule
        fields = [
            "action_type",
            "credits_per_action",
            "free_allowance_per_month",
            "description",
            "access_window_hours",
            "bulk_tiers",
        ]


class CalculateRequestSerializer(StrictSerializer):
    action_type = serializers.SlugField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)


class CalculateResponseSerializer(serializers.Serializer):
    action_type = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.IntegerField()
    free_units_applied = serializers.IntegerField(source="free_units")
    billable_units = serializers.IntegerField()
    subtotal = serializers.IntegerField()
    discount_percent = serializers.IntegerField()
    discount_credits = serializers.IntegerField()
    total_credits = serializers.IntegerField()


class TopUpEstimateRequestSerializer(StrictSerializer):
    credits = serializers.IntegerField(min_value=1, max_value=10_000_000)


class TopUpEstimateSerializer(serializers.Serializer):
    credits = serializers.IntegerField()
    unit_price = serializers.IntegerField(help_text="Price of one credit in the currency's minor unit (cents for usd).")
    total = serializers.IntegerField(help_text="What the top-up costs, in the currency's minor unit (cents for usd): "
                                               "5400 is 54.00 USD.")
    currency = serializers.CharField(help_text="ISO 4217 code, lower case.")
    tier = serializers.IntegerField(help_text="min_credits of the tier that applied.")
    total_display = serializers.SerializerMethodField(help_text="`total` for people, in major units: \"54.00 USD\".")
    unit_price_display = serializers.SerializerMethodField(help_text="`unit_price` for people: \"0.09 USD\".")

    def get_total_display(self, estimate) -> str:
        return money_display(estimate.total, estimate.currency)

    def get_unit_price_display(self, estimate) -> str:
        return money_display(estimate.unit_price, estimate.currency)
