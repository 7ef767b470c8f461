"""Money coming in: top-ups (purchases of credits) and the payment provider's webhook events.

The tables keep the names the ledger app gave them when payments lived there (no data moved)."""

from django.db import models, transaction
from django.utils import timezone

from common.claims import claim
from common.wallet_rows import WalletRow


class TopUpStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"


class TopUp(WalletRow):
    """A purchase of credits. Completing it credits the purchased bucket once (see `services`)."""

    wallet = models.ForeignKey("wallets.Wallet", on_delete=models.PROTECT, related_name="top_ups")
    credits = models.PositiveIntegerField()
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    status = models.CharField(max_length=16, choices=TopUpStatus.choices, default=TopUpStatus.PENDING)
    provider = models.CharField(max_length=32, default="stripe")
    # Unique across wallets through TopUpReference (a UNIQUE here must include the wallet's key).
    provider_reference = models.CharField(max_length=255, null=True, blank=True)
    checkout_url = models.URLField(max_length=1000, blank=True)
    # In the database: (wallet_id, ledger_entry_id) references the entry's (wallet_id, id).
    ledger_entry = models.ForeignKey(
        "transactions.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_constraint=False,
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
        constraints = [models.UniqueConstraint(fields=["provider_reference", "wallet"], name="topup_reference_unique")]

    def __str__(self) -> str:
        return f"top-up {self.pk}: {self.credits} credits ({self.status})"

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if self.provider_reference and (update_fields is None or "provider_reference" in update_fields):
            with transaction.atomic():
                claim(table="payments_topupreference", key="provider_reference", value=self.provider_reference,
                      owner_column="wallet_id", owner=self.wallet_id, source="transactions_topup")
                return super().save(*args, **kwargs)
        return super().save(*args, **kwargs)


class TopUpReference(models.Model):
    """A checkout session's id belongs to one top-up's wallet: the lookup that keeps
    `TopUp.provider_reference` unique across wallets (`common.claims`)."""

    provider_reference = models.CharField(max_length=255, primary_key=True)
    wallet_id = models.IntegerField()


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
    # Unique across wallets through CustomerReference.
    customer_id = models.CharField(max_length=255)
    payment_method_id = models.CharField(max_length=255, blank=True)
    card_brand = models.CharField(max_length=32, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer_id", "wallet"], name="stripe_customer_unique")]

    def __str__(self) -> str:
        return f"{self.customer_id} ({self.card_brand} {self.card_last4})".strip()

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "customer_id" in update_fields:
            with transaction.atomic():
                self.claim()
                return super().save(*args, **kwargs)
        return super().save(*args, **kwargs)

    @property
    def has_card(self) -> bool:
        return bool(self.payment_method_id)

    def claim(self) -> None:
        """The customer id's lookup row (also for writers that do not `save()`, e.g. `bulk_create`)."""
        claim(table="payments_customerreference", key="customer_id", value=self.customer_id,
              owner_column="wallet_id", owner=self.wallet_id, source="payments_stripecustomer")


class CustomerReference(models.Model):
    """A Stripe customer belongs to one wallet: the lookup that keeps `StripeCustomer.customer_id`
    unique across wallets (`common.claims`)."""

    customer_id = models.CharField(max_length=255, primary_key=True)
    wallet_id = models.IntegerField()


class SubscriptionStatus(models.TextChoices):
    """Stripe's own statuses of a subscription (those a monthly plan without trials goes through)."""

    INCOMPLETE = "incomplete", "Incomplete"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    UNPAID = "unpaid", "Unpaid"
    CANCELED = "canceled", "Canceled"


LIVE_STATUSES = (SubscriptionStatus.INCOMPLETE, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE,
                 SubscriptionStatus.UNPAID)


class Subscription(WalletRow):
    """A wallet's subscription at Stripe Billing, as its webhooks told us (services in `subscriptions`).

    The wallet holds what the plan means for credits (its package, the last period paid); this row
    holds Stripe's side and what is waiting: a downgrade for the period's end, an upgrade for its
    invoice to be paid."""

    wallet = models.ForeignKey("wallets.Wallet", on_delete=models.PROTECT, related_name="subscriptions")
    # Unique across wallets through SubscriptionReference.
    stripe_subscription_id = models.CharField(max_length=255)
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
        constraints = [
            models.UniqueConstraint(fields=["stripe_subscription_id", "wallet"], name="subscription_stripe_id_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.stripe_subscription_id} ({self.status})"

    def save(self, *args, **kwargs):
        if self._state.adding or "stripe_subscription_id" in (kwargs.get("update_fields") or ()):
            with transaction.atomic():
                claim(table="payments_subscriptionreference", key="stripe_subscription_id",
                      value=self.stripe_subscription_id, owner_column="wallet_id", owner=self.wallet_id,
                      source="payments_subscription")
                return super().save(*args, **kwargs)
        return super().save(*args, **kwargs)


class SubscriptionReference(models.Model):
    """A Stripe subscription belongs to one wallet: the lookup that keeps
    `Subscription.stripe_subscription_id` unique across wallets (`common.claims`)."""

    stripe_subscription_id = models.CharField(max_length=255, primary_key=True)
    wallet_id = models.IntegerField()
