"""Wallet APIs: thin views that validate input, call one selector or service, serialize output."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from instagram.access import instagram_access  # the access records the dashboard counts
from instagram.usernames import normalize_username
from pricing.selectors import active_rules
from transactions import selectors as ledger

from . import selectors, serializers
from .periods import next_period, period_of
from .services import wallet_create

WALLET_ERRORS = {402: OpenApiResponse(description="`wallet_not_found`")}


class BalanceView(APIView):
    @extend_schema(responses={200: serializers.BalanceSerializer, **WALLET_ERRORS}, tags=["wallet"])
    def get(self, request):
        wallet = selectors.current_wallet(user_id=request.user.pk)
        return Response(serializers.BalanceSerializer(wallet).data)


class WalletSummaryView(APIView):
    @extend_schema(responses={200: serializers.WalletSummarySerializer, **WALLET_ERRORS}, tags=["wallet"])
    def get(self, request):
        wallet = selectors.current_wallet(user_id=request.user.pk)
        body = {"wallet": wallet, "lifetime": ledger.wallet_totals(wallet_id=wallet.pk)}
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
        wallet = selectors.current_wallet(user_id=wallet.pk)
        return Response(
            serializers.BalanceSerializer(wallet).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class DashboardView(APIView):
    @extend_schema(responses={200: serializers.DashboardSerializer, **WALLET_ERRORS}, tags=["wallet"])
    def get(self, request):
        wallet = selectors.current_wallet(user_id=request.user.pk)
        body = {
            "wallet": wallet,
            "recent_transactions": ledger.recent_entries(wallet_id=wallet.pk, limit=10),
            "monthly_usage": ledger.month_summary(wallet_id=wallet.pk, period=period_of()),
            "pricing_rules": active_rules(),
            "unlocked_influencers_count": wallet.accesses.current()
            .filter(action_type="influencer_unlock")
            .values("username")
            .distinct()
            .count(),
        }
        return Response(serializers.DashboardSerializer(body).data)


class CanPerformView(APIView):
    @extend_schema(
        parameters=[serializers.CanPerformQuerySerializer],
        responses={200: serializers.DecisionSerializer, 404: OpenApiResponse(description="`unknown_action_type`")},
        tags=["pricing"],
    )
    def get(self, request, action_type):
        query = serializers.CanPerformQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        username = query.validated_data.get("username")
        paid = bool(username) and instagram_access.is_current(
            wallet_id=request.user.pk, action_type=action_type, reference=normalize_username(username)
        )
        decision = selectors.can_perform(
            user_id=request.user.pk,
            action_type=action_type,
            quantity=query.validated_data["quantity"],
            already_paid=paid,
        )
        return Response(serializers.DecisionSerializer(decision).data)


class AllowancesView(APIView):
    @extend_schema(
        responses={200: serializers.AllowancesSerializer},
        description="{action_type: {monthly_allowance, used_this_month, remaining, next_reset}} for every active rule.",
        tags=["pricing"],
    )
    def get(self, request):
        return Response(serializers.AllowancesSerializer(selectors.allowances(wallet_id=request.user.pk)).data)


class SystemStatsView(APIView):
    @extend_schema(responses=serializers.SystemStatsSerializer, tags=["ops"])
    def get(self, request):
        period = period_of()
        body = {
            "server_time": timezone.now(),
            "current_period": f"{period:%Y-%m}",
            "next_reset": next_period(period),
            "active_action_types": [rule.action_type for rule in active_rules()],
        }
        if request.user.is_staff:
            body["staff"] = selectors.circulation_stats(period=period)
        return Response(serializers.SystemStatsSerializer(body).data)
