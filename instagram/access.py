"""Paid access to Instagram resources: the gate's AccessPolicy, backed by `Access` rows.

Named by `settings.CREDITS_ACCESS_POLICY`, so the wallet pages ask it without importing instagram.
Its two questions are also SQL functions (migrations/0002_access_functions.py), named here, which the
gate's functions call inside their own statements."""

from datetime import timedelta

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from .models import Access
from .usernames import normalize_username


class InstagramAccess:
    sql_paid = "instagram_access_paid"  # (wallet, action_type, reference, now) -> in force?
    sql_grant = "instagram_access_grant"  # (wallet, action_type, reference, expires_at, now) -> recorded?

    def current(self, *, wallet, action_type: str, reference: str) -> QuerySet[Access]:
        return Access.objects.current().filter(wallet=wallet, action_type=action_type, username=reference)

    def reference(self, text: str) -> str:
        return normalize_username(text)

    def count_current(self, *, wallet_id: int, action_type: str) -> int:
        current = Access.objects.current().filter(wallet_id=wallet_id, action_type=action_type)
        return current.values("username").distinct().count()

    def grant(self, *, wallet_id: int, action_type: str, reference: str, window: timedelta | None) -> bool:
        """Record the access for `window` (None: forever), or renew an expired one; False if one is
        still in force (another request paid for it). Called inside the capture's transaction; one
        statement that is both the question and the answer (ON CONFLICT sees the latest committed
        row, not the statement's snapshot)."""
        now = timezone.now()
        expires_at = None if window is None else now + window
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {self.sql_grant}(%s, %s, %s, %s, %s)",
                           [wallet_id, action_type, reference, expires_at, now])
            return cursor.fetchone()[0]


instagram_access = InstagramAccess()
