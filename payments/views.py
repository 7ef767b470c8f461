"""Money in: start a checkout, receive the provider's webhook, list the user's top-ups, auto-recharge."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from common import idempotency
from common.pagination import StrictQueryParams

from wallets.permissions import ManagesWallet
from wallets.services import AutoRechargeSettings, wallet_set_auto_recharge
from wallets.teams import wallet_id_of

from . import recharges, selectors, services, stripe_gateway, subscriptions
from .exceptions import CardRequired
from .serializers import (
    AutoRechargeRequestSerializer,
    AutoRechargeSerializer,
    CheckoutRequestSerializer,
    CheckoutSerializer,
    RedirectSerializer,
    SetupSerializer,
    SubscriptionRequestSerializer,
    SubscriptionSerializer,
    TopUpSerializer,
)


class CheckoutView(APIView):
    permission_classes = [ManagesWallet]
    @extend_schema(
        request=CheckoutRequestSerializer,
        parameters=[idempotency.SCHEMA_PARAMETER],
        responses={
            201: CheckoutSerializer,
            400: OpenApiResponse(description="`invalid`, `invalid_amount`, `invalid_idempotency_key`"),
            **idempotency.SCHEMA_RESPONSES,
            502: OpenApiResponse(description="`payment_provider_error`"),
            503: OpenApiResponse(description="`payments_not_configured`"),
        },
        tags=["top-up"],
    )
    @idempotency.honours_idempotency_key
    def post(self, request):
        body = CheckoutRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        top_up = services.top_up_checkout(user=request.user, credits=body.validated_data["credits"])
        return Response(CheckoutSerializer(top_up).data, status=status.HTTP_201_CREATED)


class StripeWebhookView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = []  # the signature covers the raw body: read it untouched

    @extend_schema(
        request=None,
        responses={200: OpenApiResponse(description="Event recorded (and applied once)."),
                   400: OpenApiResponse(description="`invalid_signature` (a signature older or newer than "
                                                    "STRIPE_WEBHOOK_TOLERANCE_SECONDS included) or `event_rejected` "
                                                    "(processing failed: the receipt keeps the error)"),
                   409: OpenApiResponse(description="`event_out_of_order`: retried by Stripe"),
                   503: OpenApiResponse(description="`payments_not_configured`")},
        tags=["payments"],
    )
    def post(self, request):
        event = stripe_gateway.verify_event(request.body, request.headers.get("Stripe-Signature", ""))
        record = services.payment_event_process(event)
        return Response({"received": True, "event_id": record.event_id})


class TopUpHistoryView(StrictQueryParams, generics.ListAPIView):
    serializer_class = TopUpSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.top_up_list(wallet_id=wallet_id_of(self.request.user))

    @extend_schema(tags=["top-up"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AutoRechargeView(APIView):
    """Buy credits automatically when the balance falls below a threshold, with the saved card."""

    permission_classes = [ManagesWallet]

    @extend_schema(responses={200: AutoRechargeSerializer}, tags=["auto-recharge"])
    def get(self, request):
        return Response(AutoRechargeSerializer(selectors.auto_recharge_summary(wallet_id=wallet_id_of(request.user))).data)

    @extend_schema(
        request=AutoRechargeRequestSerializer,
        responses={
            200: AutoRechargeSerializer,
            400: OpenApiResponse(description="`validation_error` or `invalid_amount`"),
            409: OpenApiResponse(description="`payment_method_required`: turning it on needs a saved card"),
        },
        tags=["auto-recharge"],
    )
    def put(self, request):
        body = AutoRechargeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data["enabled"] and selectors.auto_recharge_summary(wallet_id=wallet_id_of(request.user))["payment_method"] is None:
            raise CardRequired()
        wallet_set_auto_recharge(user_id=wallet_id_of(request.user), settings=AutoRechargeSettings(
            enabled=data["enabled"], threshold=data["threshold"], credits=data.get("credits"),
            target_balance=data.get("target_balance"), monthly_limit=data["monthly_limit"],
        ))
        return Response(AutoRechargeSerializer(selectors.auto_recharge_summary(wallet_id=wallet_id_of(request.user))).data)


class AutoRechargeSetupView(APIView):
    permission_classes = [ManagesWallet]
    @extend_schema(
        request=None,
        responses={
            201: SetupSerializer,
            502: OpenApiResponse(description="`payment_provider_error`"),
            503: OpenApiResponse(description="`payments_not_configured`"),
        },
        tags=["auto-recharge"],
    )
    def post(self, request):
        session = recharges.card_setup_start(user=request.user)
        return Response(SetupSerializer(session).data, status=status.HTTP_201_CREATED)


# --- subscriptions -----------------------------------------------------------------------------------

PROVIDER_ERRORS = {
    502: OpenApiResponse(description="`payment_provider_error`: Stripe did not answer; nothing changed"),
    503: OpenApiResponse(description="`payments_not_configured`"),
}


def _conflicts(codes: str) -> dict:
    """409's description: the operation's own conflicts and the Idempotency-Key's."""
    return {409: OpenApiResponse(description=f"{codes}; {idempotency.SCHEMA_RESPONSES[409].description}")}


class SubscriptionView(APIView):
    @extend_schema(responses={200: SubscriptionSerializer}, tags=["subscription"])
    def get(self, request):
        return Response(SubscriptionSerializer(subscriptions.subscription_summary(wallet_id=wallet_id_of(request.user))).data)


class SubscriptionCheckoutView(APIView):
    permission_classes = [ManagesWallet]
    @extend_schema(
        request=SubscriptionRequestSerializer,
        parameters=[idempotency.SCHEMA_PARAMETER],
        responses={201: RedirectSerializer,
                   400: OpenApiResponse(description="`invalid`, `invalid_package` or `invalid_idempotency_key`"),
                   **_conflicts("`already_subscribed`"), **PROVIDER_ERRORS},
        description="A Stripe Checkout Session in `subscription` mode, billed monthly from the next 1st, 00:00 UTC "
                    "(the days until then prorated). The subscription starts when Checkout completes.",
        tags=["subscription"],
    )
    @idempotency.honours_idempotency_key
    def post(self, request):
        body = SubscriptionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        session = subscriptions.subscription_checkout(user=request.user, package_id=body.validated_data["package"])
        return Response(RedirectSerializer(session).data, status=status.HTTP_201_CREATED)


class SubscriptionChangeView(APIView):
    permission_classes = [ManagesWallet]
    @extend_schema(
        request=SubscriptionRequestSerializer,
        parameters=[idempotency.SCHEMA_PARAMETER],
        responses={200: SubscriptionSerializer,
                   400: OpenApiResponse(description="`invalid`, `invalid_package` or `invalid_idempotency_key`"),
                   **_conflicts("`subscription_required`, `same_package` or `change_in_progress`"),
                   **PROVIDER_ERRORS},
        description="An upgrade applies at once, its prorated credits granted when Stripe's invoice for it is paid "
                    "(`upgrade_pending` until then); a downgrade applies at the period's end (`pending_package`); "
                    "the current package again takes back a waiting downgrade.",
        tags=["subscription"],
    )
    @idempotency.honours_idempotency_key
    def post(self, request):
        body = SubscriptionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        summary = subscriptions.subscription_change(user=request.user, package_id=body.validated_data["package"])
        return Response(SubscriptionSerializer(summary).data)


class SubscriptionCancelView(APIView):
    permission_classes = [ManagesWallet]
    cancel = True

    @extend_schema(
        request=None,
        parameters=[idempotency.SCHEMA_PARAMETER],
        responses={200: SubscriptionSerializer,
                   400: OpenApiResponse(description="`invalid_idempotency_key`"),
                   **_conflicts("`subscription_required`"), **PROVIDER_ERRORS},
        tags=["subscription"],
    )
    @idempotency.honours_idempotency_key
    def post(self, request):
        summary = subscriptions.subscription_cancel(user=request.user, cancel=self.cancel)
        return Response(SubscriptionSerializer(summary).data)


class SubscriptionResumeView(SubscriptionCancelView):
    cancel = False


class SubscriptionPortalView(APIView):
    permission_classes = [ManagesWallet]
    @extend_schema(
        request=None,
        parameters=[idempotency.SCHEMA_PARAMETER],
        responses={201: RedirectSerializer,
                   400: OpenApiResponse(description="`invalid_idempotency_key`"),
                   **_conflicts("`subscription_required`"), **PROVIDER_ERRORS},
        description="A link to Stripe's customer portal: invoices, the card, the plan.",
        tags=["subscription"],
    )
    @idempotency.honours_idempotency_key
    def post(self, request):
        url = subscriptions.portal_url(user=request.user)
        return Response(RedirectSerializer({"url": url}).data, status=status.HTTP_201_CREATED)
