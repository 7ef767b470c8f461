"""Who may change a wallet: on a team's wallet, its owners and admins (README, "Teams")."""

from rest_framework.permissions import SAFE_METHODS, IsAuthenticated

from .exceptions import TeamRoleRequired
from .teams import manages_wallet


class ManagesWallet(IsAuthenticated):
    """Money in (top-ups, the subscription, auto-recharge) and the wallet's settings: anyone for
    their own wallet, owners and admins for a team's (403 `team_role_required`). Reads stay open
    to every member: they see the plan and the balance they spend from."""

    def schema_errors(self, method: str) -> dict[str, str]:
        return {} if method in SAFE_METHODS else {"403": "A team member who is not an owner or admin (`team_role_required`)."}

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS or manages_wallet(request.user):
            return True
        raise TeamRoleRequired()
