from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from credits_platform.serializers import StrictSerializer

from . import services, stripe_gateway


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


class CheckoutView(APIView):
    @extend_schema(
        request=CheckoutRequestSerializer,
        responses={
            201: CheckoutSerializer,
            400: OpenApiResponse(description="`invalid_amount`"),
            502: OpenApiResponse(description="`payment_provider_error`"),
            503: OpenApiResponse(description="`payments_not_configured`"),
        },
        tags=["top-up"],
    )
    def post(self, request):
        body = CheckoutRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        top_up = services.topup_checkout(user=request.user, credits=body.validated_data["credits"])
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
        record = services.process_event(event)
        return Response({"received": True, "event_id": record.event_id})
