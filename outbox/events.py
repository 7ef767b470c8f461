"""The event types the platform announces (SPEC "Notifications"), one constant each."""

from django.db import models


class EventType(models.TextChoices):
    BALANCE_LOW = "balance.low", "Balance low"
    BALANCE_DEPLETED = "balance.depleted", "Balance depleted"
    BALANCE_RECOVERED = "balance.recovered", "Balance recovered"
    CREDITS_GRANTED = "credits.granted", "Credits granted"
    CREDITS_EXPIRING = "credits.expiring", "Credits expiring"
    CREDITS_EXPIRED = "credits.expired", "Credits expired"
    TOP_UP_COMPLETED = "top_up.completed", "Top-up completed"
    TOP_UP_REFUNDED = "top_up.refunded", "Top-up refunded"
    WALLET_LOCKED = "wallet.locked", "Wallet locked"
    WALLET_UNLOCKED = "wallet.unlocked", "Wallet unlocked"
    AUTO_RECHARGE_SUCCEEDED = "auto_recharge.succeeded", "Auto-recharge succeeded"
    AUTO_RECHARGE_FAILED = "auto_recharge.failed", "Auto-recharge failed"
    SUBSCRIPTION_ACTIVATED = "subscription.activated", "Subscription activated"
    SUBSCRIPTION_RENEWED = "subscription.renewed", "Subscription renewed"
    SUBSCRIPTION_CHANGED = "subscription.changed", "Subscription changed"
    SUBSCRIPTION_PAST_DUE = "subscription.past_due", "Subscription payment failed"
    SUBSCRIPTION_CANCELED = "subscription.canceled", "Subscription canceled"
