"""Registration, and simplejwt's token views with our throttle, readable errors and logout."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.serializers import TokenRefreshSerializer as DocumentedRefreshSerializer
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView, TokenViewBase

from common.serializers import StrictSerializer

from .tokens import LoggedOutSerializer, LogoutSerializer, TokenRefreshSerializer

User = get_user_model()


class RegisterSerializer(StrictSerializer):
    username = serializers.RegexField(r"^[\w.@+-]{3,150}$", max_length=150)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, min_length=8, max_length=128, style={"input_type": "password"})

    def validate_username(self, value):
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("A user with that username already exists.", code="username_taken")
        return value

    def validate(self, attrs):
        validate_password(attrs["password"], User(username=attrs["username"], email=attrs["email"]))
        return attrs


class RegisteredUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()


TOKEN_NOT_VALID = OpenApiResponse(description="An expired, revoked or malformed refresh token (`token_not_valid`).")


class AuthThrottled:
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


class RegisterView(AuthThrottled, APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(request=RegisterSerializer, responses={201: RegisteredUserSerializer}, tags=["auth"])
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():  # the user and its wallet (created by a signal) or neither
            user = User.objects.create_user(**serializer.validated_data)
        return Response(RegisteredUserSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenView(AuthThrottled, TokenObtainPairView):
    @extend_schema(responses={200: TokenObtainPairSerializer,
                              401: OpenApiResponse(description="Wrong username or password (`no_active_account`).")},
                   tags=["auth"])
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class TokenRefresh(AuthThrottled, TokenRefreshView):
    serializer_class = TokenRefreshSerializer

    # Documented with simplejwt's own serializer, which drf-spectacular knows how to describe.
    @extend_schema(
        request=DocumentedRefreshSerializer,
        responses={200: DocumentedRefreshSerializer, 401: TOKEN_NOT_VALID},
        tags=["auth"],
        description="A new access token and a new refresh token. The refresh token sent is revoked: "
        "keep the new one. An expired, revoked or malformed token is 401 `token_not_valid`.",
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class LogoutView(AuthThrottled, TokenViewBase):
    # No access token needed: holding the refresh token is the proof (and an expired access token
    # must not stop a logout). TokenViewBase turns a TokenError into 401 token_not_valid.
    serializer_class = LogoutSerializer

    @extend_schema(
        request=LogoutSerializer,
        responses={200: LoggedOutSerializer, 401: TOKEN_NOT_VALID},
        tags=["auth"],
        description="Revokes the refresh token; needs no access token. Access tokens already issued stay "
        "valid until they expire (30 minutes by default): forget them. A malformed, expired or already "
        "revoked token is 401 `token_not_valid`.",
    )
    def post(self, request, *args, **kwargs):
        super().post(request, *args, **kwargs)
        return Response({"detail": "Logged out."}, status=status.HTTP_200_OK)
