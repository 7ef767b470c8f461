"""The auto-recharge panel of /app/ in headless Chromium: it saves the settings through the API,
shows the saved card, and says when a failed payment turned auto-recharge off."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

from payments.models import StripeCustomer
from wallets.models import Recharge, RechargeState, RechargeStatus, Wallet

from .browser import SCREENSHOTS
from .test_credits_page import DEMO, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_with_card(db):
    call_command("create_demo_user", stdout=open("/dev/null", "w"))
    user = get_user_model().objects.get(username=DEMO[0])
    StripeCustomer.objects.create(wallet_id=user.pk, customer_id="cus_demo", payment_method_id="pm_demo",
                                  card_brand="visa", card_last4="4242")
    return user


def panel(page):
    return page.locator("credits-auto-recharge")


def test_the_panel_saves_the_settings_and_shows_the_card(page, live_server, demo_with_card):
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, live_server, *DEMO)
    recharge = panel(page)
    expect(recharge.get_by_test_id("auto-recharge-card")).to_have_text("Card: visa ending 4242")
    expect(recharge.get_by_test_id("auto-recharge-status")).to_have_text("Off")
    recharge.get_by_label("Enabled").check()
    recharge.get_by_label("When below").fill("30")
    recharge.get_by_label("Credits").fill("250")
    recharge.get_by_label("At most a month").fill("1000")
    recharge.get_by_role("button", name="Save").click()
    expect(recharge.get_by_role("status")).to_have_text("On: buy 250 credits whenever you fall below 30.")
    expect(recharge.get_by_test_id("auto-recharge-status")).to_have_text("On")
    wallet = Wallet.objects.get(pk=demo_with_card.pk)
    assert (wallet.recharge_enabled, wallet.recharge_threshold, wallet.recharge_credits, wallet.recharge_target,
            wallet.recharge_monthly_limit) == (True, 30, 250, None, 1000)
    recharge.screenshot(path=str(SCREENSHOTS / "auto-recharge-panel-1400.png"))


def test_a_failed_payment_is_shown_with_its_reason(page, live_server, demo_with_card):
    wallet = Wallet.objects.get(pk=demo_with_card.pk)
    Recharge.objects.create(wallet=wallet, credits=500, period=wallet.billing_cycle_start,
                            status=RechargeState.FAILED, failure="insufficient_funds")
    Wallet.objects.filter(pk=wallet.pk).update(recharge_status=RechargeStatus.DISABLED_AFTER_FAILURE,
                                               recharge_threshold=30, recharge_credits=250,
                                               recharge_monthly_limit=1000)
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, live_server, *DEMO)
    recharge = panel(page)
    expect(recharge.get_by_test_id("auto-recharge-status")).to_have_text("Turned off after a failed payment")
    expect(recharge.get_by_test_id("auto-recharge-failure")).to_contain_text("insufficient_funds")
    recharge.screenshot(path=str(SCREENSHOTS / "auto-recharge-failure-1400.png"))
