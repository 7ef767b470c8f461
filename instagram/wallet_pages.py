"""Wallet pages that need what this app sells: the dashboard counts the influencers a wallet has
unlocked, and can-perform's `?username=` names an Instagram profile. Here, above wallets, so that
wallets never needs to know either (its views and selectors answer the rest)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from common.periods import period_of
from pricing.selectors import pricing_rule_get, pricing_rule_list
from transactions import selectors as ledger
from wallets import selectors, serializers
from wallets.exceptions import WalletNotFound
from wallets.services import wallet_refresh
from wallets.views import WALLET_ERRORS
from wallets.teams import member_scope, membership_of, wallet_id_of

from .usernames import normalize_username
from .views import ProfileView


class DashboardView(APIView):
    @extend_schema(responses={200: serializers.DashboardSerializer, **WALLET_ERRORS}, tags=["wallet"])
    def get(self, request):
        wallet = wallet_refresh(user_id=wallet_id_of(request.user))
        membership = membership_of(request.user)
        body = {
            "wallet": wallet,
            "recent_transactions": ledger.ledger_recent(
                wallet_id=wallet.pk, limit=10, member_id=member_scope(request.user, None)
            ),
            "monthly_usage": ledger.usage_month_summary(wallet_id=wallet.pk, period=period_of()),
            "pricing_rules": pricing_rule_list(),
            "unlocked_influencers_count": selectors.access_count(
                wallet_id=wallet.pk, action_type=ProfileView.credit_action
            ),
        }
        if membership is not None and membership.manages:
            body["team_spend"] = selectors.team_summary(membership=membership)["members"]
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
        rule = pricing_rule_get(action_type=action_type)  # an unknown action is a 404, wallet or not
        username = query.validated_data.get("username")
        paid = bool(username) and selectors.access_paid(
            wallet_id=wallet_id_of(request.user), action_type=action_type, reference=normalize_username(username)
        )
        try:
            wallet = wallet_refresh(user_id=wallet_id_of(request.user))
        except WalletNotFound:
            wallet = None  # answered as a decision (reason `wallet_not_found`), not an error
        decision = selectors.credits_check(
            wallet=wallet,
            action_type=action_type,
            quantity=query.validated_data["quantity"],
            already_paid=paid,
            rule=rule,
            member_left=selectors.member_cap_left(membership=membership_of(request.user)),
        )
        return Response(serializers.DecisionSerializer(decision).data)
