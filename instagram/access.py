"""Paid access to Instagram resources: the gate's AccessPolicy, backed by `Access` rows."""

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from .models import Access


class InstagramAccess:
    def current(self, *, wallet, action_type: str, reference: str) -> QuerySet[Access]:
        return Access.objects.current().filter(wallet=wallet, action_type=action_type, username=reference)

    def is_current(self, *, wallet_id: int, action_type: str, reference: str) -> bool:
        return self.current(wallet=wallet_id, action_type=action_type, reference=reference).exists()

    def grant(self, *, wallet_id: int, action_type: str, reference: str, window: timedelta | None) -> None:
        """Record (or renew) the access for `window` (None: forever); called inside the capture transaction.

        One statement: INSERT ... ON CONFLICT (wallet, action, username) DO UPDATE.
        """
        now = timezone.now()
        Access.objects.bulk_create(
            [Access(wallet_id=wallet_id, action_type=action_type, username=reference,
                    expires_at=None if window is None else now + window, renewed_at=now)],
            update_conflicts=True,
            unique_fields=["wallet", "action_type", "username"],
            update_fields=["expires_at", "renewed_at"],
        )


instagram_access = InstagramAccess()
