"""The customer page (/app/) in headless Chromium against a live server and real PostgreSQL."""

import csv
import re

import httpx
import pytest
from django.core.management import call_command
from django.contrib.auth import get_user_model
from playwright.sync_api import expect
from rest_framework_simplejwt.tokens import RefreshToken

from testing.clients import client_for
from testing.sequences import known_month
from wallets.services import credits_adjust

from .browser import SCREENSHOTS

pytestmark = pytest.mark.django_db(transaction=True)
DEMO = ("demo", "demo-credits-2026")


@pytest.fixture
def demo(db):
    call_command("create_demo_user", stdout=open("/dev/null", "w"))
    return get_user_model().objects.get(username=DEMO[0])


def sign_in(page, live_server, username, password):
    """With the keyboard only, as someone who does not use a mouse would."""
    page.goto(f"{live_server.url}/app/")
    page.get_by_label("Username").focus()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("username")).to_have_text(username)


def api_balance(user) -> int:
    return client_for(user).get("/api/v1/api/credits/balance").json()["current_balance"]


def shown_balance(page) -> int:
    return int(page.get_by_test_id("current-balance").inner_text().split()[0].replace(",", ""))


def daily_chart_total(page) -> int:
    """The sum of the bars the usage chart draws (read from the Chart.js instance itself)."""
    return page.evaluate(
        """() => {
          const app = document.querySelector('credits-app').shadowRoot;
          const chart = app.querySelector('credits-usage-chart').dailyChart;
          return chart.data.datasets[0].data.reduce((a, b) => a + b, 0);
        }"""
    )


def test_sign_in_shows_the_balance_the_api_reports(page, live_server, demo):
    credits_adjust(user_id=demo.pk, amount=137, reason="welcome")
    sign_in(page, live_server, *DEMO)
    expect(page.get_by_test_id("current-balance")).to_contain_text(str(api_balance(demo)))
    assert shown_balance(page) == api_balance(demo) == 50 + 137
    expect(page.get_by_label("Tell me when my balance falls below")).to_have_value("20")  # the alerts endpoint
    expect(page.get_by_role("heading", name="Auto-recharge")).to_be_visible()  # the auto-recharge endpoint


def test_an_unlock_through_the_api_updates_the_balance_and_the_chart(page, live_server, demo):
    credits_adjust(user_id=demo.pk, amount=150, reason="room to spend")
    sign_in(page, live_server, *DEMO)
    expect(page.get_by_test_id("usage-total")).to_have_text("0")
    before = shown_balance(page)
    assert daily_chart_total(page) == 0

    token = str(RefreshToken.for_user(demo).access_token)
    headers = {"Authorization": f"Bearer {token}"}
    charged = [
        int(httpx.get(f"{live_server.url}/api/v1/profile/{name}", headers=headers).headers["X-Credits-Charged"])
        for name in ("alice.travels", "bob_fitness", "chef.carla")  # two free unlocks a month, then 25
    ]
    assert charged == [0, 0, 25]

    page.get_by_role("button", name="Refresh").click()
    expect(page.get_by_test_id("current-balance")).to_contain_text(str(before - 25))
    assert shown_balance(page) == api_balance(demo) == before - 25
    expect(page.get_by_test_id("usage-total")).to_have_text("25")
    expect(page.get_by_test_id("usage-summary")).to_contain_text("25 credits spent on 3 actions")
    assert daily_chart_total(page) == 25


def test_history_filters_and_the_csv_holds_the_same_rows(page, live_server, demo, tmp_path):
    credits_adjust(user_id=demo.pk, amount=50, reason="to 100")
    known_month(demo)  # 2 spends, 3 free uses, a top-up
    sign_in(page, live_server, *DEMO)
    everything = client_for(demo).get("/api/v1/api/credits/transactions").json()["count"]
    assert everything == 8  # + the first grant and the adjustment
    expect(page.get_by_test_id("history-count")).to_contain_text("8 transactions")

    page.get_by_label("Type").select_option("spend")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("history-count")).to_contain_text("2 transactions")
    api_count = client_for(demo).get("/api/v1/api/credits/transactions", {"transaction_type": "spend"}).json()["count"]
    assert api_count == 2

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    path = tmp_path / "export.csv"
    download.value.save_as(path)
    assert re.fullmatch(r"credits-transactions-\d{4}-\d{2}-\d{2}\.csv", download.value.suggested_filename)
    rows = list(csv.DictReader(path.open()))
    assert [r["transaction_type"] for r in rows] == ["spend", "spend"]
    assert sorted(int(r["amount"]) for r in rows) == [20, 25]

    page.get_by_label("Search").fill("dev_dan")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("history-count")).to_contain_text("1 transaction ·")
    expect(page.get_by_test_id("history-table")).to_contain_text("dev_dan")


def test_a_402_is_explained_and_buying_says_payments_are_not_set_up(page, live_server, make_user):
    user = make_user(balance=5)
    sign_in(page, live_server, user.username, "pass-word-123")
    expect(page.locator("[data-action=ai_insights] [data-testid=cost-now]")).to_contain_text("Need 15 more credits")

    page.get_by_label("Instagram username").fill("dev_dan")
    page.get_by_label("Action to run").select_option("ai_insights")
    page.get_by_role("button", name="Run").click()
    outcome = page.get_by_test_id("action-outcome")
    expect(outcome).to_contain_text("it costs 20 and you have 5. Buy 15 more credits")
    expect(page.get_by_test_id("banner")).to_contain_text("Not enough credits")
    assert api_balance(user) == 5  # nothing charged

    page.get_by_role("button", name="Buy with card").click()
    expect(page.get_by_test_id("buy-message")).to_contain_text("payments are not set up on this server")


def test_an_expired_token_is_refreshed_and_a_dead_session_asks_to_sign_in(page, live_server, demo):
    sign_in(page, live_server, *DEMO)
    page.evaluate("sessionStorage.setItem('credits.access', 'not-a-token')")
    page.reload()
    expect(page.get_by_test_id("current-balance")).to_contain_text(str(api_balance(demo)))
    assert page.evaluate("sessionStorage.getItem('credits.access')") != "not-a-token"

    page.evaluate("sessionStorage.setItem('credits.access', 'x'); sessionStorage.setItem('credits.refresh', 'y')")
    page.reload()
    expect(page.get_by_test_id("banner")).to_contain_text("session has expired")
    expect(page.get_by_label("Username")).to_be_visible()


def test_sign_out_forgets_the_tokens(page, live_server, demo):
    sign_in(page, live_server, *DEMO)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_visible()
    page.wait_for_function("sessionStorage.length === 0", timeout=5000)


@pytest.mark.parametrize("width", [375, 1400])
def test_reads_well_at_phone_and_desktop_widths(browser, live_server, demo, width):
    credits_adjust(user_id=demo.pk, amount=50, reason="to 100")
    known_month(demo)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_server, *DEMO)
        expect(page.get_by_test_id("usage-total")).to_have_text("45")
        expect(page.get_by_test_id("history-table")).to_be_visible()
        page.wait_for_timeout(400)  # let the charts finish their entry animation
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing runs off the side
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"credits-page-{width}.png"), full_page=True)
    finally:
        context.close()


def test_panels_light_up_when_the_grant_alert_and_recharge_endpoints_exist(page, live_server, demo):
    """Those endpoints belong to other parts of the system; here the browser answers for them with
    the shapes of the contract (SPEC: Grants, Notifications, Auto-recharge), the rest is the real API."""
    import json

    sent = {}

    def answer(body, status=200):
        return lambda route: route.fulfill(status=status, content_type="application/json", body=json.dumps(body))

    def alerts(route):
        if route.request.method == "PATCH":
            sent["alerts"] = route.request.post_data_json
            return answer(route.request.post_data_json)(route)
        return answer({"low_balance_threshold": 20})(route)

    page.route("**/api/credits/grants*", answer({"count": 2, "next": None, "previous": None, "results": [
        {"id": 1, "source": "promo", "amount": 30, "remaining": 12, "priority": 0,
         "expires_at": "2026-12-01T00:00:00Z", "created_at": "2026-11-01T00:00:00Z", "reason": "launch week"},
        {"id": 2, "source": "monthly", "amount": 50, "remaining": 50, "priority": 10,
         "expires_at": None, "created_at": "2026-11-01T00:00:00Z", "reason": ""},
    ]}))
    page.route("**/api/credits/alerts", alerts)
    page.route("**/api/credits/notifications", answer({"count": 1, "unread_count": 1, "next": None, "previous": None, "results": [
        {"id": 9, "event": "balance.low", "title": "Your balance is below 20 credits", "created_at": "2026-11-20T10:00:00Z", "read_at": None},
    ]}))
    page.route("**/api/credits/auto-recharge", answer({"enabled": True, "threshold": 15, "credits": 300, "monthly_limit": 900}))

    def balance_with_grant_fields(route):
        real = route.fetch()
        body = {**real.json(), "bonus_balance": 12, "expiring_soon": {"credits": 12, "expires_at": "2026-12-01T00:00:00Z"}}
        route.fulfill(response=real, json=body)

    page.route("**/api/credits/balance", balance_with_grant_fields)

    sign_in(page, live_server, *DEMO)
    expect(page.get_by_text("launch week")).to_be_visible()
    expect(page.get_by_text("12 credits expire on 1 Dec 2026")).to_be_visible()
    expect(page.get_by_text("Bonus", exact=True)).to_be_visible()
    expect(page.get_by_text("Your balance is below 20 credits")).to_be_visible()
    expect(page.get_by_text("(1 unread)")).to_be_visible()
    expect(page.get_by_label("When below")).to_have_value("15")
    expect(page.get_by_label("At most a month")).to_have_value("900")

    threshold = page.get_by_label("Tell me when my balance falls below")
    threshold.fill("35")
    threshold.press("Enter")
    expect(page.get_by_text("below 35 credits")).to_be_visible()
    assert sent["alerts"] == {"low_balance_threshold": 35}


def test_every_control_is_reachable_with_the_tab_key(page, live_server, demo):
    sign_in(page, live_server, *DEMO)
    expect(page.get_by_test_id("history-table")).to_be_visible()
    # Every panel loaded (each asks the API on its own): the walk counts the controls of all of them.
    expect(page.get_by_role("button", name="Run")).to_be_visible()
    expect(page.get_by_role("button", name="Create team")).to_be_visible()
    page.get_by_role("button", name="Refresh").focus()
    reached = []
    for _ in range(45):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(
            """() => {
              let el = document.activeElement;
              while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
              return (el.getAttribute('name') || el.textContent || '').trim();
            }"""
        ))
    for control in ("Sign out", "q", "transaction_type", "Download CSV", "username", "Run", "Buy with card"):
        assert control in reached, (control, reached)
