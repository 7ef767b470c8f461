"""The transactional outbox: one row per event, written in the same transaction as its cause.

It sits below `wallets` (which writes it) and knows nothing of who receives events: delivery,
in-app notifications and email live in `notifications`, which reads these rows after commit.
"""

from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models import Q
from django.utils import timezone

from common.wallet_rows import WalletRow

from .events import EventType


class OutboxEvent(WalletRow):
    # The id receivers de-duplicate on (`webhook-id`); a database default, so set-based INSERTs get one too.
    # Unique per wallet by constraint (a UNIQUE must include the wallet's key on Citus); across
    # wallets by being a random (version 4) UUID: 122 random bits.
    uid = models.UUIDField(db_default=RandomUUID(), editable=False)
    # The wallet's key: the distribution column, and the unit of delivery order.
    wallet_id = models.IntegerField()
    event_type = models.CharField(max_length=64, choices=EventType.choices)
    data = models.JSONField()
    created_at = models.DateTimeField(db_default=models.functions.Now(), default=timezone.now)
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When its deliveries and in-app notification were written."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["uid", "wallet_id"], name="outbox_uid_unique")]
        indexes = [
            models.Index(fields=["wallet_id", "id"], name="outbox_wallet_idx"),
            models.Index(fields=["id"], condition=Q(dispatched_at__isnull=True), name="outbox_undispatched_idx"),
            # A delivery waits while an earlier event of its wallet is not fanned out yet (notifications'
            # lease): that question reads only the few undispatched rows.
            models.Index(fields=["wallet_id", "id"], condition=Q(dispatched_at__isnull=True),
                         name="outbox_wallet_undispatched_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.pk} (wallet {self.wallet_id})"

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.uid.hex}"

    def payload(self) -> dict:
        """The body sent to receivers: Standard Webhooks' {type, timestamp, data}."""
        return {"type": self.event_type, "timestamp": self.created_at.isoformat(), "data": self.data}
