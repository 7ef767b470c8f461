"""The staff overview's charts, drawn by a real browser from the ledger."""

import pytest
from playwright.sync_api import expect

from testing.sequences import known_month

from .browser import SCREENSHOTS

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_overview_draws_spend_by_action_and_credits_added_by_source(page, live_server, make_user):
    known_month(make_user(balance=100))
    staff = make_user(is_staff=True, is_superuser=True)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/credits-overview/")
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill("pass-word-123")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("overview-total")).to_have_text("45")
    page.wait_for_function("window.creditsOverviewCharts !== undefined")
    drawn = page.evaluate(
        """() => Object.fromEntries(Object.entries(window.creditsOverviewCharts).map(([name, chart]) => [
             name,
             Object.fromEntries(chart.data.datasets.map((d) => [d.label, d.data.reduce((a, b) => a + b, 0)])),
           ]))"""
    )
    assert drawn["spent"] == {"ai insights": 20, "detailed analytics": 0, "influencer unlock": 25}
    assert drawn["added"]["top up"] == 40 and drawn["added"]["adjustment"] == 50
    # Painted, not just configured: the canvas has non-blank pixels.
    painted = page.evaluate(
        """() => {
          const canvas = document.getElementById('spent-chart');
          const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          return pixels.some((value, i) => i % 4 === 3 && value > 0);
        }"""
    )
    assert painted
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin-overview-1400.png"), full_page=True)
