"""A team for tests: an owner and members with caps, and a team wallet holding exactly `balance`."""

from wallets.models import Team, Wallet
from wallets.services import credits_adjust, member_add, member_update, team_create


def make_team(make_user, *, balance: int, members: dict[str, tuple[str, int | None]], name: str = "Acme") -> Team:
    """`members`: {username: (role, monthly_cap)}; the first one listed becomes the owner (their
    cap set after). Usernames must be new."""
    (owner_name, (_, owner_cap)), *rest = members.items()
    owner = make_user(username=owner_name)
    team = team_create(user=owner, name=name)
    for username, (role, cap) in rest:
        make_user(username=username)
        member_add(actor=owner, username=username, role=role, monthly_cap=cap)
    if owner_cap is not None:
        member_update(actor=owner, username=owner_name, monthly_cap=owner_cap)
    current = Wallet.objects.get(pk=team.pk).current_balance
    if balance != current:
        credits_adjust(user_id=team.pk, amount=balance - current, reason="test setup")
    return team
