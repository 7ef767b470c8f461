from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.periods import next_period
from common.serializers import StrictSerializer
from pricing.serializers import CalculateResponseSerializer

from .models import Grant
from .selectors import grant_expiring_soon


class ExpiringSoonSerializer(serializers.Serializer):
    credits = serializers.IntegerField()
    expires_at = serializers.DateTimeField()


class GrantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Grant
        fields = ["id", "source", "amount", "remaining", "held", "priority", "expires_at", "created_at", "reason"]


class StaffGrantResultSerializer(serializers.Serializer):
    wallets = serializers.IntegerField(help_text="Wallets credited (a retry with the same key gets this answer again and credits none).")
    amount = serializers.IntegerField()
    source = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)


class WalletBlockSerializer(serializers.Serializer):
    """The dashboard's `wallet` block (exact keys of the frontend guide)."""

    current_balance = serializers.IntegerField()
    monthly_allowance = serializers.IntegerField(source="package.monthly_credits")
    package_name = serializers.CharField(source="package.name")
    billing_cycle_start = serializers.DateField()
    wallet_status = serializers.CharField(source="status")


class BalanceSerializer(WalletBlockSerializer):
    monthly_credits_balance = serializers.IntegerField(source="monthly_balance", help_text="Monthly and rollover grants.")
    purchased_balance = serializers.IntegerField(help_text="Purchase grants.")
    bonus_balance = serializers.IntegerField(help_text="Promo, trial and compensation grants.")
    expiring_soon = serializers.SerializerMethodField(help_text="The next expiry within 7 days, or null.")
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()
    next_reset = serializers.SerializerMethodField()

    def get_next_reset(self, wallet) -> str:
        return next_period(wallet.billing_cycle_start).isoformat()

    @extend_schema_field(ExpiringSoonSerializer(allow_null=True))
    def get_expiring_soon(self, wallet) -> dict | None:
        soon = grant_expiring_soon(wallet)
        return ExpiringSoonSerializer(soon).data if soon else None


class TotalsSerializer(serializers.Serializer):
    total_granted = serializers.IntegerField()
    total_purchased = serializers.IntegerField()
    total_spent = serializers.IntegerField()
    total_refunded = serializers.IntegerField()
    total_expired = serializers.IntegerField()
    total_adjusted = serializers.IntegerField()
    free_uses = serializers.IntegerField()
    transactions_count = serializers.IntegerField()


class WalletSummarySerializer(serializers.Serializer):
    wallet = BalanceSerializer()
    lifetime = TotalsSerializer()


class EmptyBodySerializer(StrictSerializer):
    """POST wallet/create takes no fields; anything sent is refused rather than ignored."""


class DecisionSerializer(serializers.Serializer):
    action_type = serializers.CharField()
    can_perform = serializers.BooleanField()
    credits_required = serializers.IntegerField()
    current_balance = serializers.IntegerField()
    free_allowance_remaining = serializers.IntegerField()
    will_use_free_allowance = serializers.BooleanField()
    reason = serializers.CharField(allow_null=True)
    credits_needed = serializers.IntegerField()
    quantity = serializers.IntegerField()
    already_paid = serializers.BooleanField()


class CanPerformQuerySerializer(StrictSerializer):
    quantity = serializers.IntegerField(required=False, default=1, min_value=1, max_value=10_000)
    username = serializers.CharField(required=False, max_length=64)


class AllowanceSerializer(serializers.Serializer):
    monthly_allowance = serializers.IntegerField()
    used_this_month = serializers.IntegerField()
    remaining = serializers.IntegerField()
    next_reset = serializers.DateField()


class AllowancesSerializer(serializers.Serializer):
    """allowances answers {action_type: Allowance}: a map keyed by action type, not fixed fields.
    wallets/openapi.py describes it as such (drf-spectacular reads serializers, not bare fields)."""

    def to_representation(self, instance):
        return {action: AllowanceSerializer(row).data for action, row in instance.items()}


class RecentTransactionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    transaction_type = serializers.CharField()
    amount = serializers.IntegerField()
    action_type = serializers.CharField()
    created_at = serializers.DateTimeField()
    description = serializers.CharField()


class MonthlyUsageBlockSerializer(serializers.Serializer):
    total_spent = serializers.IntegerField()
    actions_performed = serializers.IntegerField()
    top_actions = serializers.ListField(child=serializers.CharField())
    free_allowances_used = serializers.IntegerField()


class DashboardRuleSerializer(serializers.Serializer):
    action_type = serializers.CharField()
    credits_per_action = serializers.IntegerField()
    free_allowance_per_month = serializers.IntegerField()


class TeamSpendSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.CharField()
    monthly_cap = serializers.IntegerField(allow_null=True)
    spent_this_month = serializers.IntegerField()
    held = serializers.IntegerField()


class DashboardSerializer(serializers.Serializer):
    wallet = WalletBlockSerializer()
    recent_transactions = RecentTransactionSerializer(many=True)
    monthly_usage = MonthlyUsageBlockSerializer()
    pricing_rules = DashboardRuleSerializer(many=True)
    unlocked_influencers_count = serializers.IntegerField()
    # Not read-only, so optional in the schema: there for a team's owners and admins only.
    team_spend = TeamSpendSerializer(
        many=True, required=False,
        help_text="A team's owners and admins: each member's role, monthly cap and spend this month.",
    )


class TopActionSerializer(serializers.Serializer):
    action_type = serializers.CharField()
    count = serializers.IntegerField()
    credits = serializers.IntegerField()


class StaffStatsSerializer(serializers.Serializer):
    wallets_by_status = serializers.DictField(child=serializers.IntegerField())
    credits_in_circulation = serializers.IntegerField()
    monthly_credits = serializers.IntegerField()
    purchased_credits = serializers.IntegerField()
    reserved_credits = serializers.IntegerField()
    spent_this_month = serializers.IntegerField()
    top_actions_this_month = TopActionSerializer(many=True)


class SystemStatsSerializer(serializers.Serializer):
    server_time = serializers.DateTimeField()
    current_period = serializers.CharField()
    next_reset = serializers.DateField()
    active_action_types = serializers.ListField(child=serializers.CharField())
    staff = StaffStatsSerializer(required=False)


# pricing/calculate: the quote plus what this user's balance says about it. (A comment, not a
# docstring: docstrings become descriptions in the OpenAPI schema.)
class CalculateResponse(CalculateResponseSerializer):
    can_afford = serializers.BooleanField()
    current_balance = serializers.IntegerField()


class PackageChoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    monthly_credits = serializers.IntegerField()
    rollover_cap = serializers.IntegerField()
    price_cents = serializers.IntegerField(help_text="Monthly price in the currency's smallest unit (0: free).")
    currency = serializers.CharField()
    current = serializers.BooleanField(help_text="The wallet's own package.")
