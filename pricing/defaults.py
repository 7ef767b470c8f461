"""The default catalogue: loaded by a data migration and by `manage.py load_defaults`."""

PACKAGES = [
    # name, monthly_credits, rollover_cap, is_default, monthly price in cents (USD)
    ("Free", 50, 0, True, 0),
    ("Starter", 100, 0, False, 900),
    ("Professional", 100, 50, False, 1500),
    ("Business", 500, 250, False, 4900),
    ("Enterprise", 2000, 1000, False, 14900),
]

RULES = [
    # action_type, credits, free per month, access window hours (None = forever), description, tiers
    ("influencer_unlock", 25, 2, None, "Unlock an influencer profile", [(5, 10), (10, 20)]),
    ("detailed_analytics", 15, 5, 24, "Detailed analytics of a profile", [(5, 10), (10, 15)]),
    ("ai_insights", 20, 0, 24, "AI insights computed from a profile and its posts", [(5, 10)]),
    ("profile_posts", 10, 0, 24, "Recent posts of a profile with their metrics", [(10, 10)]),
]

TOP_UP_TIERS = [
    # min_credits, cents per credit
    (10, 10),
    (500, 9),
    (2000, 8),
    (10000, 7),
]


def load_top_up_tiers(TopUpTier) -> None:
    if not TopUpTier.objects.exists():
        TopUpTier.objects.bulk_create(TopUpTier(min_credits=m, unit_price_cents=c) for m, c in TOP_UP_TIERS)


def load(Package, PricingRule, BulkTier) -> None:
    """Create what is missing; never overwrite what staff have changed."""
    # An early migration (0002) calls this with the model of its time, before packages had prices.
    priced = any(field.name == "price_cents" for field in Package._meta.get_fields())
    for name, monthly, cap, is_default, price in PACKAGES:
        Package.objects.get_or_create(
            name=name,
            defaults={"monthly_credits": monthly, "rollover_cap": cap, "is_default": is_default,
                      **({"price_cents": price} if priced else {})},
        )
    for action, credits, free, window, description, tiers in RULES:
        rule, created = PricingRule.objects.get_or_create(
            action_type=action,
            defaults={
                "credits_per_action": credits,
                "free_allowance_per_month": free,
                "access_window_hours": window,
                "description": description,
            },
        )
        if created:
            BulkTier.objects.bulk_create(
                BulkTier(rule=rule, min_quantity=q, discount_percent=d) for q, d in tiers
            )
