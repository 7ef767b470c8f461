"""Whose wallet a user spends from: their own, or their team's (README, "Teams").

A request's user is read with their membership in the same statement (wallets.authentication), so
knowing the wallet costs the gate nothing."""

from .exceptions import MemberNotFound, NotInTeam, TeamRoleRequired
from .models import Membership


def membership_of(user) -> Membership | None:
    """The user's place in a team, or None (read with the user when it came through our authentication)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "membership", None)  # a missing reverse one-to-one raises an AttributeError


def wallet_id_of(user) -> int:
    """The key of the wallet `user` spends from: the team's, for a member; else their own (= user id)."""
    membership = membership_of(user)
    return membership.team_id if membership is not None else user.pk


def member_of(user) -> int | None:
    """The user's id when they spend from a team's wallet (the rows record them, their cap applies)."""
    return user.pk if membership_of(user) is not None else None


def manages_wallet(user) -> bool:
    """Whether `user` may act for the whole wallet: their own, or their team's as an owner or admin."""
    membership = membership_of(user)
    return membership is None or membership.manages


def member_scope(user, username: str | None) -> int | None:
    """Whose rows of the wallet `user` may read, given `?member=`: None for everyone's, else a
    member's user id. Owners and admins see everyone (or the member they name); members see
    only themselves, whatever they name. Raises NotInTeam, TeamRoleRequired, MemberNotFound."""
    membership = membership_of(user)
    if membership is None:
        if username is not None:
            raise NotInTeam()
        return None
    if username is None:
        return None if membership.manages else user.pk
    if username == user.get_username():
        return user.pk
    if not membership.manages:
        raise TeamRoleRequired()
    member_id = (
        Membership.objects.filter(team_id=membership.team_id, user__username=username).values_list("user_id", flat=True).first()
    )
    if member_id is None:
        raise MemberNotFound()
    return member_id
