"""Pricing APIs: what actions and top-ups cost. The quote maths lives in `quotes`."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers as drf_serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from wallets.exceptions import InvalidAmount, UnknownAction
from wallets.models import AllowanceUsage
from common.periods import period_of
from wallets.selectors import current_wallet, free_remaining

from . import serializers
from .quotes import TopUpOutOfRange, quote, quote_top_up
from .selectors import active_rules

UNKNOWN = {404: OpenApiResponse(description="`unknown_action_type`")}


def rule_or_404(action_type: str):
    rule = active_rules().filter(action_type=action_type).first()
    if rule is None:
        raise UnknownAction(action_type)
    return rule


class PricingListView(APIView):
    @extend_schema(responses=serializers.PricingRuleSerializer(many=True), tags=["pricing"])
    def get(self, request):
        return Response(serializers.PricingRuleSerializer(active_rules(), many=True).data)


class PricingDetailView(APIView):
    @extend_schema(responses={200: serializers.PricingRuleSerializer, **UNKNOWN}, tags=["pricing"])
    def get(self, request, action_type):
        return Response(serializers.PricingRuleSerializer(rule_or_404(action_type)).data)


class CalculateResponse(serializers.CalculateResponseSerializer):
    can_afford = drf_serializers.BooleanField()
    current_balance = drf_serializers.IntegerField()


class PricingCalculateView(APIView):
    @extend_schema(
        request=serializers.CalculateRequestSerializer, responses={200: CalculateResponse, **UNKNOWN}, tags=["pricing"]
    )
    def post(self, request):
        body = serializers.CalculateRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rule = rule_or_404(body.validated_data["action_type"])
        wallet = current_wallet(user_id=request.user.pk)
        usage = AllowanceUsage.objects.filter(wallet=wallet, period=period_of(), action_type=rule.action_type).first()
        price = quote(rule, quantity=body.validated_data["quantity"], free_remaining=free_remaining(rule, usage))
        data = serializers.CalculateResponseSerializer(price).data
        data.update(can_afford=price.total_credits <= wallet.available, current_balance=wallet.available)
        return Response(data)


class TopUpEstimateView(APIView):
    @extend_schema(
        request=serializers.TopUpEstimateRequestSerializer,
        responses={200: serializers.TopUpEstimateSerializer, 400: OpenApiResponse(description="`invalid_amount`")},
        tags=["top-up"],
    )
    def post(self, request):
        body = serializers.TopUpEstimateRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            estimate = quote_top_up(body.validated_data["credits"])
        except TopUpOutOfRange as error:
            raise InvalidAmount(str(error)) from None
        return Response(serializers.TopUpEstimateSerializer(estimate).data)
