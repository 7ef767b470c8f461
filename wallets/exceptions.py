"""The wallet's expected failures. Messages are constants: the frontend and the tests rely on them."""

from rest_framework import status

from common.exceptions import DomainError

WALLET_NOT_FOUND = "Credit wallet not found. Please contact support."
WALLET_LOCKED = "Your credit wallet is locked. Please renew your subscription to continue."
INSUFFICIENT_CREDITS = "Insufficient credits. Required: {required}, Available: {available}. Need {needed} more credits."


class WalletNotFound(DomainError):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    code = "wallet_not_found"
    detail = WALLET_NOT_FOUND


class WalletLocked(DomainError):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    code = "wallet_locked"
    detail = WALLET_LOCKED


class InsufficientCredits(DomainError):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    code = "insufficient_credits"

    def __init__(self, *, required: int, available: int):
        self.required, self.available = required, available
        needed = required - available
        super().__init__(
            INSUFFICIENT_CREDITS.format(required=required, available=available, needed=needed),
            extra={"required": required, "available": available, "needed": needed},
            headers={
                "X-Credits-Required": str(required),
                "X-Credits-Available": str(available),
                "X-Credits-Needed": str(needed),
            },
        )


MEMBER_CAP_REACHED = "Your monthly credit limit in this team is reached. Required: {required}, left this month: {left}."


class MemberCapReached(DomainError):
    """A team member's request would overshoot the member's monthly cap. `Available` is what the
    member may still spend this month (the cap's rest, never more than the wallet's available)."""

    status_code = status.HTTP_402_PAYMENT_REQUIRED
    code = "member_cap_reached"

    def __init__(self, *, required: int, member_left: int, balance: int, available: int):
        left = max(0, min(member_left, available))
        super().__init__(
            MEMBER_CAP_REACHED.format(required=required, left=left),
            extra={"required": required, "available": left, "needed": required - left},
            headers={
                "X-Credits-Required": str(required),
                "X-Credits-Available": str(left),
                "X-Credits-Needed": str(required - left),
                "X-Credits-Balance": str(balance),
            },
        )


class HoldNotActive(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "hold_not_active"
    detail = "This hold was already settled."


class InvalidIdempotencyKey(DomainError):
    code = "invalid_idempotency_key"
    detail = "Idempotency-Key must be 1 to 255 printable ASCII characters."


class DeadlineExceeded(DomainError):
    status_code = status.HTTP_504_GATEWAY_TIMEOUT
    code = "deadline_exceeded"
    detail = "The request took too long to serve. Nothing was charged; please try again."


class TeamRoleRequired(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "team_role_required"
    detail = "Only the team's owner or an admin can do this."


class AlreadyInTeam(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "already_in_team"
    detail = "This user is already in a team."


class NotInTeam(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_in_team"
    detail = "You are not in a team."


class MemberNotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "member_not_found"
    detail = "No such member in your team."


class UserNotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "user_not_found"
    detail = "No user with this username."


class OwnerMustStay(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "owner_must_stay"
    detail = "The team's owner cannot be removed or demoted; make another member the owner first."
