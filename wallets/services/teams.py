"""Teams: one wallet, several people (README, "Teams").

A team owns a wallet of its own (a negative key, from `wallets_team_wallet_id`); its members spend
from it, each within an optional monthly cap that the reserve checks under the wallet lock
(wallets_hold_reserve.sql). A user is in at most one team (the membership's key is the user).

Joining and leaving never move credits: a member's personal wallet stays as it was, neither
spent nor spendable while they are in the team, and is theirs again when they leave. Nothing is
lost (the wallet and its grants stay, under the usual expiry rules) or spendable twice (a request
spends from exactly one wallet: the team's while a member, their own otherwise).

Role rules, each decided under the team's row lock: owners and admins manage members and caps;
only the owner makes admins or hands ownership over (the owner then becomes an admin); nobody
acts on the owner but the owner; the owner cannot leave or be removed (hand over first); anyone
else may leave.
"""

import logging

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from common.periods import period_of, previous_period
from pricing.selectors import package_get_default

from ..exceptions import AlreadyInTeam, MemberNotFound, NotInTeam, OwnerMustStay, TeamRoleRequired, UserNotFound
from ..models import Membership, Team, TeamRole, Wallet
from .lifecycle import wallet_catch_up

logger = logging.getLogger("credits.teams")

UNCHANGED = object()  # a field a PATCH did not name


def _next_team_wallet_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('wallets_team_wallet_id')")
        return cursor.fetchone()[0]


def team_create(*, user, name: str) -> Team:
    """A team owned by `user`, with a wallet of its own on the default package (its first month's
    grant made as any new wallet's). Raises AlreadyInTeam."""
    if Membership.objects.filter(user=user).exists():
        raise AlreadyInTeam()
    with transaction.atomic():
        wallet = Wallet.objects.create(
            id=_next_team_wallet_id(), user=None, package=package_get_default(),
            billing_cycle_start=previous_period(period_of()),
        )
        team = Team.objects.create(wallet=wallet, name=name)
        try:
            with transaction.atomic():
                Membership.objects.create(user=user, team=team, role=TeamRole.OWNER)
        except IntegrityError:
            raise AlreadyInTeam() from None  # joined another team meanwhile: nothing of this one stays
        wallet_catch_up(user_id=wallet.pk)
    logger.info("team created team=%s wallet=%s owner=%s", team.name, wallet.pk, user.pk)
    return team


def _acting(actor) -> Membership:
    """The actor's membership, its team row locked: role changes are decided one at a time."""
    membership = Membership.objects.filter(user=actor).first()
    if membership is None:
        raise NotInTeam()
    Team.objects.select_for_update().filter(pk=membership.team_id).first()
    return Membership.objects.select_related("team").get(user=actor)  # as it is under the lock


def _target(acting: Membership, username: str) -> Membership:
    target = Membership.objects.select_related("user").filter(team_id=acting.team_id, user__username=username).first()
    if target is None:
        raise MemberNotFound()
    return target


def _may_manage(acting: Membership, target_role: str) -> None:
    """Owners manage everyone; admins manage members only (not themselves, other admins or the owner)."""
    if acting.role == TeamRole.OWNER:
        return
    if acting.role != TeamRole.ADMIN or target_role != TeamRole.MEMBER:
        raise TeamRoleRequired()


def member_add(*, actor, username: str, role: str = TeamRole.MEMBER, monthly_cap: int | None = None) -> Membership:
    """Add an existing user to the actor's team. Raises NotInTeam, TeamRoleRequired, UserNotFound,
    AlreadyInTeam."""
    with transaction.atomic():
        acting = _acting(actor)
        if role == TeamRole.OWNER:
            raise OwnerMustStay()  # one owner: ownership is handed over, not added
        _may_manage(acting, role)
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise UserNotFound()
        try:
            with transaction.atomic():
                membership = Membership.objects.create(user=user, team=acting.team, role=role, monthly_cap=monthly_cap)
        except IntegrityError:
            raise AlreadyInTeam() from None
    logger.info("team member added team=%s user=%s role=%s by=%s", acting.team_id, user.pk, role, actor.pk)
    return membership


def member_update(*, actor, username: str, role=UNCHANGED, monthly_cap=UNCHANGED) -> Membership:
    """Change a member's role or cap. Making someone the owner hands ownership over (the actor,
    the owner, becomes an admin). Raises NotInTeam, MemberNotFound, TeamRoleRequired, OwnerMustStay."""
    with transaction.atomic():
        acting = _acting(actor)
        target = _target(acting, username)
        _may_manage(acting, target.role)
        if role is not UNCHANGED and role != target.role:
            if acting.role != TeamRole.OWNER and role != TeamRole.MEMBER:
                raise TeamRoleRequired()  # admins make neither admins nor owners
            if target.role == TeamRole.OWNER:
                raise OwnerMustStay()  # the owner stops being one only by handing over
            if role == TeamRole.OWNER:
                Membership.objects.filter(pk=acting.pk).update(role=TeamRole.ADMIN)  # first: one owner at a time
            target.role = role
        if monthly_cap is not UNCHANGED:
            target.monthly_cap = monthly_cap
        target.save(update_fields=["role", "monthly_cap"])
    logger.info("team member changed team=%s user=%s role=%s cap=%s by=%s", acting.team_id, target.user_id,
                target.role, target.monthly_cap, actor.pk)
    return target


def member_remove(*, actor, username: str) -> None:
    """Remove a member (or leave, naming oneself). Raises NotInTeam, MemberNotFound,
    TeamRoleRequired, OwnerMustStay."""
    with transaction.atomic():
        acting = _acting(actor)
        target = _target(acting, username)
        if target.role == TeamRole.OWNER:
            raise OwnerMustStay()
        if target.pk != acting.pk:
            _may_manage(acting, target.role)
        target.delete()
    logger.info("team member removed team=%s user=%s by=%s", acting.team_id, target.user_id, actor.pk)
