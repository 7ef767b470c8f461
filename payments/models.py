"""Money coming in: top-ups (purchases of credits) and the payment provider's webhook events.

The tables keep the names the ledger app gave them when payments lived there (no data moved)."""

from django.db import models
from django.utils import timezone


class TopUpStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"


class TopUp(models.Model):
    """A purchase of credits. Completing it credits the purchased bucket once (see `services`)."""

    wallet = models.ForeignKey("wallets.Wallet", on_delete=models.PROTECT, related_name="top_ups")
    credits = models.PositiveIntegerField()
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    status = models.CharField(max_length=16, choices=TopUpStatus.choices, default=TopUpStatus.PENDING)
    provider = models.CharField(max_length=32, default="stripe")
    provider_reference = models.CharField(max_length=255, null=True, blank=True, unique=True)
    checkout_url = models.URLField(max_length=1000, blank=True)
    ledger_entry = models.ForeignKey(
        "transactions.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payment_intent = models.CharField(max_length=255, blank=True, db_index=True)
    refunded_credits = models.PositiveIntegerField(default=0, help_text="Credits taken back after refunds.")
    unrecovered_credits = models.PositiveIntegerField(
        default=0, help_text="Refunded credits that were already spent and could not be taken back."
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "transactions_topup"  # created by the ledger app before payments had its own
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
        db_table = "transactions_paymentevent"  # created by the ledger app before payments had its own
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class StripeCustomer(models.Model):
    """A wallet's customer at Stripe and the card saved for payments made without the cardholder
    present (auto-recharge). Shown to its owner as brand and last four digits only."""

    wallet = models.OneToOneField("wallets.Wallet", on_delete=models.PROTECT, primary_key=True,
                                  related_name="stripe_customer")
    customer_id = models.CharField(max_length=255, unique=True)
    payment_method_id = models.CharField(max_length=255, blank=True)
    card_brand = models.CharField(max_length=32, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.customer_id} ({self.card_brand} {self.card_last4})".strip()

    @property
    def has_card(self) -> bool:
        return bool(self.payment_method_id)
