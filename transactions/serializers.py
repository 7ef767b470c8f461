from rest_framework import serializers

from common.serializers import StrictSerializer

from .models import LedgerEntry


class LedgerEntrySerializer(serializers.ModelSerializer):
    action_type = serializers.CharField(read_only=True)  # empty for grants and top-ups
    # Not read-only, so the schema marks it optional: a team wallet's rows carry it (null on the
    # rows nobody's request made: grants, top-ups, expiry), a personal wallet's rows do not.
    member = serializers.CharField(
        source="member.username", required=False, allow_null=True,
        help_text="A team wallet's rows only: the member whose request it was (null for grants, top-ups, expiry).",
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "transaction_type",
            "amount",
            "delta",
            "balance_after",
            "action_type",
            "quantity",
            "reference",
            "description",
            "created_at",
            "member",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("team_wallet"):
            data.pop("member", None)
        return data


class ActionUsageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    credits = serializers.IntegerField()


class DailyUsageSerializer(serializers.Serializer):
    date = serializers.DateField()
    credits = serializers.IntegerField()
    actions = serializers.IntegerField()


class MonthlyUsageSerializer(serializers.Serializer):
    period = serializers.CharField()
    total_credits_spent = serializers.IntegerField()
    total_actions = serializers.IntegerField()
    free_allowances_used = serializers.IntegerField()
    action_breakdown = serializers.DictField(child=ActionUsageSerializer())
    daily_usage = DailyUsageSerializer(many=True)


class MonthSpendSerializer(serializers.Serializer):
    period = serializers.CharField()
    credits_spent = serializers.IntegerField()
    actions = serializers.IntegerField()
    free_uses = serializers.IntegerField()


class ActionSpendSerializer(serializers.Serializer):
    action_type = serializers.CharField()
    count = serializers.IntegerField()
    credits = serializers.IntegerField()


class CurrentMonthSerializer(serializers.Serializer):
    period = serializers.CharField()
    spent_so_far = serializers.IntegerField()
    projected = serializers.IntegerField()
    days_elapsed = serializers.IntegerField()
    days_in_month = serializers.IntegerField()


class SpendingAnalyticsSerializer(serializers.Serializer):
    months = serializers.IntegerField()
    monthly = MonthSpendSerializer(many=True)
    by_action = ActionSpendSerializer(many=True)
    total_spent = serializers.IntegerField()
    average_daily_spend = serializers.FloatField()
    current_month = CurrentMonthSerializer()


class PeriodQuerySerializer(StrictSerializer):
    period = serializers.RegexField(r"^\d{4}-\d{2}$", required=False, max_length=7)


class MonthsQuerySerializer(StrictSerializer):
    months = serializers.IntegerField(required=False, min_value=1, max_value=24, default=6)


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
