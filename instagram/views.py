"""The four premium views, sold through the credit gate (`wallets.gate.CreditGatedView`): asked and
reserved before the handler runs, charged only on success."""

import logging

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from common.pagination import PageNumberPagination
from wallets.gate import CreditGatedView, charges_credits

from . import analytics, insights
from .serializers import AnalyticsSerializer, InsightsSerializer, InsufficientCreditsSerializer, PostsPageSerializer, ProfileSerializer
from .exceptions import InvalidUsername, ProfileNotFoundError, UpstreamFailed, UpstreamTimedOut
from .providers import get_provider
from .providers.base import ProfileNotFound, UpstreamError, UpstreamTimeout
from .usernames import is_valid_username, normalize_username

logger = logging.getLogger("credits.instagram")


def username_reference(request, username: str, **kwargs) -> str:
    """The resource a gated view charges for: the (validated) Instagram username."""
    name = normalize_username(username)
    if not is_valid_username(name):
        raise InvalidUsername()
    return name


def fetch(call, provider=None):
    """Run a provider call, turning its failures into API errors (the gate then releases the hold)."""
    try:
        return call(provider or get_provider())
    except ProfileNotFound:
        raise ProfileNotFoundError() from None
    except UpstreamTimeout:
        raise UpstreamTimedOut() from None
    except UpstreamError:
        raise UpstreamFailed() from None


def profile_with_posts(name: str):
    provider = get_provider()  # one provider, one deadline for both calls
    return fetch(lambda p: p.get_profile(name), provider), fetch(lambda p: p.get_posts(name), provider)


def computed(compute, profile, posts) -> dict:
    """Analytics over provider data. The provider validates shapes and bounds; should a value
    still break the maths, that is the upstream's data: a 502 (nothing charged), not a 500."""
    try:
        return compute(profile, posts)
    except (ArithmeticError, TypeError, ValueError):
        logger.exception("analytics failed on provider data for %s", profile.username)
        raise UpstreamFailed() from None


GATE_ERRORS = {
    400: OpenApiResponse(
        description="Invalid username (`invalid_username`) or Idempotency-Key (`invalid_idempotency_key`)."
    ),
    402: OpenApiResponse(
        InsufficientCreditsSerializer,
        description="`insufficient_credits` (with X-Credits-Required/Available/Needed headers), "
        "`wallet_locked`, `wallet_not_found`, or `member_cap_reached` (a team member past their monthly cap; "
        "X-Credits-Available is what the member may still spend).",
    ),
    404: OpenApiResponse(description="Unknown profile (`profile_not_found`)."),
    502: OpenApiResponse(description="Provider failure (`upstream_error`); nothing charged."),
    504: OpenApiResponse(
        description="Provider timeout (`upstream_timeout`) or served past the request deadline (`deadline_exceeded`); "
        "nothing charged."
    ),
}
CHARGE_HEADERS = [
    OpenApiParameter(
        "username", OpenApiTypes.STR, OpenApiParameter.PATH,
        pattern=r"^[A-Za-z0-9_]([A-Za-z0-9._]{0,28}[A-Za-z0-9_])?$", description="An Instagram username.",
    ),
    OpenApiParameter(
        "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, pattern=r"^[\x20-\x7E]{1,255}$",
        description="Retry-safe key: a retry with the same key is never charged twice.",
    ),
    OpenApiParameter(
        "X-Credits-Charged", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[200],
        description="Credits this request cost: 0 for a free unit or a repeat inside the access window.",
    ),
    OpenApiParameter(
        "X-Credits-Remaining", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[200],
        description="The wallet's available balance after this request.",
    ),
    OpenApiParameter(
        "X-Credits-Required", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[402],
        description="`insufficient_credits` only: what the request costs.",
    ),
    OpenApiParameter(
        "X-Credits-Available", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[402],
        description="`insufficient_credits` only: what the wallet can spend now.",
    ),
    OpenApiParameter(
        "X-Credits-Needed", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[402],
        description="`insufficient_credits` only: how many more credits it takes.",
    ),
]


class GatedView(CreditGatedView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "gated"

    def credit_reference(self, request, username: str, **kwargs) -> str:
        return username_reference(request, username)

    def resource(self, request, username: str) -> str:
        """The validated username: on a paid handler, the one the gate resolved (once) and sells."""
        if self.credit_purchase is not None:
            return self.credit_purchase.reference
        return username_reference(request, username)


class ProfileView(GatedView):
    credit_action = "influencer_unlock"

    @extend_schema(
        summary="Unlock an influencer profile (25 credits, free to repeat forever)",
        parameters=CHARGE_HEADERS,
        responses={200: ProfileSerializer, **GATE_ERRORS},
        tags=["instagram"],
    )
    @charges_credits
    def get(self, request, username):
        profile = fetch(lambda provider: provider.get_profile(self.resource(request, username)))
        return Response(profile.to_dict())


class AnalyticsView(GatedView):
    credit_action = "detailed_analytics"

    @extend_schema(
        summary="Detailed analytics of a profile (15 credits)",
        parameters=CHARGE_HEADERS,
        responses={200: AnalyticsSerializer, **GATE_ERRORS},
        tags=["instagram"],
    )
    @charges_credits
    def get(self, request, username):
        profile, posts = profile_with_posts(self.resource(request, username))
        return Response({"username": profile.username, **computed(analytics.profile_analytics, profile, posts)})


class InsightsView(GatedView):
    credit_action = "ai_insights"

    @extend_schema(
        summary="AI insights computed from the profile and its posts (20 credits)",
        parameters=CHARGE_HEADERS,
        responses={200: InsightsSerializer, **GATE_ERRORS},
        tags=["instagram"],
    )
    @charges_credits
    def get(self, request, username):
        profile, posts = profile_with_posts(self.resource(request, username))
        return Response({"username": profile.username, **computed(insights.ai_insights, profile, posts)})


class PostsPagination(PageNumberPagination):
    page_size = 12
    max_page_size = 50


class PostsView(GatedView):
    credit_action = "profile_posts"

    @extend_schema(
        summary="Recent posts with their metrics, paginated (10 credits)",
        parameters=[
            *CHARGE_HEADERS,
            OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY),
            OpenApiParameter("page_size", OpenApiTypes.INT, OpenApiParameter.QUERY),
        ],
        responses={200: PostsPageSerializer, **GATE_ERRORS},
        tags=["instagram"],
    )
    @charges_credits
    def get(self, request, username):
        return self.posts_page(request, username)

    def posts_page(self, request, username):
        name = self.resource(request, username)
        posts = fetch(lambda provider: provider.get_posts(name))
        paginator = PostsPagination()
        page = paginator.paginate_queryset([post.to_dict() for post in posts], request, view=self)
        return paginator.get_paginated_response(page)
