"""Who hears about events: webhook endpoints and their delivery log, in-app notifications, email setting."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from common.wallet_rows import WalletRow

from outbox.events import EventType
from outbox.models import OutboxEvent


class Endpoint(models.Model):
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=255, blank=True)
    # Standard Webhooks secret (`whsec_` + base64). Shown once, when created or rotated.
    secret = models.CharField(max_length=128, editable=False)
    # The secret before the last rotation keeps signing (a second signature) until this instant,
    # so receivers can switch without losing deliveries.
    previous_secret = models.CharField(max_length=128, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    event_types = ArrayField(
        models.CharField(max_length=64, choices=EventType.choices), default=list, blank=True,
        help_text="Events to send; empty: all of them.",
    )
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True, help_text="First failure since the last success.")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


class Delivery(WalletRow):
    """One event to one endpoint: retried with backoff until delivered or the retry window ends."""

    # In the database: (wallet_id, event_id) references the event's (wallet_id, id).
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries", db_constraint=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    wallet_id = models.IntegerField(help_text="The event's wallet: deliveries of one wallet go in order.")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A worker claims a delivery by moving this forward (no row lock is held across the HTTP call).
    leased_until = models.DateTimeField(null=True, blank=True)
    # Which claim holds the lease: a worker whose lease ran out (and was taken over) settles nothing.
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint", "wallet_id"], name="one_delivery_per_event_endpoint"),
        ]
        indexes = [
            # In the claim's order (due first, then event order), so a claim reads only what it takes.
            models.Index(fields=["next_attempt_at", "event"], condition=Q(status="pending"), name="delivery_due_order_idx"),
            models.Index(fields=["endpoint", "wallet_id", "event"], condition=Q(status="pending"),
                         name="delivery_order_idx"),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.event.event_type} -> {self.endpoint.url} ({self.status})"


class DeliveryAttempt(WalletRow):
    """The log: one row per HTTP attempt (or refusal), kept for the admin."""

    # In the database: (wallet_id, delivery_id) references the delivery's (wallet_id, id).
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log", db_constraint=False)
    wallet_id = models.IntegerField(help_text="The delivery's wallet (the distribution column on Citus).")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["attempted_at", "id"]

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Notification(models.Model):
    """An in-app notification: one per event the user should see."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    # No constraint: the event's key is (wallet_id, id), and a notification is the user's, not the wallet's.
    event = models.OneToOneField(OutboxEvent, on_delete=models.CASCADE, related_name="notification",
                                 db_constraint=False)
    event_type = models.CharField(max_length=64, choices=EventType.choices)
    title = models.CharField(max_length=255)
    message = models.TextField()
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-id"], name="notification_user_idx"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
        ]


class Preference(models.Model):
    """A user's notification settings (a missing row means the defaults)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="notification_preference")
    email_enabled = models.BooleanField(default=True, help_text="Email for balance.low and credits.expiring.")
