"""Who answers "has this wallet paid for that resource?": the feature app named by
`settings.CREDITS_ACCESS_POLICY` (an object path, e.g. "instagram.access.instagram_access").

Wallets sits below the feature apps and never imports them: the gate gets the policy from the
gated view (`credit_access`), the wallet pages (can-perform `?username=`, the dashboard's unlock
count) get it from here."""

from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from .gate import AccessPolicy


class AccessRecords(AccessPolicy, Protocol):
    """The gate's AccessPolicy plus the two questions the wallet pages ask."""

    def reference(self, text: str) -> str:
        """The resource a client names (e.g. "@Dev_Dan"), written as access rows record it."""

    def count_current(self, *, wallet_id: int, action_type: str) -> int:
        """How many distinct resources of `action_type` the wallet has access to now."""


def access_policy() -> AccessRecords:
    return import_string(settings.CREDITS_ACCESS_POLICY)


def already_paid(*, wallet_id: int, action_type: str, resource: str) -> bool:
    policy = access_policy()
    reference = policy.reference(resource)
    return policy.current(wallet=wallet_id, action_type=action_type, reference=reference).exists()
