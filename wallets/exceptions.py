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
