from django.core.management.base import BaseCommand

from pricing import defaults
from pricing.models import BulkTier, Package, PricingRule, TopUpTier


class Command(BaseCommand):
    help = "Create the default packages and pricing rules that are missing (never overwrites edits)."

    def handle(self, *args, **options):
        defaults.load(Package, PricingRule, BulkTier)
        defaults.load_top_up_tiers(TopUpTier)
        self.stdout.write(f"{Package.objects.count()} packages, {PricingRule.objects.count()} pricing rules.")
