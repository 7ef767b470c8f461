"""JWTs that fail as a 401, never a 500.

simplejwt trusts the signed `user_id` claim and passes it straight to `User.objects.get(id=...)`:
a token signed with our key but carrying `"abc"` or a list makes that lookup raise ValueError or
TypeError (a 500), and a refresh token of a deleted user makes the refresh serializer raise
DoesNotExist (another 500). Here the claim is checked while the token is verified, so every path
that reads a token (authentication, refresh, logout) refuses it as `token_not_valid` first.
"""

import re

from django.contrib.auth import get_user_model
from rest_framework import serializers
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt import tokens
from rest_framework_simplejwt.exceptions import AuthenticationFailed, TokenError
from rest_framework_simplejwt.settings import api_settings

from common.serializers import StrictSerializer

NO_USER_ID = "Token contained no recognizable user identification."
USER_NOT_FOUND = "User not found."
# simplejwt writes the user id as a string ("42"); a bare integer is accepted too. 18 digits stay
# inside a bigint, so the lookup can never overflow.
_USER_ID = re.compile(r"[1-9][0-9]{0,17}")


def check_user_id_claim(payload: dict) -> None:
    value = payload.get(api_settings.USER_ID_CLAIM)
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not _USER_ID.fullmatch(str(value)):
        raise TokenError(NO_USER_ID)


class UserIdCheckedMixin:
    def verify(self) -> None:
        super().verify()
        check_user_id_claim(self.payload)


class AccessToken(UserIdCheckedMixin, tokens.AccessToken):
    """The access token `JWTAuthentication` accepts (SIMPLE_JWT["AUTH_TOKEN_CLASSES"])."""


class RefreshToken(UserIdCheckedMixin, tokens.RefreshToken):
    """A refresh token read from a client (refresh, logout); blacklist-checked by simplejwt."""


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    token_class = RefreshToken

    def validate(self, attrs):
        try:
            return super().validate(attrs)
        except get_user_model().DoesNotExist as error:
            raise AuthenticationFailed(USER_NOT_FOUND, code="user_not_found") from error


class LogoutSerializer(StrictSerializer):
    """The refresh token to revoke (POST auth/logout)."""

    refresh = serializers.CharField(help_text="The refresh token to revoke.")

    def validate(self, attrs):
        # Raises TokenError (expired, forged, blacklisted already); the view answers 401.
        RefreshToken(attrs["refresh"]).blacklist()
        return attrs


class LoggedOutSerializer(serializers.Serializer):
    detail = serializers.CharField()
