import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pricing.models import PricingRule
from testing.sequences import known_month
from transactions.models import LedgerEntry
from wallets.models import Wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user, client):
    user = make_user(is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def plain(make_user, client):
    user = make_user()
    client.force_login(user)
    return user


PAGES = [
    "/admin/",
    "/admin/credits-overview/",
    "/admin/wallets/wallet/",
    "/admin/transactions/ledgerentry/",
    "/admin/payments/topup/",
    "/admin/payments/paymentevent/",
    "/admin/pricing/pricingrule/",
    "/admin/pricing/package/",
    "/admin/pricing/topuptier/",
    "/admin/wallets/hold/",
    "/admin/wallets/access/",
]


@pytest.mark.parametrize("page", PAGES)
def test_staff_pages_load(staff, client, page):
    response = client.get(page)
    assert response.status_code == 200, page


@pytest.mark.parametrize("page", PAGES)
def test_non_staff_are_refused(plain, client, page):
    response = client.get(page)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_overview_shows_spending(staff, client, make_user):
    user = make_user(balance=100)
    known_month(user)
    response = client.get("/admin/credits-overview/")
    body = response.content.decode()
    assert '<b data-testid="overview-total">45</b> credits spent' in body and "influencer_unlock" in body
    spent = {series["label"]: sum(series["data"]) for series in response.context["charts"]["spent"]}
    assert spent == {"ai_insights": 20, "detailed_analytics": 0, "influencer_unlock": 25}
    added = {series["label"]: sum(series["data"]) for series in response.context["charts"]["added"]}
    assert added == {"adjustment": 50, "monthly_grant": 100, "top_up": 40}  # the staff user has a wallet too
    assert len(response.context["active_days"]) == 1  # no rows of zeros
    assert body.count("<h1>") == 1  # the page title once, not doubled


def test_ledger_and_top_ups_name_users_and_show_the_reason(staff, client, make_user):
    from wallets.services import credits_adjust

    user = make_user(username="carol")
    credits_adjust(user_id=user.pk, amount=7, reason="goodwill after outage", actor=staff)
    body = client.get("/admin/transactions/ledgerentry/").content.decode()
    assert "carol" in body and "goodwill after outage" in body and "column-reason" in body
    assert "column-wallet_id" not in body
    wallets = client.get("/admin/wallets/wallet/").content.decode()
    assert wallets.count('<th scope="col" class="') <= 7  # the checkbox + six columns


def test_users_are_deactivated_not_deleted(staff, client, make_user):
    user = make_user(username="leaver")
    page = client.get(f"/admin/auth/user/{user.pk}/change/").content.decode()
    assert "untick “Active”" in page and "deletelink" not in page
    assert client.get(f"/admin/auth/user/{user.pk}/delete/").status_code == 403
    response = client.post(
        "/admin/auth/user/", {"action": "deactivate_users", "_selected_action": [user.pk]}, follow=True
    )
    assert "1 user(s) deactivated." in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active and Wallet.objects.filter(pk=user.pk).exists()


def test_adjust_page_has_one_heading(staff, client, make_user):
    user = make_user()
    body = client.get(f"/admin/wallets/wallet/adjust/?ids={user.pk}").content.decode()
    assert body.count("<h1>") == 1


def test_adjust_action_writes_one_row_with_the_actor(staff, client, make_user):
    user = make_user()
    response = client.post(
        "/admin/wallets/wallet/", {"action": "adjust_credits", "_selected_action": [user.pk]}
    )
    assert response.status_code == 302 and "adjust" in response["Location"]
    before = LedgerEntry.objects.count()
    response = client.post(response["Location"], {"amount": "25", "reason": "goodwill"})
    assert response.status_code == 302
    assert LedgerEntry.objects.count() == before + 1
    entry = LedgerEntry.objects.latest("id")
    assert (entry.transaction_type, entry.delta, entry.actor, entry.description) == ("adjustment", 25, staff, "goodwill")
    assert Wallet.objects.get(pk=user.pk).current_balance == 75


def test_adjust_refuses_going_below_zero_and_bad_input(staff, client, make_user):
    user = make_user()
    url = f"/admin/wallets/wallet/adjust/?ids={user.pk}"
    before = LedgerEntry.objects.count()
    client.post(url, {"amount": "-51", "reason": "too much"})
    assert client.post(url, {"amount": "0", "reason": "x"}).status_code == 200  # form re-shown with error
    assert client.post(url, {"amount": "5", "reason": "  "}).status_code == 200
    assert LedgerEntry.objects.count() == before
    assert Wallet.objects.get(pk=user.pk).current_balance == 50


def test_lock_and_unlock_actions(staff, client, make_user):
    user = make_user()
    client.post("/admin/wallets/wallet/", {"action": "lock_wallets", "_selected_action": [user.pk]})
    assert Wallet.objects.get(pk=user.pk).status == "locked"
    client.post("/admin/wallets/wallet/", {"action": "unlock_wallets", "_selected_action": [user.pk]})
    assert Wallet.objects.get(pk=user.pk).status == "active"


def test_wallet_balances_cannot_be_edited(staff, client, make_user):
    user = make_user()
    client.post(f"/admin/wallets/wallet/{user.pk}/change/", {"package": Wallet.objects.get(pk=user.pk).package_id, "monthly_balance": 99999})
    assert Wallet.objects.get(pk=user.pk).current_balance == 50


def test_ledger_is_read_only_even_for_superusers(staff, client, user):
    entry = LedgerEntry.objects.filter(wallet_id=user.pk).first()
    assert client.get(f"/admin/transactions/ledgerentry/{entry.pk}/change/").status_code == 200  # view only
    client.post(f"/admin/transactions/ledgerentry/{entry.pk}/change/", {"amount": 1})
    assert client.get(f"/admin/transactions/ledgerentry/{entry.pk}/delete/").status_code == 403
    assert client.get("/admin/transactions/ledgerentry/add/").status_code == 403
    entry.refresh_from_db()
    assert entry.amount == 50


def test_ledger_search_and_filters(staff, client, make_user):
    user = make_user(balance=100)
    known_month(user)
    assert client.get(f"/admin/transactions/ledgerentry/?q={user.username}").status_code == 200
    response = client.get("/admin/transactions/ledgerentry/?transaction_type__exact=spend&action_type=ai_insights")
    assert response.status_code == 200 and response.context["cl"].result_count == 1


def _rule_form(tiers):
    data = {
        "action_type": "new_action", "credits_per_action": "10", "free_allowance_per_month": "0",
        "access_window_hours": "24", "is_active": "on", "description": "",
        "bulk_tiers-TOTAL_FORMS": str(len(tiers)), "bulk_tiers-INITIAL_FORMS": "0",
        "bulk_tiers-MIN_NUM_FORMS": "0", "bulk_tiers-MAX_NUM_FORMS": "1000",
    }
    for i, (quantity, discount) in enumerate(tiers):
        data[f"bulk_tiers-{i}-min_quantity"] = str(quantity)
        data[f"bulk_tiers-{i}-discount_percent"] = str(discount)
    return data


@pytest.mark.parametrize(
    "tiers, ok",
    [
        ([(5, 10), (10, 20)], True),
        ([(5, 20), (10, 10)], False),  # discount falls as quantity grows
        ([(5, 10), (5, 20)], False),  # same quantity twice
        ([(5, 101)], False),  # over 100%
        ([(1, 10)], False),  # a tier from 1 is not bulk
    ],
)
def test_rule_tiers_validate(staff, client, tiers, ok):
    response = client.post("/admin/pricing/pricingrule/add/", _rule_form(tiers))
    assert (response.status_code == 302) is ok
    assert PricingRule.objects.filter(action_type="new_action").exists() is ok


def test_rule_rejects_negative_price(staff, client):
    data = _rule_form([])
    data["credits_per_action"] = "-5"
    assert client.post("/admin/pricing/pricingrule/add/", data).status_code == 200
    assert not PricingRule.objects.filter(action_type="new_action").exists()


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_change_list_queries_do_not_grow(staff, client, make_user):
    for _ in range(3):
        known_month(make_user(balance=100))
    small = (_count(client, "/admin/wallets/wallet/"), _count(client, "/admin/transactions/ledgerentry/"))
    for _ in range(12):
        known_month(make_user(balance=100))
    large = (_count(client, "/admin/wallets/wallet/"), _count(client, "/admin/transactions/ledgerentry/"))
    assert small == large
    assert large[0] <= 12 and large[1] <= 12
