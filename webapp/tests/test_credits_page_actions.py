"""The customer page after an action, in headless Chromium against a live server: what was bought
is shown, the panels (balance, history, notifications) follow without signing in again, the 402
banner goes on the next success; and the small things a new user trips on (plurals, both chart
series, aligned filters, one sign-in message, a favicon, a non-JSON error page)."""

import threading

import httpx
import pytest
from django.db import connection
from playwright.sync_api import expect

from notifications import tasks as notification_tasks
from notifications.models import Notification
from testing.clients import client_for
from wallets.services import credits_adjust

from .browser import SCREENSHOTS
from .test_credits_page import DEMO, api_balance, demo, shown_balance, sign_in  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def run_action(page, username: str, action: str):
    page.get_by_label("Instagram username").fill(username)
    page.get_by_label("Action to run").select_option(action)
    page.get_by_role("button", name="Run").click()


def app_component(page, name: str) -> str:
    return f"document.querySelector('credits-app').shadowRoot.querySelector('{name}')"


def test_the_action_form_shows_what_was_bought(page, live_server, demo):
    credits_adjust(user_id=demo.pk, amount=200, reason="room to spend")
    sign_in(page, live_server, *DEMO)
    api = client_for(demo)

    # Each answer is waited for before the test reads the same resource (then free) from the API.
    run_action(page, "dev_dan", "influencer_unlock")
    bought = page.get_by_test_id("bought-profile")
    expect(bought).to_be_visible()
    profile = api.get("/api/v1/profile/dev_dan").json()  # already paid: free to read again
    expect(bought).to_contain_text("@dev_dan")
    expect(bought).to_contain_text(f"{profile['followers_count']:,}")
    expect(bought).to_contain_text(profile["full_name"])

    run_action(page, "dev_dan", "detailed_analytics")
    expect(page.get_by_test_id("bought-analytics")).to_be_visible()
    analytics = api.get("/api/v1/profile/dev_dan/analytics").json()
    expect(page.get_by_test_id("bought-analytics")).to_contain_text(f"#{analytics['top_hashtags'][0]['hashtag']}")
    expect(page.get_by_test_id("bought-analytics")).to_contain_text("Engagement")

    run_action(page, "dev_dan", "ai_insights")
    expect(page.get_by_test_id("action-outcome")).to_contain_text("20 credits charged")
    insights = api.get("/api/v1/profile/dev_dan/ai-insights").json()
    expect(page.get_by_test_id("bought-insights")).to_contain_text(insights["summary"])
    expect(page.get_by_test_id("bought-insights")).to_contain_text(insights["strengths"][0]["title"])

    run_action(page, "dev_dan", "profile_posts")
    expect(page.get_by_test_id("bought-posts")).to_be_visible()
    posts = api.get("/api/v1/profile/dev_dan/posts").json()
    expect(page.get_by_test_id("bought-posts")).to_contain_text(f"{posts['count']} posts")
    expect(page.get_by_test_id("bought-posts").locator("li")).to_have_count(min(5, len(posts["results"])))

    page.wait_for_timeout(400)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    SCREENSHOTS.mkdir(exist_ok=True)
    page.get_by_test_id("bought-posts").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "credits-page-bought-1400.png"), full_page=True)


@pytest.fixture
def worker_a_moment_later(monkeypatch):
    """Events dispatched 1.5 s after the commit, in another thread, as a Celery worker would: the
    page cannot have the notification from the reload it does right after the action."""

    def later(event_ids):
        def run():
            try:
                notification_tasks.dispatch_events.run(event_ids)
            finally:
                connection.close()

        threading.Timer(1.5, run).start()

    monkeypatch.setattr(notification_tasks.dispatch_events, "delay", later)


def test_notifications_balance_and_history_follow_an_action_without_signing_in_again(
    page, live_server, make_user, worker_a_moment_later
):
    user = make_user(balance=30)  # the threshold is 20: a 20-credit action leaves 10
    sign_in(page, live_server, user.username, "pass-word-123")
    expect(page.get_by_text("Nothing yet.")).to_be_visible()
    expect(page.get_by_test_id("history-count")).to_contain_text("2 transactions")

    run_action(page, "dev_dan", "ai_insights")
    expect(page.get_by_test_id("action-outcome")).to_contain_text("20 credits charged")
    expect(page.get_by_test_id("current-balance")).to_contain_text("10")
    expect(page.get_by_test_id("history-count")).to_contain_text("3 transactions")
    low = page.get_by_test_id("notification").filter(has_text="Your credit balance is low")
    expect(low).to_be_visible(timeout=12_000)  # the worker wrote it after the page's first reload
    expect(page.get_by_test_id("unread-count")).to_contain_text("1 unread")
    assert Notification.objects.filter(user=user, event_type="balance.low").count() == 1
    assert shown_balance(page) == api_balance(user) == 10


def test_the_402_banner_clears_on_the_next_success(page, live_server, make_user):
    user = make_user(balance=5)
    sign_in(page, live_server, user.username, "pass-word-123")
    run_action(page, "dev_dan", "ai_insights")
    expect(page.get_by_test_id("banner")).to_contain_text("Not enough credits")

    credits_adjust(user_id=user.pk, amount=100, reason="bought some")
    run_action(page, "dev_dan", "ai_insights")
    expect(page.get_by_test_id("action-outcome")).to_contain_text("20 credits charged")
    expect(page.get_by_test_id("banner")).to_have_count(0)


def test_one_transaction_one_action_one_credit(page, live_server, make_user):
    user = make_user()
    sign_in(page, live_server, user.username, "pass-word-123")
    run_action(page, "alice.travels", "influencer_unlock")  # a free unit: one action, no credit
    expect(page.get_by_test_id("action-outcome")).to_contain_text("no charge")
    expect(page.get_by_test_id("usage-summary")).to_contain_text("0 credits spent on 1 action in")
    expect(page.get_by_test_id("history-count")).to_contain_text("2 transactions")
    page.get_by_label("Type").select_option("monthly_grant")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("history-count")).to_contain_text("1 transaction ·")


def test_both_daily_series_are_drawn_and_uses_have_their_own_axis(page, live_server, demo):
    credits_adjust(user_id=demo.pk, amount=100, reason="room to spend")
    sign_in(page, live_server, *DEMO)
    run_action(page, "dev_dan", "ai_insights")
    expect(page.get_by_test_id("usage-total")).to_have_text("20")
    page.wait_for_function(f"{app_component(page, 'credits-usage-chart')}.actionChart !== undefined")
    charts = page.evaluate(
        f"""() => {{
          const usage = {app_component(page, 'credits-usage-chart')};
          const describe = (chart) => ({{
            series: chart.data.datasets.map((d, i) => ({{label: d.label, visible: chart.isDatasetVisible(i),
                                                          axis: d.yAxisID || d.xAxisID, total: d.data.reduce((a, b) => a + b, 0)}})),
            axes: Object.keys(chart.scales),
          }});
          return {{daily: describe(usage.dailyChart), actions: describe(usage.actionChart)}};
        }}"""
    )
    assert charts["daily"]["series"] == [
        {"label": "Credits", "visible": True, "axis": "y", "total": 20},
        {"label": "Actions", "visible": True, "axis": "actions", "total": 1},
    ]
    assert {"y", "actions"} <= set(charts["daily"]["axes"])
    assert [s["axis"] for s in charts["actions"]["series"]] == ["x", "uses"]
    assert {"x", "uses"} <= set(charts["actions"]["axes"])


def test_history_filters_line_up(page, live_server, demo):
    sign_in(page, live_server, *DEMO)
    boxes = page.evaluate(
        f"""() => [...{app_component(page, 'credits-history')}.shadowRoot.querySelectorAll('form.filters :is(input, select)')]
               .map((c) => {{ const r = c.getBoundingClientRect(); return {{name: c.name, top: r.top, height: r.height}}; }})"""
    )
    assert [b["name"] for b in boxes] == ["q", "transaction_type", "action_type", "from", "to"]
    assert len({round(b["height"]) for b in boxes}) == 1, boxes  # every control the same height
    first_row = [b for b in boxes if abs(b["top"] - boxes[0]["top"]) < 1]
    assert len(first_row) >= 4, boxes  # at 1400 px the fields share one line, tops aligned


def test_sign_in_shows_one_message_at_a_time_and_the_page_has_a_favicon(page, live_server, demo):
    sign_in(page, live_server, *DEMO)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_test_id("banner")).to_contain_text("You are signed out.")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong username or password.")).to_be_visible()
    expect(page.get_by_test_id("banner")).to_have_count(0)
    assert page.locator("[role=alert]").count() == 1

    icon = page.locator("link[rel=icon]").get_attribute("href")
    answer = httpx.get(f"{live_server.url}{icon}", timeout=10)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/svg")


def test_an_error_page_that_is_not_json_is_never_shown_as_the_message(page, live_server, demo):
    sign_in(page, live_server, *DEMO)
    # A proxy in front of the API answering with its own HTML page.
    page.route("**/api/v1/profile/**", lambda route: route.fulfill(
        status=502, content_type="text/html", body="<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"))
    run_action(page, "dev_dan", "ai_insights")
    outcome = page.get_by_test_id("action-outcome")
    expect(outcome).to_contain_text("The server answered 502")
    assert "<" not in outcome.inner_text() and "nginx" not in outcome.inner_text()
