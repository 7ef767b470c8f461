"""Pricing APIs: what actions and top-ups cost. The quote maths lives in `quotes`; what an action
would cost this user now (free units left, balance) is wallets' `pricing/calculate`."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from . import serializers
from .exceptions import InvalidAmount
from .quotes import TopUpOutOfRange, quote_top_up
from .selectors import pricing_rule_get, pricing_rule_list, top_up_tier_list

UNKNOWN = {404: OpenApiResponse(description="`unknown_action_type`")}


class PricingListView(APIView):
    @extend_schema(responses=serializers.PricingRuleSerializer(many=True), tags=["pricing"])
    def get(self, request):
        return Response(serializers.PricingRuleSerializer(pricing_rule_list(), many=True).data)


class PricingDetailView(APIView):
    @extend_schema(responses={200: serializers.PricingRuleSerializer, **UNKNOWN}, tags=["pricing"])
    def get(self, request, action_type):
        return Response(serializers.PricingRuleSerializer(pricing_rule_get(action_type=action_type)).data)


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
            estimate = quote_top_up(body.validated_data["credits"], tiers=top_up_tier_list())
        except TopUpOutOfRange as error:
            raise InvalidAmount(str(error)) from None
        return Response(serializers.TopUpEstimateSerializer(estimate).data)
