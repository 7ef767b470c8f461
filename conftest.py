import os

import pytest
from django.test.testcases import LiveServerThread
from rest_framework.test import APIClient

from pricing import defaults
from pricing.models import BulkTier, Package, PricingRule, TopUpTier
from testing.clients import client_for
from testing.factories import PricingRuleFactory, UserFactory
from testing.live_server import PooledWSGIServer
from wallets.models import Wallet
from wallets.services import credits_adjust

LiveServerThread.server_class = PooledWSGIServer  # `live_server`: requests served a bounded number at a time

if os.environ.get("TESTS_ON_CITUS"):
    # Citus cannot create a test database (CREATE DATABASE does not reach the workers): the tests
    # run in the one TEST_DATABASE_URL names, migrated and distributed beforehand
    # (credits_platform/tests/test_citus.py does both, then runs suites here).
    @pytest.fixture(scope="session")
    def django_db_setup():
        pass


@pytest.fixture(autouse=True)
def default_catalogue(request):
    """Transactional tests flush the database, data-migrated defaults included: put them back."""
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        defaults.load(Package, PricingRule, BulkTier)
        defaults.load_top_up_tiers(TopUpTier)


@pytest.fixture
def make_user(db):
    def make(balance: int | None = None, **kwargs):
        """A user with a wallet; `balance` (if given) is reached by an adjustment from the default grant."""
        user = UserFactory(**kwargs)
        if balance is not None:
            current = Wallet.objects.get(pk=user.pk).current_balance
            if balance != current:
                credits_adjust(user_id=user.pk, amount=balance - current, reason="test setup")
        return user

    return make


@pytest.fixture
def user(make_user):
    return make_user()


@pytest.fixture
def wallet(user):
    return Wallet.objects.get(pk=user.pk)


@pytest.fixture
def rule(db):
    return PricingRuleFactory(action_type="test_action", credits_per_action=20, free_allowance_per_month=0)


@pytest.fixture
def default_package(db):
    return Package.objects.get(is_default=True)


@pytest.fixture
def api(user):
    return client_for(user)


@pytest.fixture
def staff_api(make_user):
    return client_for(make_user(is_staff=True))


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def busy_user(make_user):
    """A user who went through `known_month`: balance 95, 45 spent, 3 free uses."""
    from testing.sequences import known_month

    user = make_user(balance=100)
    known_month(user)
    return user
