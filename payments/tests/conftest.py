import pytest

from pricing.models import Package

from .fake_stripe import WEBHOOK_SECRET, FakeStripe


@pytest.fixture
def stripe_api(settings):
    """A local fake Stripe the settings point at, with our webhook secret."""
    with FakeStripe() as server:
        settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = "sk_test_123", WEBHOOK_SECRET
        settings.STRIPE_API_BASE = server.url
        yield server


@pytest.fixture
def plans(db):
    """The default catalogue's packages by name, the paid ones with a Stripe Price each."""
    for name, price in (("Business", "price_business"), ("Enterprise", "price_enterprise"), ("Starter", "price_starter")):
        Package.objects.filter(name=name).update(stripe_price_id=price)
    return {p.name: p for p in Package.objects.all()}
