"""The team panel of /app/ in headless Chromium against a live server and real PostgreSQL: an owner
sees every member's cap and spend, adds a member, changes a cap, removes a member and hands the team
over; a plain member sees only their own numbers, no controls, and leaves; a user without a team
creates one."""

from contextlib import suppress

import httpx
import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Error as PlaywrightError, expect
from rest_framework_simplejwt.tokens import RefreshToken

from wallets.models import Membership, Team
from wallets.services import credits_adjust, member_add, team_create

from .browser import SCREENSHOTS
from .test_credits_page import sign_in

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "pass-word-123"  # every factory user's


@pytest.fixture
def team(make_user):
    """Acme: olga owns it, adam is an admin (cap 100), mia a member (cap 50); 500 credits in its wallet."""
    owner = make_user(username="olga")
    make_user(username="adam")
    make_user(username="mia")
    team = team_create(user=owner, name="Acme")
    member_add(actor=owner, username="adam", role="admin", monthly_cap=100)
    member_add(actor=owner, username="mia", role="member", monthly_cap=50)
    credits_adjust(user_id=team.pk, amount=500, reason="room to spend")
    return team


@pytest.fixture(autouse=True)
def settled(page):
    """After each test, let the page's last reloads finish, then close it: joining, leaving and handing
    over reload every panel (and the alerts panel looks again later), and a request still running
    when the test's database is flushed can deadlock with the flush."""
    yield
    with suppress(PlaywrightError):  # cleanup only: a failed test has said what went wrong already
        page.wait_for_function(BUSY_NONE, timeout=5000)
    page.close()


BUSY_NONE = """() => {
  const busy = (root) => [...root.querySelectorAll('*')].some(
    (el) => el.getAttribute('aria-busy') === 'true' || (el.shadowRoot && busy(el.shadowRoot)));
  return !busy(document);
}"""


def spend_as(live_server, username: str, profiles: list[str]) -> int:
    """Recent posts of each profile (10 credits each) through the gated API, as `username`."""
    user = get_user_model().objects.get(username=username)
    headers = {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}
    charged = 0
    for name in profiles:
        response = httpx.get(f"{live_server.url}/api/v1/profile/{name}/posts", headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        charged += int(response.headers["X-Credits-Charged"])
    return charged


def panel(page):
    return page.locator("credits-team")


def row(page, username: str):
    return panel(page).locator(f'tr[data-member="{username}"]')


def cell(page, username: str, column: str):
    return row(page, username).get_by_test_id(f"member-{column}")


def membership(username: str):
    return Membership.objects.filter(user__username=username).first()


def screenshots(page, name: str):
    """The panel at a desktop's width and a phone's; nothing on the page runs off the side."""
    for width in (1400, 375):
        page.set_viewport_size({"width": width, "height": 1000})
        # (The charts above take a moment to follow the new width.)
        page.wait_for_function(f"document.documentElement.scrollWidth <= {width}", timeout=5000)
        panel(page).screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})


def test_the_owner_sees_everyone_adds_changes_and_removes_members(page, live_server, make_user, team):
    assert spend_as(live_server, "mia", ["alice.travels", "bob_fitness"]) == 20
    make_user(username="newbie")
    sign_in(page, live_server, "olga", PASSWORD)
    t = panel(page)
    expect(t.get_by_test_id("team-name")).to_have_text("Acme")
    expect(t.get_by_test_id("team-role")).to_have_text("Owner")
    expect(row(page, "olga")).to_contain_text("You")
    expect(cell(page, "olga", "cap")).to_have_text("No cap")
    expect(cell(page, "adam", "cap")).to_have_text("100")
    expect(cell(page, "mia", "role")).to_have_text("Member")
    expect(cell(page, "mia", "cap")).to_have_text("50")
    expect(cell(page, "mia", "spent")).to_have_text("20")
    expect(cell(page, "mia", "held")).to_have_text("0")
    expect(cell(page, "adam", "spent")).to_have_text("0")
    expect(t.get_by_role("button", name="Leave team")).to_have_count(0)  # the owner hands over first
    expect(row(page, "olga").get_by_role("button", name="Remove")).to_have_count(0)
    screenshots(page, "team-owner")

    # The server's refusal, shown where it was asked.
    t.get_by_label("Username").fill("ghost")
    t.get_by_role("button", name="Add member").click()
    expect(t.get_by_test_id("team-message")).to_have_text("No user with this username.")
    expect(t.get_by_role("alert")).to_have_text("No user with this username.")

    t.get_by_label("Username").fill("newbie")
    t.get_by_label("Role").select_option("admin")
    t.get_by_label("Monthly cap").fill("30")
    t.get_by_role("button", name="Add member").click()
    expect(t.get_by_test_id("team-message")).to_have_text("newbie joined the team with a cap of 30 credits a month.")
    expect(cell(page, "newbie", "role")).to_have_text("Admin")
    expect(cell(page, "newbie", "cap")).to_have_text("30")
    expect(cell(page, "newbie", "spent")).to_have_text("0")
    added = membership("newbie")
    assert (added.team_id, added.role, added.monthly_cap) == (team.pk, "admin", 30)
    expect(t.get_by_label("Username")).to_have_value("")  # the form is ready for the next one

    row(page, "mia").get_by_role("button", name="Edit mia").click()
    cap = t.get_by_label("Monthly cap of mia")
    expect(cap).to_be_focused()
    expect(cap).to_have_value("50")
    screenshots(page, "team-owner-editing")
    cap.fill("80")
    cap.press("Enter")
    expect(cell(page, "mia", "cap")).to_have_text("80")
    expect(t.get_by_test_id("team-message")).to_have_text("Saved mia: a cap of 80 credits a month.")
    assert membership("mia").monthly_cap == 80

    row(page, "adam").get_by_role("button", name="Edit adam").click()
    t.get_by_label("Monthly cap of adam").fill("")  # empty: no cap
    t.get_by_label("Role of adam").select_option("member")
    row(page, "adam").get_by_role("button", name="Save").click()
    expect(cell(page, "adam", "cap")).to_have_text("No cap")
    expect(cell(page, "adam", "role")).to_have_text("Member")
    assert (membership("adam").role, membership("adam").monthly_cap) == ("member", None)

    row(page, "newbie").get_by_role("button", name="Remove newbie").click()
    expect(row(page, "newbie")).to_contain_text("Remove newbie?")
    row(page, "newbie").get_by_role("button", name="Yes, remove").click()
    expect(row(page, "newbie")).to_have_count(0)
    expect(t.get_by_test_id("team-message")).to_have_text("newbie is no longer in the team.")
    assert membership("newbie") is None
    expect(panel(page).locator("tbody tr")).to_have_count(3)


def test_the_owner_hands_the_team_over_and_may_then_leave(page, live_server, team):
    sign_in(page, live_server, "olga", PASSWORD)
    t = panel(page)
    row(page, "olga").get_by_role("button", name="Edit olga").click()
    expect(t.get_by_label("Monthly cap of olga")).to_be_focused()
    expect(t.get_by_label("Role of olga")).to_have_count(0)  # the owner's role changes only by handing over
    page.keyboard.press("Escape")  # cancels, and the focus goes back where it was
    expect(row(page, "olga").get_by_role("button", name="Edit olga")).to_be_focused()
    expect(t.get_by_label("Monthly cap of olga")).to_have_count(0)

    row(page, "adam").get_by_role("button", name="Edit adam").click()
    t.get_by_label("Role of adam").select_option("owner")
    expect(row(page, "adam")).to_contain_text("you become an admin")
    row(page, "adam").get_by_role("button", name="Save").click()
    expect(t.get_by_test_id("team-role")).to_have_text("Admin")
    expect(cell(page, "adam", "role")).to_have_text("Owner")
    expect(t.get_by_role("button", name="Leave team")).to_be_visible()
    expect(row(page, "adam").get_by_role("button")).to_have_count(0)  # admins do not manage the owner
    assert (membership("adam").role, membership("olga").role) == ("owner", "admin")


def test_a_member_sees_only_their_own_numbers_and_leaves(page, live_server, team):
    assert spend_as(live_server, "mia", ["alice.travels", "bob_fitness", "chef.carla"]) == 30
    spend_as(live_server, "adam", ["dev_dan"])
    sign_in(page, live_server, "mia", PASSWORD)
    t = panel(page)
    expect(t.get_by_test_id("team-name")).to_have_text("Acme")
    expect(t.get_by_test_id("team-role")).to_have_text("Member")
    expect(row(page, "mia")).to_contain_text("You")
    expect(cell(page, "mia", "cap")).to_have_text("50")
    expect(cell(page, "mia", "spent")).to_have_text("30")
    expect(cell(page, "mia", "held")).to_have_text("0")
    for other in ("olga", "adam"):
        expect(cell(page, other, "role")).not_to_be_empty()
        for column in ("cap", "spent", "held"):
            expect(cell(page, other, column)).to_contain_text("—")  # not theirs to see
            expect(cell(page, other, column)).not_to_contain_text("No cap")
    expect(cell(page, "adam", "spent")).not_to_contain_text("10")
    expect(t.get_by_role("button", name="Edit")).to_have_count(0)
    expect(t.get_by_role("button", name="Remove")).to_have_count(0)
    expect(t.get_by_role("button", name="Add member")).to_have_count(0)
    expect(t.get_by_label("Username")).to_have_count(0)
    screenshots(page, "team-member")

    t.get_by_role("button", name="Leave team").click()
    expect(t.get_by_role("group", name="Leave Acme?")).to_contain_text("Leave Acme?")
    t.get_by_role("button", name="Yes, leave").click()
    expect(t.get_by_test_id("team-message")).to_have_text("You left Acme. You spend from your own wallet again.")
    expect(t.get_by_label("Team name")).to_be_visible()
    assert membership("mia") is None
    assert Membership.objects.filter(team=team).count() == 2


def test_a_user_without_a_team_creates_one(page, live_server, make_user):
    make_user(username="solo")
    sign_in(page, live_server, "solo", PASSWORD)
    t = panel(page)
    expect(t).to_contain_text("You are not in a team.")
    expect(t.get_by_role("button", name="Leave team")).to_have_count(0)
    t.get_by_label("Team name").focus()  # with the keyboard
    page.keyboard.type("Solo Studio")
    page.keyboard.press("Enter")
    expect(t.get_by_test_id("team-name")).to_have_text("Solo Studio")
    expect(t.get_by_test_id("team-role")).to_have_text("Owner")
    expect(t.get_by_test_id("team-message")).to_contain_text("You created Solo Studio.")
    expect(cell(page, "solo", "role")).to_have_text("Owner")
    expect(cell(page, "solo", "cap")).to_have_text("No cap")
    expect(t.get_by_role("button", name="Add member")).to_be_visible()
    created = membership("solo")
    assert created.role == "owner"
    assert Team.objects.get(pk=created.team_id).name == "Solo Studio"


