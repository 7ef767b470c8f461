"""Teams under real HTTP, real threads and real PostgreSQL: members' caps and the shared balance
are decided under the wallet lock, so concurrent requests overshoot neither."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.db.models import Sum
from rest_framework_simplejwt.tokens import RefreshToken

from common.periods import period_of
from testing.teams import make_team
from transactions.models import LedgerEntry
from wallets.models import Access, Hold, HoldStatus, MemberUsage, Wallet
from wallets.verification import ledger_problems

pytestmark = pytest.mark.django_db(transaction=True)

CAPS = {"ana": ("owner", 100), "ben": ("admin", 60), "cy": ("member", 80)}  # 240 of caps, 200 of balance


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


def test_three_members_twenty_requests_each_overshoot_no_cap_and_no_balance(live_server, make_user, provider):
    provider.delay = 0.05
    team = make_team(make_user, balance=200, members=CAPS)
    users = {m.user.username: m.user for m in team.memberships.select_related("user")}
    headers = {name: bearer(user) for name, user in users.items()}  # here: a token is a database row
    # 20 distinct profiles' posts (10 credits each) per member: 600 credits asked for, 240 of caps, 200 held.
    calls = [(name, f"/api/v1/profile/sleepy_{name}{i}/posts") for name in CAPS for i in range(20)]
    barrier = threading.Barrier(len(calls))

    def call(job):
        name, path = job
        with httpx.Client(base_url=live_server.url, timeout=60) as client:
            barrier.wait(timeout=60)
            response = client.get(path, headers=headers[name])
            code = response.json().get("code") if response.status_code != 200 else None
            return name, response.status_code, code, int(response.headers.get("X-Credits-Charged", 0))

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        results = list(pool.map(call, calls))

    assert {status for _, status, _, _ in results} <= {200, 402}, results
    assert {code for _, _, code, _ in results} - {None} <= {"member_cap_reached", "insufficient_credits"}
    wallet = Wallet.objects.get(pk=team.pk)
    assert wallet.current_balance == 0 and wallet.reserved == 0  # 240 of caps could not all be met by 200
    assert not Hold.objects.filter(wallet=wallet, status=HoldStatus.HELD).exists()
    spends = LedgerEntry.objects.filter(wallet=wallet, transaction_type="spend")
    assert spends.aggregate(total=Sum("amount"))["total"] == 200
    for name, (_, cap) in CAPS.items():
        member = users[name]
        charged = sum(c for who, status, _, c in results if who == name and status == 200)
        in_ledger = spends.filter(member=member).aggregate(total=Sum("amount"))["total"] or 0
        usage = MemberUsage.objects.get(wallet=wallet, member=member, period=period_of())
        assert charged == in_ledger == usage.spent <= cap, (name, charged, in_ledger, usage.spent)
        assert usage.held == 0
        refusals = Counter(code for who, _, code, _ in results if who == name and code)
        # A member stopped short of their cap only because the wallet ran dry.
        assert usage.spent == cap or refusals["insufficient_credits"] > 0, (name, usage.spent, refusals)
    assert not spends.filter(member__isnull=True).exists()  # every spend names its member
    assert ledger_problems() == []


def test_two_members_unlocking_the_same_profile_at_once_pay_once_and_both_are_served(live_server, make_user, provider):
    provider.delay = 0.3
    team = make_team(make_user, balance=200, members={"dee": ("owner", None), "eli": ("member", None)})
    users = {m.user.username: m.user for m in team.memberships.select_related("user")}
    with httpx.Client(base_url=live_server.url, timeout=30) as client:  # the month's two free unlocks, used
        for name in ("first_free", "second_free"):
            assert client.get(f"/api/v1/profile/{name}", headers=bearer(users["dee"])).headers["X-Credits-Charged"] == "0"
    barrier = threading.Barrier(2)
    headers = {name: bearer(user) for name, user in users.items()}

    def unlock(name):
        with httpx.Client(base_url=live_server.url, timeout=30) as client:
            barrier.wait(timeout=30)
            response = client.get("/api/v1/profile/sleepy_star", headers=headers[name])
            return response.status_code, int(response.headers["X-Credits-Charged"])

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(unlock, ["dee", "eli"]))

    assert sorted(results) == [(200, 0), (200, 25)], results
    wallet = Wallet.objects.get(pk=team.pk)
    assert wallet.current_balance == 175
    paid = LedgerEntry.objects.filter(wallet=wallet, reference="sleepy_star")
    assert [(e.transaction_type, e.amount) for e in paid] == [("spend", 25)]
    assert Access.objects.filter(wallet=wallet, reference="sleepy_star").count() == 1
    # The access belongs to the wallet: a third look, by either member, is free.
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        again = client.get("/api/v1/profile/sleepy_star", headers=bearer(users["eli"]))
    assert (again.status_code, again.headers["X-Credits-Charged"]) == (200, "0")
    assert ledger_problems() == []
