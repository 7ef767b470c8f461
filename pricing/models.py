"""What things cost: subscription packages, per-action pricing rules and their bulk tiers."""

from datetime import timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class Package(models.Model):
    name = models.CharField(max_length=64, unique=True)
    monthly_credits = models.PositiveIntegerField(help_text="Credits granted on the 1st of every month.")
    rollover_cap = models.PositiveIntegerField(
        default=0, help_text="Unused monthly credits that survive a reset; the rest expire."
    )
    is_default = models.BooleanField(default=False, help_text="Given to every new wallet.")
    price_cents = models.PositiveIntegerField(
        default=0, help_text="Monthly price in the currency's smallest unit (0: free)."
    )
    currency = models.CharField(max_length=3, default="usd")
    stripe_price_id = models.CharField(
        max_length=255, blank=True, help_text="The Stripe Price a subscription to it is billed with (price_...)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["monthly_credits", "name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_package"),
        ]

    def __str__(self) -> str:
        return self.name


class PricingRule(models.Model):
    action_type = models.SlugField(max_length=64, unique=True)
    credits_per_action = models.PositiveIntegerField()
    free_allowance_per_month = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=255, blank=True)
    access_window_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=24,
        help_text="How long one paid access to the same resource stays free to repeat. Empty = forever.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["action_type"]

    def __str__(self) -> str:
        return self.action_type

    @property
    def access_window(self) -> timedelta | None:
        """None means a paid access never expires."""
        return None if self.access_window_hours is None else timedelta(hours=self.access_window_hours)


class BulkTier(models.Model):
    rule = models.ForeignKey(PricingRule, on_delete=models.CASCADE, related_name="bulk_tiers")
    min_quantity = models.PositiveIntegerField(validators=[MinValueValidator(2)])
    discount_percent = models.PositiveSmallIntegerField(validators=[MinValueValidator(0), MaxValueValidator(100)])

    class Meta:
        ordering = ["rule", "min_quantity"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "min_quantity"], name="one_tier_per_quantity"),
            models.CheckConstraint(condition=Q(discount_percent__lte=100), name="discount_at_most_100"),
            models.CheckConstraint(condition=Q(min_quantity__gte=2), name="tier_quantity_at_least_2"),
        ]

    def __str__(self) -> str:
        return f"{self.rule.action_type}: {self.discount_percent}% from {self.min_quantity}"


class TopUpTier(models.Model):
    """Price per credit for purchases of at least `min_credits` (the highest tier reached applies)."""

    min_credits = models.PositiveIntegerField(unique=True, validators=[MinValueValidator(1)])
    unit_price_cents = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    currency = models.CharField(max_length=3, default="usd")

    class Meta:
        ordering = ["min_credits"]
        constraints = [
            models.CheckConstraint(condition=Q(unit_price_cents__gte=1), name="topup_price_positive"),
            models.CheckConstraint(condition=Q(min_credits__gte=1), name="topup_min_credits_positive"),
        ]

    def __str__(self) -> str:
        return f"from {self.min_credits} credits: {self.unit_price_cents} {self.currency}/credit"
