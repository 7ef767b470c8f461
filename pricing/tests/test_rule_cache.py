"""The rules cached per process (`selectors.pricing_rule_current`) behind a version the database bumps
on every change of a rule or a tier, however it is made."""

import pytest
from django.db import connection

from pricing.exceptions import UnknownAction
from pricing.models import BulkTier, PricingRule
from pricing.selectors import RULES_VERSION_SQL, pricing_rule_current, pricing_rules_forget

pytestmark = pytest.mark.django_db


def version() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {RULES_VERSION_SQL}")
        return cursor.fetchone()[0]


@pytest.fixture(autouse=True)
def cold_cache():
    pricing_rules_forget()
    yield
    pricing_rules_forget()


def test_every_kind_of_change_bumps_the_version():
    rule = PricingRule.objects.get(action_type="ai_insights")
    seen = [version()]

    def changed():
        seen.append(version())
        return seen[-1] > seen[-2]

    rule.credits_per_action = 21
    rule.save()
    assert changed()
    PricingRule.objects.filter(pk=rule.pk).update(is_active=False)  # no signal is sent: the trigger fires
    assert changed()
    tier = BulkTier.objects.create(rule=rule, min_quantity=997, discount_percent=10)
    assert changed()
    BulkTier.objects.filter(pk=tier.pk).update(discount_percent=20)
    assert changed()
    tier.delete()
    assert changed()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE pricing_pricingrule SET description = 'raw' WHERE id = %s", [rule.pk])
    assert changed()
    PricingRule.objects.filter(pk=-1).update(description="nothing")  # a statement that changes no row bumps too
    assert changed()


def test_the_rule_is_read_once_per_version(django_assert_num_queries):
    current = version()
    with django_assert_num_queries(2):  # the rule and its tiers
        rule = pricing_rule_current(action_type="ai_insights", version=current)
    with django_assert_num_queries(0):
        assert pricing_rule_current(action_type="ai_insights", version=current) is rule
    PricingRule.objects.filter(action_type="ai_insights").update(credits_per_action=33)
    bumped = version()
    with django_assert_num_queries(2):
        assert pricing_rule_current(action_type="ai_insights", version=bumped).credits_per_action == 33


def test_an_unknown_or_inactive_action_is_cached_as_unknown(django_assert_num_queries):
    PricingRule.objects.filter(action_type="ai_insights").update(is_active=False)
    current = version()
    with pytest.raises(UnknownAction), django_assert_num_queries(1):  # no rule: no tiers to read
        pricing_rule_current(action_type="ai_insights", version=current)
    with pytest.raises(UnknownAction), django_assert_num_queries(0):
        pricing_rule_current(action_type="ai_insights", version=current)
    PricingRule.objects.filter(action_type="ai_insights").update(is_active=True)
    assert pricing_rule_current(action_type="ai_insights", version=version()).is_active


def test_without_a_version_nothing_is_cached(django_assert_num_queries):
    pricing_rule_current(action_type="ai_insights", version=None)
    with django_assert_num_queries(2):
        pricing_rule_current(action_type="ai_insights", version=None)
