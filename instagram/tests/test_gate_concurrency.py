"""Real HTTP, real threads, real PostgreSQL: concurrent gated requests never overdraw or double-charge."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest
from django.db import connection
from django.db.models import Sum
from rest_framework_simplejwt.tokens import RefreshToken

from testing.clients import client_for
from transactions.models import LedgerEntry
from wallets.models import Hold, HoldStatus, Wallet
from wallets.verification import ledger_problems


pytestmark = pytest.mark.django_db(transaction=True)


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


def test_thirty_concurrent_requests_over_ten_resources(live_server, make_user, provider):
    provider.delay = 0.05
    user = make_user(balance=100)
    # Ten paid resources worth 150 credits (5 x 20 + 5 x 10) against a wallet of 100.
    resources = [f"/api/v1/profile/sleepy_ai{i}/ai-insights" for i in range(5)]
    resources += [f"/api/v1/profile/sleepy_posts{i}/posts" for i in range(5)]
    requests = [path for path in resources for _ in range(3)]
    headers = bearer(user)
    barrier = threading.Barrier(len(requests))

    def call(path):
        with httpx.Client(base_url=live_server.url, timeout=30) as client:
            barrier.wait(timeout=30)
            response = client.get(path, headers=headers)
            return path, response.status_code, response.headers.get("X-Credits-Charged"), response.json()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        results = list(pool.map(call, requests))

    statuses = Counter(status for _, status, _, _ in results)
    assert set(statuses) <= {200, 402}, results
    charged_by_header = sum(int(charged) for _, status, charged, _ in results if status == 200)
    wallet = Wallet.objects.get(pk=user.pk)
    spent = LedgerEntry.objects.filter(wallet=wallet, transaction_type="spend")

    assert wallet.current_balance >= 0
    assert charged_by_header == 100 - wallet.current_balance == spent.aggregate(s=Sum("amount"))["s"]
    per_resource = Counter((e.action_type, e.reference) for e in spent)
    assert all(count == 1 for count in per_resource.values()), per_resource
    assert wallet.reserved == 0
    assert not Hold.objects.filter(status=HoldStatus.HELD).exists()
    assert ledger_problems() == []
    # Every resource that was served was paid (or free) exactly once, and 402s only once money ran out.
    served = {path for path, status, _, _ in results if status == 200}
    assert statuses[402] > 0  # 150 credits of demand cannot all be met by 100
    assert wallet.current_balance < 20  # ... and refusals only came once the money ran short
    assert len(served) >= 5


def test_the_wallet_lock_is_not_held_during_the_provider_call(live_server, make_user, provider):
    provider.delay = 1.5
    user = make_user(balance=100)
    headers = bearer(user)
    timings = {}

    def call(name, path, wait=0.0):
        time.sleep(wait)
        started = time.monotonic()
        with httpx.Client(base_url=live_server.url, timeout=30) as client:
            response = client.get(path, headers=headers)
        timings[name] = (started, time.monotonic(), response.status_code, response.text[:200])

    slow = threading.Thread(target=call, args=("slow", "/api/v1/profile/sleepy_slow/posts"))
    fast = threading.Thread(target=call, args=("fast", "/api/v1/profile/quick_one/posts", 0.4))
    slow.start(), fast.start()
    slow.join(), fast.join()

    assert timings["slow"][2] == timings["fast"][2] == 200, timings
    # The second request on the same wallet finished while the first was still inside the provider.
    assert timings["fast"][1] < timings["slow"][1] - 0.5
    assert timings["fast"][1] - timings["fast"][0] < 1.0
    assert Wallet.objects.get(pk=user.pk).current_balance == 80


# --- a request that waits for the wallet lock decides on what the lock holder committed -----------


def wait_until_a_backend_waits_for_a_lock(timeout: float = 10) -> None:
    from django.db import connection

    from wallets.shards import distributed

    # On Citus the row lock is taken on the worker that holds the wallet: every node's backends.
    activity = "citus_stat_activity" if distributed() else "pg_stat_activity"
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                f"SELECT count(*) FROM {activity} WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("no request waited for the wallet lock")


def while_holding_the_wallet_lock(user, work, then):
    """Run `work` in a transaction that holds `user`'s wallet lock, start `then` in another thread,
    and commit only once `then` is blocked on that lock; returns what `then` returned."""
    from django.db import connection, transaction

    from wallets.locking import lock_wallet

    locked, commit = threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic():
                wallet = lock_wallet(user.pk)
                work(wallet)
                locked.set()
                assert commit.wait(10)
        finally:
            connection.close()

    def waiter():
        try:
            return then()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(holder)
        assert locked.wait(10)
        second = pool.submit(waiter)
        wait_until_a_backend_waits_for_a_lock()
        commit.set()
        first.result(timeout=10)
        return second.result(timeout=10)


def grant_access(wallet_id, action_type, reference, window):
    """What the first request's capture records (wallets_access_grant), in the lock holder's transaction."""
    from django.utils import timezone

    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT wallets_access_grant(%s, %s, %s, %s, %s)",
                       [wallet_id, action_type, reference, None if window is None else now + window, now])
        assert cursor.fetchone()[0]


def test_a_capture_that_waited_for_the_lock_sees_the_access_just_granted(make_user):
    """Two requests for one resource: the first captures and records the access while the second
    waits to settle. The second must find the access and pay nothing."""
    from wallets.gate import Purchase, Ticket, gate_settle
    from pricing.selectors import pricing_rule_get

    user = make_user(balance=100)
    rule = pricing_rule_get(action_type="profile_posts")
    purchase = Purchase(user_id=user.pk, action_type="profile_posts", reference="dev_dan", rule=rule)

    def first_request_captures(wallet):
        grant_access(wallet.pk, "profile_posts", "dev_dan", rule.access_window)

    settlement = while_holding_the_wallet_lock(
        user, first_request_captures, lambda: gate_settle(purchase, Ticket(hold=None))
    )
    assert settlement.charged == 0
    assert not LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="spend").exists()
    assert Wallet.objects.get(pk=user.pk).current_balance == 100


def test_a_one_call_capture_that_waited_for_the_lock_sees_the_access_just_granted(make_user):
    """The same race, settled by the capture function (a hold of credits): the access check inside
    it runs after the lock, so the second request pays nothing and its hold is released."""
    from wallets.gate import Purchase, gate_reserve, gate_settle
    from pricing.selectors import pricing_rule_get

    user = make_user(balance=100)
    rule = pricing_rule_get(action_type="profile_posts")
    purchase = Purchase(user_id=user.pk, action_type="profile_posts", reference="dev_dan", rule=rule)
    ticket = gate_reserve(purchase)
    assert ticket.hold is not None and ticket.hold.allocations

    def first_request_captures(wallet):
        grant_access(wallet.pk, "profile_posts", "dev_dan", rule.access_window)

    settlement = while_holding_the_wallet_lock(user, first_request_captures, lambda: gate_settle(purchase, ticket))
    assert (settlement.charged, settlement.balance) == (0, 100)
    assert not LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="spend").exists()
    assert Hold.objects.get(pk=ticket.hold.pk).status == HoldStatus.RELEASED
    wallet = Wallet.objects.get(pk=user.pk)
    assert (wallet.current_balance, wallet.reserved) == (100, 0)


def test_a_reserve_that_waited_for_the_lock_sees_the_hold_just_placed(make_user):
    """The second request for a resource, arriving while the first reserves it, must see the hold in
    flight and not set aside the price a second time."""
    from wallets.gate import Purchase, gate_reserve
    from pricing.selectors import pricing_rule_get
    from wallets.services import credits_reserve

    user = make_user(balance=100)
    rule = pricing_rule_get(action_type="profile_posts")
    purchase = Purchase(user_id=user.pk, action_type="profile_posts", reference="dev_dan", rule=rule)

    def first_request_reserves(wallet):
        credits_reserve(user_id=user.pk, action_type="profile_posts", reference="dev_dan", rule=rule)

    ticket = while_holding_the_wallet_lock(user, first_request_reserves, lambda: gate_reserve(purchase))
    assert ticket.hold is None
    assert Hold.objects.filter(wallet_id=user.pk, status=HoldStatus.HELD).count() == 1
    assert Wallet.objects.get(pk=user.pk).reserved == rule.credits_per_action


# --- a price change made elsewhere is charged at once, whatever this process has cached ----------


def test_a_price_changed_by_another_process_is_charged_on_the_next_request(make_user, provider):
    """This process has the rule cached; another client (its own connection, no Django, no signal)
    changes the price and commits; the very next gated request here charges the new price."""
    api = client_for(make_user(balance=100))
    assert api.get("/api/v1/profile/dev_dan/ai-insights")["X-Credits-Charged"] == "20"  # cached now
    assert api.get("/api/v1/profile/eco_emma/ai-insights")["X-Credits-Charged"] == "20"  # from the cache
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True) as other:
        other.execute("UPDATE pricing_pricingrule SET credits_per_action = 7 WHERE action_type = 'ai_insights'")
    response = api.get("/api/v1/profile/chef.carla/ai-insights")
    assert (response["X-Credits-Charged"], response["X-Credits-Remaining"]) == ("7", "53")
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True) as other:
        other.execute("UPDATE pricing_pricingrule SET is_active = false WHERE action_type = 'ai_insights'")
    assert api.get("/api/v1/profile/bob_fitness/ai-insights").status_code == 404  # withdrawn: at once too
