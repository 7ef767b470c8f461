"""Teams (README, "Teams"): the API, who may do what, attribution of every row, caps, joining and
leaving, and alerts going to the owner. The concurrency of caps is in instagram/tests/test_team_concurrency.py."""

import csv
import io

import pytest

from common.periods import period_of
from testing.clients import client_for
from testing.teams import make_team
from transactions.models import LedgerEntry
from wallets.models import Membership, MemberUsage, Team, Wallet
from wallets.services import credits_adjust
from wallets.verification import ledger_problems

from instagram.tests.gate_fixtures import provider  # noqa: F401 - the scripted provider

pytestmark = pytest.mark.django_db

TEAM = {"olga": ("owner", None), "adam": ("admin", 100), "mia": ("member", 30), "max": ("member", None)}


@pytest.fixture
def team(make_user):
    return make_team(make_user, balance=500, members=TEAM)


@pytest.fixture
def people(team):
    return {m.user.username: m.user for m in team.memberships.select_related("user")}


def spend(user, profile: str) -> int:
    response = client_for(user).get(f"/api/v1/profile/{profile}/posts")
    assert response.status_code == 200, response.json()
    return int(response["X-Credits-Charged"])


# --- the team API -------------------------------------------------------------------------------


def test_a_user_creates_a_team_and_becomes_its_owner_with_a_wallet_of_its_own(make_user):
    user = make_user(balance=40)
    api = client_for(user)
    assert api.get("/api/v1/api/credits/team").json()["code"] == "not_in_team"
    response = api.post("/api/v1/api/credits/team", {"name": "Studio North"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["role"]) == ("Studio North", "owner")
    assert [m["username"] for m in body["members"]] == [user.username]
    team_wallet = Wallet.objects.get(pk=body["id"])
    assert team_wallet.user_id is None and team_wallet.pk < 0  # a key of its own, never a user's id
    assert team_wallet.current_balance > 0  # the default package's first month, as any new wallet
    # The seed's endpoints now describe the team's wallet; the personal one is untouched.
    assert api.get("/api/v1/api/credits/balance").json()["current_balance"] == team_wallet.current_balance
    assert Wallet.objects.get(pk=user.pk).current_balance == 40
    again = api.post("/api/v1/api/credits/team", {"name": "Second"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "already_in_team")
    assert Team.objects.count() == 1


def test_owners_add_members_with_caps_and_change_them(team, people, make_user):
    make_user(username="newbie")
    owner = client_for(people["olga"])
    added = owner.post("/api/v1/api/credits/team/members", {"username": "newbie", "monthly_cap": 25}, format="json")
    assert added.status_code == 201, added.json()
    assert {"username": "newbie", "role": "member", "monthly_cap": 25}.items() <= \
        next(m for m in added.json()["members"] if m["username"] == "newbie").items()
    changed = owner.patch("/api/v1/api/credits/team/members/newbie", {"monthly_cap": None, "role": "admin"}, format="json")
    assert changed.status_code == 200
    assert (Membership.objects.get(user__username="newbie").monthly_cap,
            Membership.objects.get(user__username="newbie").role) == (None, "admin")
    for body, code in [({"username": "ghost"}, "user_not_found"), ({"username": "mia"}, "already_in_team")]:
        response = owner.post("/api/v1/api/credits/team/members", body, format="json")
        assert response.json()["code"] == code
    bad = owner.post("/api/v1/api/credits/team/members", {"username": "newbie", "monthly_cap": -1, "extra": 1}, format="json")
    assert bad.status_code == 400


def test_ownership_is_handed_over_not_taken(team, people):
    owner = client_for(people["olga"])
    response = owner.patch("/api/v1/api/credits/team/members/adam", {"role": "owner"}, format="json")
    assert response.status_code == 200
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert (roles["adam"], roles["olga"]) == ("owner", "admin")


# --- who may do what ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "status", "code"),
    [
        ("mia", "patch", "/api/v1/api/credits/team/members/max", {"monthly_cap": 1}, 403, "team_role_required"),
        ("mia", "patch", "/api/v1/api/credits/team/members/mia", {"monthly_cap": 1000}, 403, "team_role_required"),
        ("mia", "post", "/api/v1/api/credits/team/members", {"username": "zed"}, 403, "team_role_required"),
        ("mia", "delete", "/api/v1/api/credits/team/members/max", None, 403, "team_role_required"),
        ("adam", "delete", "/api/v1/api/credits/team/members/olga", None, 409, "owner_must_stay"),
        ("adam", "patch", "/api/v1/api/credits/team/members/olga", {"monthly_cap": 1}, 403, "team_role_required"),
        ("adam", "patch", "/api/v1/api/credits/team/members/mia", {"role": "admin"}, 403, "team_role_required"),
        ("olga", "delete", "/api/v1/api/credits/team/members/olga", None, 409, "owner_must_stay"),
        ("zed", "get", "/api/v1/api/credits/team", None, 404, "not_in_team"),
        ("zed", "patch", "/api/v1/api/credits/team/members/mia", {"monthly_cap": 1}, 404, "not_in_team"),
        ("zed", "delete", "/api/v1/api/credits/team/members/mia", None, 404, "not_in_team"),
        ("olga", "delete", "/api/v1/api/credits/team/members/zed", None, 404, "member_not_found"),
        ("mia", "get", "/api/v1/api/credits/transactions?member=max", None, 403, "team_role_required"),
        ("mia", "get", "/api/v1/api/credits/usage/monthly?member=max", None, 403, "team_role_required"),
        ("mia", "get", "/api/v1/api/credits/transactions/export.csv?member=max", None, 403, "team_role_required"),
        ("adam", "get", "/api/v1/api/credits/transactions?member=zed", None, 404, "member_not_found"),
        ("zed", "get", "/api/v1/api/credits/transactions?member=mia", None, 404, "not_in_team"),
        ("mia", "post", "/api/v1/api/credits/top-up/checkout", {"credits": 100}, 403, "team_role_required"),
        ("mia", "put", "/api/v1/api/credits/auto-recharge", {"enabled": False}, 403, "team_role_required"),
        ("mia", "post", "/api/v1/api/credits/subscription/cancel", None, 403, "team_role_required"),
        ("mia", "patch", "/api/v1/api/credits/alerts", {"low_balance_threshold": 5}, 403, "team_role_required"),
    ],
)
def test_the_authorization_matrix(team, people, make_user, who, method, path, body, status, code):
    people["zed"] = make_user(username="zed")
    before = (list(Membership.objects.order_by("user_id").values()), Wallet.objects.get(pk=team.pk).low_balance_threshold)
    response = getattr(client_for(people[who]), method)(path, body, format="json")
    assert (response.status_code, response.json()["code"]) == (status, code)
    after = (list(Membership.objects.order_by("user_id").values()), Wallet.objects.get(pk=team.pk).low_balance_threshold)
    assert after == before  # a refusal changes nothing


def test_members_see_only_their_own_cap_and_spend(team, people, provider):
    spend(people["max"], "p1")
    body = client_for(people["mia"]).get("/api/v1/api/credits/team").json()
    rows = {m["username"]: m for m in body["members"]}
    assert rows["mia"]["monthly_cap"] == 30 and rows["mia"]["spent_this_month"] == 0
    assert rows["max"]["spent_this_month"] is None and rows["adam"]["monthly_cap"] is None
    as_admin = {m["username"]: m for m in client_for(people["adam"]).get("/api/v1/api/credits/team").json()["members"]}
    assert as_admin["max"]["spent_this_month"] == 10 and as_admin["mia"]["monthly_cap"] == 30


def test_an_outsider_sees_nothing_of_the_team(team, people, make_user, provider):
    spend(people["mia"], "p1")
    zed = make_user(username="zed", balance=7)
    outsider = client_for(zed)
    assert outsider.get("/api/v1/api/credits/balance").json()["current_balance"] == 7
    rows = outsider.get("/api/v1/api/credits/transactions").json()["results"]
    assert len(rows) == LedgerEntry.objects.filter(wallet_id=zed.pk).count() == 2  # their grant and adjustment
    assert not [r for r in rows if r["transaction_type"] == "spend"]
    assert outsider.get("/api/v1/api/credits/team").status_code == 404


# --- attribution --------------------------------------------------------------------------------


def test_every_row_a_member_causes_names_them_and_member_narrows_every_history(team, people, provider):
    spend(people["mia"], "a1")
    spend(people["mia"], "a2")
    spend(people["max"], "b1")
    wallet = Wallet.objects.get(pk=team.pk)
    rows = LedgerEntry.objects.filter(wallet=wallet)
    assert sorted(rows.filter(transaction_type="spend").values_list("member__username", flat=True)) == ["max", "mia", "mia"]
    assert not rows.exclude(transaction_type__in=["spend", "free_use"]).filter(member__isnull=False).exists()

    admin = client_for(people["adam"])
    listed = admin.get("/api/v1/api/credits/transactions").json()
    assert listed["count"] == rows.count()  # owners and admins: everyone's rows, grants included
    assert {r["member"] for r in listed["results"]} == {"mia", "max", None}
    only_mia = admin.get("/api/v1/api/credits/transactions?member=mia").json()
    assert [(r["member"], r["amount"]) for r in only_mia["results"]] == [("mia", 10), ("mia", 10)]
    assert admin.get("/api/v1/api/credits/transactions/search?q=posts&member=max").json()["count"] == 1
    usage = admin.get("/api/v1/api/credits/usage/monthly?member=mia").json()
    assert (usage["total_credits_spent"], usage["total_actions"]) == (20, 2)
    assert admin.get("/api/v1/api/credits/usage/monthly").json()["total_credits_spent"] == 30
    csv_rows = list(csv.DictReader(io.StringIO(
        b"".join(admin.get("/api/v1/api/credits/transactions/export.csv?member=max").streaming_content).decode()
    )))
    assert [(r["member"], r["amount"]) for r in csv_rows] == [("max", "10")]

    # A member's histories are their own rows, asked for or not.
    mine = client_for(people["mia"]).get("/api/v1/api/credits/transactions").json()
    assert mine["count"] == 2 and {r["member"] for r in mine["results"]} == {"mia"}
    assert client_for(people["mia"]).get("/api/v1/api/credits/transactions?member=mia").json()["count"] == 2
    dashboard = client_for(people["olga"]).get("/api/v1/api/credits/dashboard").json()
    assert {m["username"]: m["spent_this_month"] for m in dashboard["team_spend"]} == {"olga": 0, "adam": 0, "mia": 20, "max": 10}
    assert "team_spend" not in client_for(people["mia"]).get("/api/v1/api/credits/dashboard").json()
    assert ledger_problems() == []


def test_a_personal_wallets_rows_keep_the_seeds_shape(make_user, provider):
    user = make_user(balance=50)
    spend(user, "solo")
    row = client_for(user).get("/api/v1/api/credits/transactions").json()["results"][0]
    assert "member" not in row
    header = b"".join(client_for(user).get("/api/v1/api/credits/transactions/export.csv").streaming_content).decode().splitlines()[0]
    assert "member" not in header


# --- caps ---------------------------------------------------------------------------------------


def test_past_the_cap_a_member_gets_402_member_cap_reached_with_the_headers(team, people, provider):
    assert spend(people["mia"], "c1") == 10
    assert spend(people["mia"], "c2") == 10
    assert spend(people["mia"], "c3") == 10
    response = client_for(people["mia"]).get("/api/v1/profile/c4/posts")
    assert (response.status_code, response.json()["code"]) == (402, "member_cap_reached")
    assert (response["X-Credits-Required"], response["X-Credits-Available"], response["X-Credits-Needed"]) == ("10", "0", "10")
    assert response["X-Credits-Balance"] == "470"
    assert spend(people["max"], "c4") == 10  # no cap: the wallet's balance is the limit
    usage = MemberUsage.objects.get(wallet_id=team.pk, member=people["mia"], period=period_of())
    assert (usage.spent, usage.held) == (30, 0)
    # Raising the cap lets her go on at once; a repeat inside the access window costs nothing.
    client_for(people["olga"]).patch("/api/v1/api/credits/team/members/mia", {"monthly_cap": 40}, format="json")
    assert spend(people["mia"], "c5") == 10
    assert spend(people["mia"], "c5") == 0


# --- joining and leaving ------------------------------------------------------------------------


def test_joining_and_leaving_move_no_credits(team, people, make_user, provider):
    joiner = make_user(username="jo", balance=60)
    client_for(people["olga"]).post("/api/v1/api/credits/team/members", {"username": "jo"}, format="json")
    spend(joiner, "j1")
    assert Wallet.objects.get(pk=joiner.pk).current_balance == 60  # dormant while in the team
    assert Wallet.objects.get(pk=team.pk).current_balance == 490
    assert client_for(joiner).get("/api/v1/api/credits/balance").json()["current_balance"] == 490
    left = client_for(joiner).delete("/api/v1/api/credits/team/members/jo")
    assert left.status_code == 204
    assert client_for(joiner).get("/api/v1/api/credits/balance").json()["current_balance"] == 60
    assert spend(joiner, "j2") == 10
    assert Wallet.objects.get(pk=joiner.pk).current_balance == 50
    assert Wallet.objects.get(pk=team.pk).current_balance == 490
    # Their rows stay in the team's history, still naming them.
    assert LedgerEntry.objects.filter(wallet_id=team.pk, member=joiner).count() == 1
    assert ledger_problems() == []


# --- alerts -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_team_wallets_alert_reaches_its_owner(make_user, provider):
    from notifications.models import Notification

    team = make_team(make_user, balance=120, members={"ola": ("owner", None), "moe": ("member", None)})
    owner, member = (m.user for m in team.memberships.select_related("user").order_by("created_at"))
    patched = client_for(owner).patch("/api/v1/api/credits/alerts", {"low_balance_threshold": 100}, format="json")
    assert patched.status_code == 200
    for profile in ("l1", "l2", "l3"):
        spend(member, profile)
    assert Notification.objects.filter(user=owner, event_type="balance.low").count() == 1
    assert not Notification.objects.filter(user=member).exists()


def test_can_perform_tells_a_member_at_their_cap(team, people, provider):
    api = client_for(people["mia"])
    assert api.get("/api/v1/api/credits/can-perform/profile_posts").json()["can_perform"] is True
    for profile in ("k1", "k2", "k3"):
        spend(people["mia"], profile)
    decision = api.get("/api/v1/api/credits/can-perform/profile_posts").json()
    assert (decision["can_perform"], decision["reason"], decision["credits_needed"]) == (False, "member_cap_reached", 10)
    assert client_for(people["max"]).get("/api/v1/api/credits/can-perform/profile_posts").json()["can_perform"] is True
