"""What the money path's database functions answer, as enums: the same labels as the PostgreSQL
enum types they return (wallets/db/types/), which a test holds equal."""

from django.db import models


class ReserveOutcome(models.TextChoices):
    RESERVED = "reserved"
    MISSING = "missing"
    LOCKED = "locked"
    PAID = "paid"
    RETRY_CAPTURED = "retry_captured"
    RETRY_HELD = "retry_held"
    IN_FLIGHT = "in_flight"
    REQUOTE = "requote"
    SHORT = "short"
    MEMBER_CAP_REACHED = "member_cap_reached"


class SettleOutcome(models.TextChoices):
    CAPTURED = "captured"
    RELEASED = "released"
    PAID_ALREADY = "paid_already"
    MISSING = "missing"
    WAS_CAPTURED = "was_captured"
    WAS_RELEASED = "was_released"
    WAS_EXPIRED = "was_expired"


# The SQLSTATE the money path's functions raise when a wallet's totals and its grants disagree.
GRANTS_DISAGREE = "CR001"


class AlertState(models.IntegerChoices):
    """`Wallet.low_balance_state`, as wallets_alert_transition.sql sets it."""

    ARMED = 0, "armed"  # nothing fired since the available balance was last at or above the threshold
    LOW = 1, "low"  # balance.low fired
    DEPLETED = 2, "depleted"  # balance.depleted fired: nothing left
