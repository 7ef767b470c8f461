import factory
from django.contrib.auth import get_user_model

from pricing.models import BulkTier, Package, PricingRule


class UserFactory(factory.django.DjangoModelFactory):
    """A user; the post_save signal gives it a wallet on the default package."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class PackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Package

    name = factory.Sequence(lambda n: f"Package {n}")
    monthly_credits = 100
    rollover_cap = 0


class PricingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PricingRule
        django_get_or_create = ("action_type",)

    action_type = factory.Sequence(lambda n: f"action_{n}")
    credits_per_action = 10
    free_allowance_per_month = 0
    access_window_hours = 24


class BulkTierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BulkTier

    rule = factory.SubFactory(PricingRuleFactory)
    min_quantity = 5
    discount_percent = 10


def user_without_wallet(username: str = "walletless"):
    """bulk_create sends no post_save signal, so no wallet is made (a user from before wallets existed)."""
    User = get_user_model()
    User.objects.bulk_create([User(username=username, email=f"{username}@example.com")])
    return User.objects.get(username=username)
