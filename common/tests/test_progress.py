"""The long commands' progress: a bar with done / total, rate and time left on a terminal, nothing
when piped; stdout keeps the command's own lines only."""

import contextlib
import io
from datetime import date

import pytest
import time_machine
from django.core.management import call_command

from common.progress import progress_bar
from pricing.models import Package
from transactions.models import LedgerEntry
from wallets.models import Wallet

pytestmark = pytest.mark.django_db


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_bar_on_a_terminal_says_done_total_rate_and_time_left():
    screen = Terminal()
    with progress_bar("work", total=4, unit="batches", stream=screen) as advance:
        for _ in range(4):
            advance(1)
    shown = screen.getvalue()
    assert "work" in shown and "4/4" in shown and "batches/s" in shown and "<" in shown  # elapsed<left


def test_nothing_when_piped():
    piped = io.StringIO()
    with progress_bar("work", total=4, unit="batches", stream=piped) as advance:
        advance(4)
    assert piped.getvalue() == ""


def run_on(stderr, *args) -> str:
    """The command's stdout, its stderr going to `stderr` (set here: pytest's capture replaces
    sys.stderr between a fixture's setup and the test)."""
    out = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture(params=[True, False], ids=["terminal", "piped"])
def stderr(request):
    return Terminal() if request.param else io.StringIO()


def assert_bar_only_on_a_terminal(stderr, *expected):
    if isinstance(stderr, Terminal):
        for text in expected:
            assert text in stderr.getvalue(), stderr.getvalue()
    else:
        assert stderr.getvalue() == ""


def test_monthly_reset(make_user, stderr):
    for _ in range(3):
        make_user()
    with time_machine.travel(date(2099, 1, 1), tick=True):
        out = run_on(stderr, "reset_monthly_allowances", "--period", "2099-01", "--batch-size", "1", "--workers", "1")
    assert out.startswith("Reset 2099-01: ") and out.count("\n") == 1
    due = Wallet.objects.count()
    assert f"Reset 2099-01: {due} wallets" in out
    assert_bar_only_on_a_terminal(stderr, "reset 2099-01", f"/{due}", "wallets/s")


def test_staff_grant_to_a_package(make_user, stderr):
    for _ in range(3):
        make_user()
    free = Package.objects.get(is_default=True)
    wallets = Wallet.objects.filter(package=free).count()
    out = run_on(stderr, "grant_credits", "7", "--package", free.name, "--reason", "sorry", "--source", "compensation")
    assert out == f"Granted 7 compensation credits to {wallets} wallets of {free.name}, never expiring.\n"
    assert LedgerEntry.objects.filter(transaction_type="grant", amount=7).count() == wallets
    assert_bar_only_on_a_terminal(stderr, f"grant to {free.name}", f"{wallets}/{wallets}")


def test_verify_ledger(make_user, stderr):
    make_user()
    out = run_on(stderr, "verify_ledger")
    assert out == "Ledger OK: every balance equals its ledger sum; no stale holds.\n"
    assert_bar_only_on_a_terminal(stderr, "checking the ledger", "4/4", "checks/s")


def test_finance_report(make_user, stderr):
    make_user()
    out = run_on(stderr, "finance_report", "--period", "2026-03")
    assert out.startswith("Finance 2026-03: reconciles")
    assert_bar_only_on_a_terminal(stderr, "finance 2026-03", "7/7", "passes/s")
