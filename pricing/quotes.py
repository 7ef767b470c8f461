"""Prices, as pure functions of what they are given (no database): an action's (free units first,
then the bulk discount, rounded up to whole credits) and a top-up's (the tier the amount reaches)."""

from dataclasses import dataclass

from .models import PricingRule


@dataclass(frozen=True)
class Quote:
    action_type: str
    quantity: int
    unit_price: int
    free_units: int
    billable_units: int
    subtotal: int
    discount_percent: int
    discount_credits: int
    total_credits: int


def discount_for(tiers, billable_units: int) -> int:
    """The discount of the highest tier whose min_quantity the billable units reach."""
    best = 0
    best_min = 0
    for tier in tiers:
        if tier.min_quantity <= billable_units and tier.min_quantity >= best_min:
            best, best_min = tier.discount_percent, tier.min_quantity
    return best


def quote(rule: PricingRule, *, quantity: int, free_remaining: int = 0, tiers=None) -> Quote:
    """Price `quantity` units of `rule`; `tiers` may be passed to avoid a query (prefetched)."""
    free_units = max(0, min(quantity, free_remaining))
    billable = quantity - free_units
    subtotal = rule.credits_per_action * billable
    discount = discount_for(rule.bulk_tiers.all() if tiers is None else tiers, billable)
    # Integer ceiling of subtotal * (100 - discount) / 100: the customer never pays a fraction.
    total = -(-subtotal * (100 - discount) // 100)
    return Quote(
        action_type=rule.action_type,
        quantity=quantity,
        unit_price=rule.credits_per_action,
        free_units=free_units,
        billable_units=billable,
        subtotal=subtotal,
        discount_percent=discount,
        discount_credits=subtotal - total,
        total_credits=total,
    )


# Purchase limits: the smallest top-up the lowest tier allows, the largest one we sell at once.
TOP_UP_MAX_CREDITS = 100_000


class TopUpOutOfRange(ValueError):
    pass


@dataclass(frozen=True)
class TopUpQuote:
    credits: int
    unit_price: int  # cents per credit
    total: int  # cents
    currency: str
    tier: int  # min_credits of the tier that applied


def quote_top_up(credits: int, *, tiers: list) -> TopUpQuote:
    """Price a purchase of `credits` against `tiers` (TopUpTier rows or alike, smallest first)."""
    minimum = tiers[0].min_credits if tiers else 1
    if not tiers or not minimum <= credits <= TOP_UP_MAX_CREDITS:
        raise TopUpOutOfRange(f"A top-up is between {minimum} and {TOP_UP_MAX_CREDITS} credits.")
    tier = [t for t in tiers if t.min_credits <= credits][-1]
    return TopUpQuote(
        credits=credits,
        unit_price=tier.unit_price_cents,
        total=credits * tier.unit_price_cents,
        currency=tier.currency,
        tier=tier.min_credits,
    )
