import threading

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


# The rules' version (migrations/0005_rules_version.py), as a scalar subquery a caller can put in a
# statement it runs anyway (the gate's ask reads the same row inside `wallets_purchase_state`), then
# hand to `pricing_rule_current`.
RULES_VERSION_SQL = "(SELECT version FROM pricing_rules_version)"

_cached: tuple[int | None, dict[str, PricingRule | None]] = (None, {})  # (version, rule or None by action)
_cache_lock = threading.Lock()


def pricing_rule_current(*, action_type: str, version: int | None) -> PricingRule:
    """`pricing_rule_get`, cached in this process for as long as the rules' version (read by the
    caller through RULES_VERSION_SQL) stays the same: no statement at all while nothing changed, a
    fresh read on the first request after any change anywhere. The rule returned is shared: read it,
    never change it."""
    cached_version, rules = _cached
    if version is not None and version == cached_version and action_type in rules:
        rule = rules[action_type]
    else:
        # Read after the version (a later statement), so it is at least as new: cached under an older
        # version it is read again once the newer version is seen, never kept stale.
        rule = pricing_rule_list().filter(action_type=action_type).first()
        if version is not None:
            _remember(version, action_type, rule)
    if rule is None:
        raise UnknownAction(action_type)
    return rule


def _remember(version: int, action_type: str, rule: PricingRule | None) -> None:
    global _cached
    with _cache_lock:
        cached_version, rules = _cached
        if version != cached_version:
            if cached_version is not None and version < cached_version:
                return  # a slower reader of an older version: keep the newer cache
            rules = {}
        _cached = (version, {**rules, action_type: rule})


def pricing_rules_forget() -> None:
    """Drop this process's cached rules (tests that count statements start from a known state)."""
    global _cached
    with _cache_lock:
        _cached = (None, {})


def package_list() -> list[Package]:
    """Every package, cheapest first."""
    return list(Package.objects.order_by("price_cents", "monthly_credits", "name"))


def package_get_default() -> Package:
    package = Package.objects.filter(is_default=True).first()
    if package is None:  # A database without the default rows: fall back rather than fail sign-up.
        package, _ = Package.objects.get_or_create(name="Free", defaults={"monthly_credits": 50, "is_default": True})
    return package


def top_up_tier_list() -> list[TopUpTier]:
    """The top-up price tiers, smallest first (what `quotes.quote_top_up` prices against)."""
    return list(TopUpTier.objects.order_by("min_credits"))
