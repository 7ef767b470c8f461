"""Pricing's expected failures; wallets and payments raise them too (an unknown action, a bad amount)."""

from rest_framework import status

from common.exceptions import DomainError

UNKNOWN_ACTION = "Unknown action type: {action_type}."


class UnknownAction(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "unknown_action_type"

    def __init__(self, action_type: str):
        super().__init__(UNKNOWN_ACTION.format(action_type=action_type))


class InvalidAmount(DomainError):
    code = "invalid_amount"
    detail = "Amount must be a positive whole number of credits."
