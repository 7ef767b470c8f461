"""The immutable ledger: one row per balance change (and per free use)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class TransactionType(models.TextChoices):
    SPEND = "spend", "Spend"
    FREE_USE = "free_use", "Free use"
    MONTHLY_GRANT = "monthly_grant", "Monthly grant"
    EXPIRY = "expiry", "Expiry"
    TOP_UP = "top_up", "Top-up"
    REFUND = "refund", "Refund"
    ADJUSTMENT = "adjustment", "Adjustment"
    GRANT = "grant", "Grant"
    OPENING = "opening", "Opening balance"  # allocations only: grants made from pre-grant balances


class LedgerEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Ledger entries are immutable.")

    def delete(self):
        raise TypeError("Ledger entries are immutable.")


class LedgerEntry(models.Model):
    wallet = models.ForeignKey("wallets.Wallet", on_delete=models.PROTECT, related_name="ledger")
    transaction_type = models.CharField(max_length=16, choices=TransactionType.choices)
    amount = models.PositiveIntegerField(help_text="Credits moved, always >= 0; the type says the direction.")
    delta = models.IntegerField(help_text="Signed change of the balance; the ledger sum equals the balance.")
    balance_after = models.IntegerField()
    action_type = models.SlugField(max_length=64, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    reference = models.CharField(max_length=255, blank=True)
    description = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["wallet", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="ledger_idempotency_key_unique_per_wallet",
            ),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_after_not_negative"),
            models.CheckConstraint(
                condition=Q(delta=models.F("amount")) | Q(delta=-models.F("amount")),
                name="ledger_delta_matches_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["wallet", "-created_at"], name="ledger_wallet_created_idx"),
            models.Index(fields=["wallet", "transaction_type", "-created_at"], name="ledger_wallet_type_idx"),
            models.Index(fields=["wallet", "action_type", "-created_at"], name="ledger_wallet_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.transaction_type} {self.delta:+d} (wallet {self.wallet_id})"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError("Ledger entries are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Ledger entries are immutable.")


class LedgerAllocation(models.Model):
    """Which grants a ledger row moved credits in or out of (signed, summing to the row's delta; a
    rollover at a reset moves credits from the monthly grant to the rollover grant inside the
    month's grant row). Source and cost basis are copied here, so finance reads the ledger alone."""

    # Null only for the opening balances of grants made from the buckets that came before grants.
    entry = models.ForeignKey(LedgerEntry, null=True, on_delete=models.PROTECT, related_name="allocations")
    # wallet: served by (wallet, -created_at); grant: nothing looks allocations up by grant on a hot
    # path. Fewer indexes to maintain on the reset's set-based writes.
    wallet = models.ForeignKey("wallets.Wallet", on_delete=models.PROTECT, related_name="+", db_index=False)
    grant = models.ForeignKey("wallets.Grant", on_delete=models.PROTECT, related_name="allocations", db_index=False)
    transaction_type = models.CharField(max_length=16, choices=TransactionType.choices)
    source = models.CharField(max_length=16)
    amount = models.IntegerField(help_text="Signed: credits into (+) or out of (-) the grant.")
    cost_basis = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    currency = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="allocation_created_idx"),
            models.Index(fields=["wallet", "-created_at"], name="allocation_wallet_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.transaction_type} {self.amount:+d} on grant {self.grant_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError("Ledger allocations are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Ledger allocations are immutable.")


class TopUpStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"


class TopUp(models.Model):
    """A purchase of credits. Completing it credits the purchased bucket once (see payments)."""

    wallet = models.ForeignKey("wallets.Wallet", on_delete=models.PROTECT, related_name="top_ups")
    credits = models.PositiveIntegerField()
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    status = models.CharField(max_length=16, choices=TopUpStatus.choices, default=TopUpStatus.PENDING)
    provider = models.CharField(max_length=32, default="stripe")
    provider_reference = models.CharField(max_length=255, null=True, blank=True, unique=True)
    checkout_url = models.URLField(max_length=1000, blank=True)
    ledger_entry = models.ForeignKey(LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    payment_intent = models.CharField(max_length=255, blank=True, db_index=True)
    refunded_credits = models.PositiveIntegerField(default=0, help_text="Credits taken back after refunds.")
    unrecovered_credits = models.PositiveIntegerField(
        default=0, help_text="Refunded credits that were already spent and could not be taken back."
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["wallet", "-created_at"], name="topup_wallet_created_idx")]

    def __str__(self) -> str:
        return f"top-up {self.pk}: {self.credits} credits ({self.status})"


class PaymentEvent(models.Model):
    """Every webhook delivery we accepted, stored before it is processed (and kept if processing fails)."""

    event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=128)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
