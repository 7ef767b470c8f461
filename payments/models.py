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


class SubscriptionStatus(models.TextChoices):
    """Stripe's own statuses of a subscription (those a monthly plan without trials goes through)."""

    INCOMPLETE = "incomplete", "Incomplete"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    UNPAID = "unpaid", "Unpaid"
    CANCELED = "canceled", "Canceled"


LIVE_STATUSES = (SubscriptionStatus.INCOMPLETE, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE,
                 SubscriptionStatus.UNPAID)


class Subscription(models.Model):
    """A wallet's subscription at Stripe Billing, as its webhooks told us (services in `subscriptions`).

    The wallet holds what the plan means for credits (its package, the last period paid); this row
    holds Stripe's side and what is waiting: a downgrade for the period's end, an upgrade for its
    invoice to be paid."""

    wallet = models.ForeignKey("wallets.Wallet", on_delete=models.PROTECT, related_name="subscriptions")
    stripe_subscription_id = models.CharField(max_length=255, unique=True)
    customer_id = models.CharField(max_length=255, blank=True)
    package = models.ForeignKey("pricing.Package", on_delete=models.PROTECT, related_name="+",
                                help_text="The plan paid for now.")
    status = models.CharField(max_length=16, choices=SubscriptionStatus.choices, default=SubscriptionStatus.INCOMPLETE)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    pending_package = models.ForeignKey(
        "pricing.Package", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="A downgrade, applied by the first period paid from `pending_from` on.",
    )
    pending_from = models.DateField(null=True, blank=True)
    upgrade_to = models.ForeignKey(
        "pricing.Package", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="An upgrade whose prorated invoice is not paid yet (it applies when it is).",
    )
    upgrade_at = models.DateTimeField(null=True, blank=True, help_text="When the upgrade was asked (its proration date).")
    locked_wallet = models.BooleanField(default=False, help_text="It locked the wallet for want of payment.")
    payment_url = models.URLField(max_length=1000, blank=True, help_text="The unpaid invoice's page, to pay it.")
    last_invoice_id = models.CharField(max_length=255, blank=True, help_text="The last invoice applied as paid.")
    stripe_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="Time of the newest Stripe event applied: an older one moves nothing back."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["wallet", "-created_at"], name="subscription_wallet_idx")]

    def __str__(self) -> str:
        return f"{self.stripe_subscription_id} ({self.status})"
