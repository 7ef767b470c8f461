"""Paid access to Instagram resources: the gate's AccessPolicy, backed by `Access` rows.

Named by `settings.CREDITS_ACCESS_POLICY`, so the wallet pages ask it without importing instagram."""

from datetime import timedelta

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from .models import Access
from .usernames import normalize_username

# One statement that is both the question and the answer: record the access unless one is in
# force. ON CONFLICT sees the latest committed row (not the statement's snapshot), so two requests
# settling the same resource one after the other cannot both find it free.
GRANT_UNLESS_CURRENT = """
INSERT INTO {table} (wallet_id, action_type, username, expires_at, created_at, renewed_at)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (wallet_id, action_type, username) DO UPDATE
SET expires_at = excluded.expires_at, renewed_at = excluded.renewed_at
WHERE {table}.expires_at IS NOT NULL AND {table}.expires_at <= %s
RETURNING id
""".format(table=Access._meta.db_table)


class InstagramAccess:
    def current(self, *, wallet, action_type: str, reference: str) -> QuerySet[Access]:
        return Access.objects.current().filter(wallet=wallet, action_type=action_type, username=reference)

    def reference(self, text: str) -> str:
        return normalize_username(text)

    def count_current(self, *, wallet_id: int, action_type: str) -> int:
        current = Access.objects.current().filter(wallet_id=wallet_id, action_type=action_type)
        return current.values("username").distinct().count()

    def grant(self, *, wallet_id: int, action_type: str, reference: str, window: timedelta | None) -> bool:
        """Record the access for `window` (None: forever), or renew an expired one; False if one is
        still in force (another request paid for it). Called inside the capture's transaction."""
        now = timezone.now()
        expires_at = None if window is None else now + window
        adapt = connection.ops.adapt_datetimefield_value
        with connection.cursor() as cursor:
            cursor.execute(
                GRANT_UNLESS_CURRENT,
                [wallet_id, action_type, reference, adapt(expires_at), adapt(now), adapt(now), adapt(now)],
            )
            return cursor.fetchone() is not None


instagram_access = InstagramAccess()
