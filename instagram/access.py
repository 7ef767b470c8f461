"""Paid access to Instagram resources: the gate's AccessPolicy, backed by `Access` rows."""

from django.db.models import Q
from django.utils import timezone

from pricing.models import PricingRule

from .models import Access


class InstagramAccess:
    def is_current(self, *, wallet_id: int, action_type: str, reference: str) -> bool:
        now = timezone.now()
        return Access.objects.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now),
            wallet_id=wallet_id,
            action_type=action_type,
            username=reference,
        ).exists()

    def grant(self, *, wallet_id: int, action_type: str, reference: str) -> None:
        """Record (or renew) the access for the rule's window; called inside the capture transaction.

        One statement: INSERT ... ON CONFLICT (wallet, action, username) DO UPDATE.
        """
        now = timezone.now()
        window = PricingRule.objects.get(action_type=action_type).access_window  # None: forever
        Access.objects.bulk_create(
            [Access(wallet_id=wallet_id, action_type=action_type, username=reference,
                    expires_at=None if window is None else now + window, renewed_at=now)],
            update_conflicts=True,
            unique_fields=["wallet", "action_type", "username"],
            update_fields=["expires_at", "renewed_at"],
        )

instagram_access = InstagramAccess()
