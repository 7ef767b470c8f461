"""Teams over HTTP (SPEC, "Teams"): create a team, read it, and manage its members and their caps.

The rules (who may do what) live in `services.teams`; this module only reads requests and shapes
answers. Every answer is the team as the caller may see it (`selectors.team_summary`)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.serializers import StrictSerializer

from .exceptions import NotInTeam
from .models import Membership, TeamRole
from .selectors import team_summary
from .services import UNCHANGED, member_add, member_remove, member_update, team_create
from .teams import membership_of

MAX_CAP = 100_000_000


class TeamMemberSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=TeamRole.choices)
    joined_at = serializers.DateTimeField()
    monthly_cap = serializers.IntegerField(
        allow_null=True, help_text="Credits the member may spend a month (null: no cap, or not yours to see)."
    )
    spent_this_month = serializers.IntegerField(allow_null=True, help_text="Null when not yours to see.")
    held = serializers.IntegerField(allow_null=True, help_text="Credits reserved by requests in flight.")


class TeamSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The team wallet's key.")
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=TeamRole.choices, help_text="The caller's role.")
    period = serializers.CharField(help_text="The month `spent_this_month` counts (YYYY-MM).")
    created_at = serializers.DateTimeField()
    members = TeamMemberSerializer(many=True)


class TeamCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=120, trim_whitespace=True)


class MemberAddSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=[TeamRole.ADMIN, TeamRole.MEMBER], default=TeamRole.MEMBER)
    monthly_cap = serializers.IntegerField(min_value=0, max_value=MAX_CAP, allow_null=True, default=None)


class MemberUpdateSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=TeamRole.choices, required=False,
                                   help_text="`owner` hands ownership over (only the owner can; they become an admin).")
    monthly_cap = serializers.IntegerField(min_value=0, max_value=MAX_CAP, allow_null=True, required=False)


def _team_of(user, *, changed: bool = False) -> Response:
    """The caller's team; `changed`: read their membership again (the request's copy predates the change)."""
    membership = Membership.objects.select_related("team").filter(user=user).first() if changed else membership_of(user)
    if membership is None:
        raise NotInTeam()
    return Response(TeamSerializer(team_summary(membership=membership)).data)


MANAGE_ERRORS = {
    403: OpenApiResponse(description="`team_role_required`: owners and admins manage members"),
    404: OpenApiResponse(description="`not_in_team`, `member_not_found` or `user_not_found`"),
    409: OpenApiResponse(description="`already_in_team` or `owner_must_stay` (the owner is neither removed nor "
                                     "demoted; they hand ownership over first)"),
}


class TeamView(APIView):
    @extend_schema(responses={200: TeamSerializer, 404: OpenApiResponse(description="`not_in_team`")}, tags=["team"])
    def get(self, request):
        return _team_of(request.user)

    @extend_schema(
        request=TeamCreateSerializer,
        responses={201: TeamSerializer, 400: OpenApiResponse(description="`validation_error`"),
                   409: OpenApiResponse(description="`already_in_team`")},
        tags=["team"],
        summary="Create a team (the caller becomes its owner; the team has a wallet of its own)",
    )
    def post(self, request):
        body = TeamCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        team_create(user=request.user, name=body.validated_data["name"])
        response = _team_of(request.user, changed=True)
        response.status_code = status.HTTP_201_CREATED
        return response


class TeamMembersView(APIView):
    @extend_schema(request=MemberAddSerializer, responses={201: TeamSerializer, **MANAGE_ERRORS}, tags=["team"],
                   summary="Add a user to the team")
    def post(self, request):
        body = MemberAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        member_add(actor=request.user, **body.validated_data)
        response = _team_of(request.user, changed=True)
        response.status_code = status.HTTP_201_CREATED
        return response


class TeamMemberView(APIView):
    @extend_schema(request=MemberUpdateSerializer, responses={200: TeamSerializer, **MANAGE_ERRORS}, tags=["team"],
                   summary="Change a member's role or monthly cap")
    def patch(self, request, username):
        body = MemberUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        member_update(actor=request.user, username=username,
                      role=body.validated_data.get("role", UNCHANGED),
                      monthly_cap=body.validated_data.get("monthly_cap", UNCHANGED))
        return _team_of(request.user, changed=True)

    @extend_schema(responses={204: None, **MANAGE_ERRORS}, tags=["team"],
                   summary="Remove a member (or leave the team, naming yourself)")
    def delete(self, request, username):
        member_remove(actor=request.user, username=username)
        return Response(status=status.HTTP_204_NO_CONTENT)
