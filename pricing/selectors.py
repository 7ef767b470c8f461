from django.db.models import Prefetch, QuerySet

from .exceptions import UnknownAction
from .models import BulkTier, Package, PricingRule, TopUpTier


def pricing_rule_list() -> QuerySet[PricingRule]:
    return PricingRule.objects.filter(is_active=True).prefetch_related(
        Prefetch("bulk_tiers", queryset=BulkTier.objects.order_by("min_quantity"))
    )


def pricing_rule_get(*, action_type: str) -> PricingRule:
    """The active rule for `action_type` with its tiers; UnknownAction (404) if there is none."""
    rule = pricing_rule_list().filter(action_type=action_type).first()
    if rule is None:
        raise UnknownAction(action_type)
    return rule


def package_get_default() -> Package:
    package = Package.objects.filter(is_default=True).first()
    if package is None:  # A database without the default rows: fall back rather than fail sign-up.
        package, _ = Package.objects.get_or_create(name="Free", defaults={"monthly_credits": 50, "is_default": True})
    return package


def top_up_tier_list() -> list[TopUpTier]:
    """The top-up price tiers, smallest first (what `quotes.quote_top_up` prices against)."""
    return list(TopUpTier.objects.order_by("min_credits"))
