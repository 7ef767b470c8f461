from django.db.models import Prefetch, QuerySet

from .exceptions import UnknownAction
from .models import BulkTier, Package, PricingRule


def active_rules() -> QuerySet[PricingRule]:
    return PricingRule.objects.filter(is_active=True).prefetch_related(
        Prefetch("bulk_tiers", queryset=BulkTier.objects.order_by("min_quantity"))
    )


def pricing_rule_get(*, action_type: str) -> PricingRule:
    """The active rule for `action_type` with its tiers; UnknownAction (404) if there is none."""
    rule = active_rules().filter(action_type=action_type).first()
    if rule is None:
        raise UnknownAction(action_type)
    return rule


def default_package() -> Package:
    package = Package.objects.filter(is_default=True).first()
    if package is None:  # A database without the default rows: fall back rather than fail sign-up.
        package, _ = Package.objects.get_or_create(name="Free", defaults={"monthly_credits": 50, "is_default": True})
    return package
