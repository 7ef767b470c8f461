"""Wallet APIs: thin views that validate input, call one selector or service, serialize output."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.periods import next_period, period_of
from pricing.quotes import quote
from pricing.selectors import package_list, pricing_rule_get, pricing_rule_list
from pricing.serializers import CalculateRequestSerializer, CalculateResponseSerializer
from transactions import selectors as ledger

from . import selectors, serializers
from .models import Wallet
from .services import wallet_create, wallet_refresh
from .teams import wallet_id_of

WALLET_ERRORS = {402: OpenApiResponse(description="`wallet_not_found`")}


class BalanceView(APIView):
    @extend_schema(responses={200: serializers.BalanceSerializer, **WALLET_ERRORS}, tags=["wallet"])
    def get(self, request):
        wallet = wallet_refresh(user_id=wallet_id_of(request.user))
        return Response(serializers.BalanceSerializer(wallet).data)


class WalletSummaryView(APIView):
    @extend_schema(responses={200: serializers.WalletSummarySerializer, **WALLET_ERRORS}, tags=["wallet"])
    def get(self, request):
        wallet = wallet_refresh(user_id=wallet_id_of(request.user))
        body = {"wallet": wallet, "lifetime": ledger.ledger_totals(wallet_id=wallet.pk)}
        return Response(serializers.WalletSummarySerializer(body).data)


class WalletCreateView(APIView):
    @extend_schema(
        request=serializers.EmptyBodySerializer,
        responses={201: serializers.BalanceSerializer, 200: serializers.BalanceSerializer},
        tags=["wallet"],
    )
    def post(self, request):
        serializers.EmptyBodySerializer(data=request.data or {}).is_valid(raise_exception=True)
        wallet, created = wallet_create(user=request.user)
        wallet = wallet_refresh(user_id=wallet.pk)
        return Response(
            serializers.BalanceSerializer(wallet).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


# What `quantity` actions would cost this user now: the price with the free units left this month,
# and whether the balance covers it. Here rather than in pricing, which knows nothing of wallets.
class PricingCalculateView(APIView):
    @extend_schema(
        request=CalculateRequestSerializer,
        responses={200: serializers.CalculateResponse, 404: OpenApiResponse(description="`unknown_action_type`")},
        tags=["pricing"],
    )
    def post(self, request):
        body = CalculateRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rule = pricing_rule_get(action_type=body.validated_data["action_type"])
        wallet = wallet_refresh(user_id=wallet_id_of(request.user))
        usage = selectors.allowance_usage_get(wallet_id=wallet.pk, action_type=rule.action_type)
        price = quote(
            rule, quantity=body.validated_data["quantity"], free_remaining=selectors.allowance_remaining(rule, usage)
        )
        data = CalculateResponseSerializer(price).data
        data.update(can_afford=price.total_credits <= wallet.available, current_balance=wallet.available)
        return Response(data)


class AllowancesView(APIView):
    @extend_schema(
        responses={200: serializers.AllowancesSerializer},
        description="{action_type: {monthly_allowance, used_this_month, remaining, next_reset}} for every active rule.",
        tags=["pricing"],
    )
    def get(self, request):
        return Response(serializers.AllowancesSerializer(selectors.allowance_summary(wallet_id=wallet_id_of(request.user))).data)


class PackageListView(APIView):
    @extend_schema(
        responses={200: serializers.PackageChoiceSerializer(many=True)},
        description="Every package a user may pick, cheapest first, with `current: true` on the wallet's own.",
        tags=["subscription"],
    )
    def get(self, request):
        current = Wallet.objects.filter(pk=wallet_id_of(request.user)).values_list("package_id", flat=True).first()
        packages = [{**vars(p), "current": p.pk == current} for p in package_list()]
        return Response(serializers.PackageChoiceSerializer(packages, many=True).data)


class SystemStatsView(APIView):
    @extend_schema(responses=serializers.SystemStatsSerializer, tags=["ops"])
    def get(self, request):
        period = period_of()
        body = {
            "server_time": timezone.now(),
            "current_period": f"{period:%Y-%m}",
            "next_reset": next_period(period),
            "active_action_types": [rule.action_type for rule in pricing_rule_list()],
        }
        if request.user.is_staff:
            body["staff"] = selectors.circulation_summary(period=period)
        return Response(serializers.SystemStatsSerializer(body).data)
