"""Who has what: wallets with two buckets, holds on credits in flight, free-allowance usage."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from .periods import period_of


class WalletStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    LOCKED = "locked", "Locked"


class Wallet(models.Model):
    # The user's id is the wallet's id: every wallet-scoped row carries the owner's key,
    # which is also the distribution column if the tables are ever sharded by user.
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True)
    package = models.ForeignKey("pricing.Package", on_delete=models.PROTECT, related_name="wallets")
    status = models.CharField(max_length=16, choices=WalletStatus.choices, default=WalletStatus.ACTIVE)
    monthly_balance = models.IntegerField(default=0, help_text="Credits from the monthly grant; may expire.")
    purchased_balance = models.IntegerField(default=0, help_text="Bought or granted credits; never expire.")
    reserved = models.IntegerField(default=0, help_text="Credits held by requests in flight.")
    billing_cycle_start = models.DateField(help_text="First day of the cycle the last grant belongs to.")
    holds_due_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="No open hold expires before this (null: none open); may be early, never late.",
    )
    ledger_rows = models.PositiveIntegerField(
        default=0, help_text="How many ledger rows the wallet has: the history's count without a COUNT(*)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(monthly_balance__gte=0), name="wallet_monthly_not_negative"),
            models.CheckConstraint(condition=Q(purchased_balance__gte=0), name="wallet_purchased_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="wallet_reserved_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("monthly_balance") + F("purchased_balance")),
                name="wallet_reserved_within_balance",
            ),
        ]
        indexes = [models.Index(fields=["status", "billing_cycle_start"], name="wallet_cycle_idx")]

    def __str__(self) -> str:
        return f"wallet of {self.user_id}"

    @property
    def current_balance(self) -> int:
        return self.monthly_balance + self.purchased_balance

    @property
    def available(self) -> int:
        """What can still be reserved: the balance less what requests in flight hold."""
        return self.current_balance - self.reserved

    @property
    def is_locked(self) -> bool:
        return self.status == WalletStatus.LOCKED

    def is_due(self, now=None) -> bool:
        """Something is due that a read or charge settles on the spot, whether or not a job ran:
        the monthly grant of a new period (active wallets) or an expired hold to release."""
        now = now or timezone.now()
        new_period = not self.is_locked and self.billing_cycle_start < period_of(now)
        return new_period or (self.holds_due_at is not None and self.holds_due_at <= now)


class HoldStatus(models.TextChoices):
    HELD = "held", "Held"
    CAPTURED = "captured", "Captured"
    RELEASED = "released", "Released"
    EXPIRED = "expired", "Expired"


class Hold(models.Model):
    """Credits (and free units) set aside for a request until it succeeds or fails."""

    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="holds")
    action_type = models.SlugField(max_length=64)
    quantity = models.PositiveIntegerField(default=1)
    amount = models.PositiveIntegerField(help_text="Credits held.")
    free_units = models.PositiveIntegerField(default=0, help_text="Free-allowance units held.")
    period = models.DateField(help_text="Allowance period the free units belong to.")
    reference = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    status = models.CharField(max_length=16, choices=HoldStatus.choices, default=HoldStatus.HELD)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["wallet", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="hold_idempotency_key_unique_per_wallet",
            ),
        ]
        indexes = [
            models.Index(fields=["expires_at"], condition=Q(status="held"), name="hold_open_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"hold {self.pk} {self.action_type} {self.amount} ({self.status})"


class AllowanceUsage(models.Model):
    """Free units of one action used (and held) by one wallet in one monthly period."""

    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="allowance_usage")
    period = models.DateField(help_text="First day of the month.")
    action_type = models.SlugField(max_length=64)
    used = models.PositiveIntegerField(default=0)
    reserved = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wallet", "period", "action_type"], name="one_usage_row_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.wallet_id} {self.period:%Y-%m} {self.action_type}: {self.used}"
