"""The plan panel of /app/ in headless Chromium against a local fake Stripe: subscribing goes to
Stripe Checkout, a failed payment and a locked wallet show a banner with a way to pay, and a
subscriber cancels at the period's end, resumes, and downgrades (and takes the downgrade back)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

from common.periods import next_period, period_of, period_start
from payments.models import StripeCustomer, Subscription
from payments.tests.fake_stripe import WEBHOOK_SECRET, FakeStripe
from pricing.models import Package
from wallets.models import Wallet
from wallets.services import wallet_set_status

from .browser import SCREENSHOTS
from .test_credits_page import DEMO, sign_in

pytestmark = pytest.mark.django_db(transaction=True)
PERIOD = period_start(period_of()), period_start(next_period(period_of()))
PERIOD_END = f"{PERIOD[1].day} {PERIOD[1]:%b %Y}"  # as the panel writes a day: "1 Feb 2027"


@pytest.fixture
def stripe_api(settings):
    """A local fake Stripe the live server's settings point at."""
    with FakeStripe() as server:
        settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = "sk_test_123", WEBHOOK_SECRET
        settings.STRIPE_API_BASE = server.url
        yield server


@pytest.fixture
def demo(db, stripe_api):
    call_command("create_demo_user", stdout=open("/dev/null", "w"))
    for name, price in (("Starter", "price_starter"), ("Professional", "price_professional"),
                        ("Business", "price_business"), ("Enterprise", "price_enterprise")):
        Package.objects.filter(name=name).update(stripe_price_id=price)
    return get_user_model().objects.get(username=DEMO[0])


def subscribed(user, status: str, **fields) -> Subscription:
    """The demo wallet on Business through a subscription in `status` (as its webhooks would leave it)."""
    business = Package.objects.get(name="Business")
    StripeCustomer.objects.get_or_create(wallet_id=user.pk, defaults={"customer_id": "cus_demo"})
    sub = Subscription.objects.create(wallet_id=user.pk, stripe_subscription_id="sub_demo", customer_id="cus_demo",
                                      package=business, status=status, current_period_start=PERIOD[0],
                                      current_period_end=PERIOD[1], **fields)
    Wallet.objects.filter(pk=user.pk).update(package=business)
    return sub


def panel(page):
    return page.locator("credits-plan")


def row(page, name: str):
    return panel(page).locator(f'tr[data-package="{name}"]')


def screenshots(page, name: str):
    """The panel at a desktop's width and a phone's."""
    for width in (1400, 375):
        page.set_viewport_size({"width": width, "height": 1000})
        panel(page).screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})


def test_subscribing_goes_to_stripe_checkout_for_the_package(page, live_server, demo, stripe_api):
    page.route("https://checkout.stripe.test/**",
               lambda route: route.fulfill(status=200, content_type="text/html", body="<h1>Stripe Checkout</h1>"))
    sign_in(page, live_server, *DEMO)
    plan = panel(page)
    expect(plan.get_by_test_id("plan-current")).to_have_text("Free")
    expect(plan.get_by_test_id("plan-status")).to_have_text("No subscription: subscribe for more credits every month.")
    expect(row(page, "Business")).to_contain_text("$49.00")
    expect(row(page, "Free")).to_contain_text("Free")
    expect(row(page, "Free").get_by_role("button")).to_have_count(0)  # the default package is not sold
    expect(plan.get_by_test_id("plan-banner")).to_have_count(0)
    expect(plan.get_by_role("button", name="Manage billing")).to_have_count(0)
    screenshots(page, "plan-panel")

    row(page, "Business").get_by_role("button", name="Subscribe").click()
    page.wait_for_url("https://checkout.stripe.test/subscribe/**")
    expect(page.get_by_role("heading", name="Stripe Checkout")).to_be_visible()
    sessions = [form for path, form, _ in stripe_api.calls if path == "/v1/checkout/sessions"]
    assert len(sessions) == 1
    assert sessions[0]["mode"] == "subscription"
    assert sessions[0]["line_items[0][price]"] == "price_business"


def test_a_failed_payment_shows_a_banner_with_the_invoice_to_pay(page, live_server, demo):
    subscribed(demo, "past_due", payment_url="https://invoice.stripe.test/in_1")
    sign_in(page, live_server, *DEMO)
    plan = panel(page)
    banner = plan.get_by_test_id("plan-banner")
    expect(banner).to_contain_text("Your last payment failed. Your credits keep working while we retry.")
    expect(banner.get_by_role("link", name="Pay now")).to_have_attribute("href", "https://invoice.stripe.test/in_1")
    expect(plan.get_by_test_id("plan-current")).to_have_text("Business")
    expect(plan.get_by_test_id("plan-status")).to_have_text("Payment overdue: Stripe is retrying")
    expect(row(page, "Enterprise").get_by_role("button", name="Upgrade")).to_be_visible()
    expect(row(page, "Starter").get_by_role("button", name="Downgrade")).to_be_visible()
    expect(plan.get_by_role("button", name="Manage billing")).to_be_visible()
    screenshots(page, "plan-past-due")


def test_a_locked_wallet_shows_the_guides_sentence_and_a_way_to_pay(page, live_server, demo):
    subscribed(demo, "unpaid", payment_url="https://invoice.stripe.test/in_2", locked_wallet=True)
    wallet_set_status(user_id=demo.pk, status="locked")
    sign_in(page, live_server, *DEMO)
    plan = panel(page)
    banner = plan.get_by_test_id("plan-banner")
    expect(banner).to_contain_text("Your credit wallet is locked. Please renew your subscription to continue.")
    expect(banner.get_by_role("link", name="Pay now")).to_have_attribute("href", "https://invoice.stripe.test/in_2")
    expect(plan.get_by_test_id("plan-current")).to_have_text("Business")
    screenshots(page, "plan-locked")


def test_a_subscriber_cancels_at_the_periods_end_and_resumes(page, live_server, demo, stripe_api):
    sub = subscribed(demo, "active")
    stripe_api.subscriptions["sub_demo"] = {"id": "sub_demo", "object": "subscription", "status": "active",
                                            "items": {"data": [{"id": "si_1"}]}, "cancel_at_period_end": False}
    sign_in(page, live_server, *DEMO)
    plan = panel(page)
    status = plan.get_by_test_id("plan-status")
    expect(status).to_have_text(f"Active, renews on {PERIOD_END}")
    expect(plan.get_by_test_id("plan-banner")).to_have_count(0)
    screenshots(page, "plan-active")

    plan.get_by_role("button", name="Cancel subscription").click()
    expect(status).to_have_text(f"Ends on {PERIOD_END} (cancelled)")
    expect(plan.get_by_test_id("plan-message")).to_have_text(f"Cancelled: your plan ends on {PERIOD_END}.")
    expect(plan.get_by_role("button", name="Cancel subscription")).to_have_count(0)
    sub.refresh_from_db()
    assert sub.cancel_at_period_end is True
    assert stripe_api.subscriptions["sub_demo"]["cancel_at_period_end"] is True
    screenshots(page, "plan-cancelled")

    plan.get_by_role("button", name="Resume").click()
    expect(status).to_have_text(f"Active, renews on {PERIOD_END}")
    expect(plan.get_by_role("button", name="Cancel subscription")).to_be_visible()
    sub.refresh_from_db()
    assert sub.cancel_at_period_end is False
    assert stripe_api.subscriptions["sub_demo"]["cancel_at_period_end"] is False


def test_a_downgrade_waits_for_the_periods_end_and_can_be_taken_back(page, live_server, demo, stripe_api):
    sub = subscribed(demo, "active")
    stripe_api.subscriptions["sub_demo"] = {"id": "sub_demo", "object": "subscription", "status": "active",
                                            "items": {"data": [{"id": "si_1"}]}, "cancel_at_period_end": False}
    sign_in(page, live_server, *DEMO)
    plan = panel(page)
    status = plan.get_by_test_id("plan-status")
    row(page, "Starter").get_by_role("button", name="Downgrade").click()
    expect(status).to_have_text(f"Active · Moves to Starter on {PERIOD_END}")
    expect(row(page, "Starter")).to_contain_text(f"From {PERIOD_END}")
    expect(plan.get_by_test_id("plan-current")).to_have_text("Business")  # still Business until then
    sub.refresh_from_db()
    assert sub.pending_package.name == "Starter"
    updates = [form for path, form, _ in stripe_api.calls if path == "/v1/subscriptions/sub_demo"]
    assert updates[-1]["items[0][price]"] == "price_starter"
    screenshots(page, "plan-downgrade")

    row(page, "Business").get_by_role("button", name="Keep").click()
    expect(status).to_have_text(f"Active, renews on {PERIOD_END}")
    sub.refresh_from_db()
    assert sub.pending_package is None


def test_an_upgrade_waits_for_its_invoice_and_billing_opens_stripes_portal(page, live_server, demo, stripe_api):
    sub = subscribed(demo, "active")
    stripe_api.subscriptions["sub_demo"] = {"id": "sub_demo", "object": "subscription", "status": "active",
                                            "items": {"data": [{"id": "si_1"}]}, "cancel_at_period_end": False}
    page.route("https://billing.stripe.test/**",
               lambda route: route.fulfill(status=200, content_type="text/html", body="<h1>Billing portal</h1>"))
    sign_in(page, live_server, *DEMO)
    plan = panel(page)
    row(page, "Enterprise").get_by_role("button", name="Upgrade").click()
    expect(plan.get_by_test_id("plan-status")).to_have_text(
        f"Active, renews on {PERIOD_END} · Upgrade to Enterprise waiting for payment")
    expect(row(page, "Enterprise")).to_contain_text("Waiting for payment")
    expect(plan.locator("td.act button")).to_have_count(0)  # one change at a time
    sub.refresh_from_db()
    assert sub.upgrade_to.name == "Enterprise"
    screenshots(page, "plan-upgrade-pending")

    plan.get_by_role("button", name="Manage billing").click()
    page.wait_for_url("https://billing.stripe.test/session/cus_demo")
    expect(page.get_by_role("heading", name="Billing portal")).to_be_visible()
