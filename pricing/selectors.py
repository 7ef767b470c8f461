from django.db.models import Prefetch, QuerySet

from .models import BulkTier, Package, PricingRule


def active_rules() -> QuerySet[PricingRule]:
    return PricingRule.objects.filter(is_active=True).prefetch_related(
        Prefetch("bulk_tiers", queryset=BulkTier.objects.order_by("min_quantity"))
    )


def default_package() -> Package:
    package = Package.objects.filter(is_default=True).first()
    if package is None:  # A database without the default rows: fall back rather than fail sign-up.
        package, _ = Package.objects.get_or_create(name="Free", defaults={"monthly_credits": 50, "is_default": True})
    return package
