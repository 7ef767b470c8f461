"""The admin pages staff use most, in Chromium at 1400 px: usernames where there were wallet ids,
lists that fit the width, the wallet's total balance, readable finance headers, and the grant form
in the admin's own look. Each page is saved to screenshots/ for a look by eye."""

import pytest
from playwright.sync_api import expect

from testing.clients import client_for
from testing.sequences import known_month
from transactions.models import LedgerEntry
from wallets.services import credits_adjust

from .browser import SCREENSHOTS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_page(page, live_server, make_user):
    staff = make_user(is_staff=True, is_superuser=True)
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill("pass-word-123")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Log out").or_(page.get_by_role("button", name="Log out"))).to_be_visible()
    return page


@pytest.fixture
def ada(make_user):
    ada = make_user(username="ada_lovelace", balance=100)
    known_month(ada)
    credits_adjust(user_id=ada.pk, amount=5, reason="goodwill after the outage of the analytics provider on the 3rd")
    assert client_for(ada).get("/api/v1/profile/dev_dan").status_code == 200  # an access record
    return ada


def fits(page, name: str):
    """Nothing clipped at 1400 px: the page does not scroll sideways, nor does a list inside it."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"admin-{name}-1400.png"), full_page=True)
    sizes = page.evaluate(
        """() => {
          const results = document.querySelector('.results');
          return {
            page: document.documentElement.scrollWidth, viewport: window.innerWidth,
            list: results ? results.scrollWidth : 0, listBox: results ? results.clientWidth : 0,
          };
        }"""
    )
    assert sizes["page"] <= sizes["viewport"], (name, sizes)
    assert sizes["list"] <= sizes["listBox"], (name, sizes)


def test_ledger_list_and_row_name_the_user_and_fit(staff_page, live_server, ada):
    page = staff_page
    page.goto(f"{live_server.url}/admin/transactions/ledgerentry/")
    rows = page.locator("#result_list tbody tr")
    expect(rows.first).to_be_visible()
    expect(page.locator("#result_list td.field-username").first).to_have_text("ada_lovelace")
    fits(page, "ledger")

    entry = LedgerEntry.objects.filter(wallet_id=ada.pk, transaction_type="adjustment").latest("id")
    page.goto(f"{live_server.url}/admin/transactions/ledgerentry/{entry.pk}/change/")
    expect(page.locator("#content h2").first).to_have_text("adjustment +5 (ada_lovelace)")
    expect(page.locator(".breadcrumbs")).to_contain_text("adjustment +5 (ada_lovelace)")
    assert f"wallet {ada.pk}" not in page.locator("#content").inner_text()


def test_pricing_rules_fit(staff_page, live_server):
    page = staff_page
    page.goto(f"{live_server.url}/admin/pricing/pricingrule/")
    expect(page.locator("#result_list tbody tr")).to_have_count(4)
    fits(page, "pricing-rules")


def test_accesses_list_usernames_not_wallet_ids(staff_page, live_server, ada):
    page = staff_page
    page.goto(f"{live_server.url}/admin/wallets/access/")
    row = page.locator("#result_list tbody tr").first
    expect(row.locator(".field-user")).to_have_text("ada_lovelace")
    expect(row.locator("td.field-resource")).to_have_text("dev_dan")
    expect(page.locator("#result_list thead")).not_to_contain_text("Wallet")
    fits(page, "accesses")


def test_the_wallet_page_shows_the_total_balance(staff_page, live_server, ada):
    page = staff_page
    page.goto(f"{live_server.url}/admin/wallets/wallet/{ada.pk}/change/")
    total = page.locator(".field-total_balance")
    expect(total).to_contain_text("Total balance")
    expect(total.locator(".readonly")).to_have_text(str(client_for(ada).get("/api/v1/api/credits/balance").json()["current_balance"]))
    fits(page, "wallet")


def test_finance_headers_are_words(staff_page, live_server, ada):
    page = staff_page
    page.goto(f"{live_server.url}/admin/credits-finance/")
    headers = page.locator(".credits-finance thead th")
    expect(headers.nth(1)).to_have_text("Outstanding at start")
    expect(headers.last).to_have_text("Outstanding at end")
    # Shown as written: not squeezed into capitals.
    assert headers.nth(1).evaluate("th => getComputedStyle(th).textTransform") == "none"
    assert "OUTSTANDINGSTART" not in page.locator(".credits-finance").inner_text()
    fits(page, "finance")


def test_the_grant_form_looks_like_the_admin_and_grants(staff_page, live_server, ada):
    page = staff_page
    page.goto(f"{live_server.url}/admin/wallets/wallet/grant/?ids={ada.pk}")
    crumbs = page.locator(".breadcrumbs")
    expect(crumbs).to_contain_text("Home")
    expect(crumbs.get_by_role("link", name="Wallets", exact=True).first).to_be_visible()
    expect(crumbs).to_contain_text("Grant credits")
    assert page.locator("fieldset.module.aligned .form-row").count() >= 5
    expect(page.locator(".submit-row input[type=submit]")).to_have_value("Grant credits")
    fits(page, "grant-form")

    before = client_for(ada).get("/api/v1/api/credits/balance").json()["current_balance"]
    page.get_by_label("Amount").fill("12")
    page.get_by_label("Reason").fill("launch week")
    page.locator(".submit-row input[type=submit]").click()
    expect(page.locator(".messagelist")).to_contain_text("Granted 12 promo credits to 1 wallet(s).")
    assert client_for(ada).get("/api/v1/api/credits/balance").json()["current_balance"] == before + 12
