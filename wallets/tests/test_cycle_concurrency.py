"""The batch reset racing lazy catch-ups from requests: every wallet is reset exactly once."""

import random
import threading
import time
from datetime import date, datetime, timezone

import pytest
import time_machine
from django.db import connection

from testing.factories import UserFactory
from transactions.models import LedgerEntry
from wallets import services
from wallets.services import reset_period
from wallets.models import Wallet
from wallets.verification import ledger_problems

pytestmark = pytest.mark.django_db(transaction=True)


def test_lazy_catch_up_racing_the_batch_job():
    with time_machine.travel(datetime(2026, 1, 15, tzinfo=timezone.utc), tick=False):
        users = [UserFactory() for _ in range(120)]
    ids = [u.pk for u in users]
    errors = []

    with time_machine.travel(datetime(2026, 2, 1, 0, 0, 5, tzinfo=timezone.utc)):
        def batch():
            try:
                reset_period(date(2026, 2, 1), batch_size=7)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                connection.close()

        def visitor(seed):
            rng = random.Random(seed)
            try:
                for user_id in rng.sample(ids, 40):
                    services.wallet_refresh(user_id=user_id)
            except Exception as error:  # noqa: BLE001
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=batch)] + [threading.Thread(target=visitor, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert errors == []
    grants = LedgerEntry.objects.filter(wallet_id__in=ids, idempotency_key="monthly_grant:2026-02")
    assert grants.count() == len(ids)
    assert LedgerEntry.objects.filter(wallet_id__in=ids, idempotency_key="expiry:2026-02").count() == len(ids)
    assert set(Wallet.objects.filter(pk__in=ids).values_list("billing_cycle_start", flat=True)) == {date(2026, 2, 1)}
    assert set(Wallet.objects.filter(pk__in=ids).values_list("monthly_balance", flat=True)) == {50}
    assert ledger_problems() == []


def test_the_batches_run_side_by_side_on_their_own_connections(monkeypatch):
    from wallets.services import cycle

    with time_machine.travel(datetime(2026, 1, 15, tzinfo=timezone.utc), tick=False):
        ids = [UserFactory().pk for _ in range(60)]
    threads_seen = set()
    roll_over = cycle.wallets_roll_over

    def spy(**kwargs):
        threads_seen.add(threading.get_ident())
        time.sleep(0.02)  # long enough that every worker gets a batch
        return roll_over(**kwargs)

    monkeypatch.setattr(cycle, "wallets_roll_over", spy)
    with time_machine.travel(datetime(2026, 2, 1, 0, 0, 5, tzinfo=timezone.utc)):
        report = reset_period(date(2026, 2, 1), batch_size=5, workers=3)
        again = reset_period(date(2026, 2, 1), batch_size=5, workers=3)

    assert (report.wallets_reset, report.batches) == (60, 12)  # 12 ranges; nothing was skipped for a last pass
    assert again.wallets_reset == 0
    assert len(threads_seen) == 3  # three workers
    assert LedgerEntry.objects.filter(wallet_id__in=ids, idempotency_key="monthly_grant:2026-02").count() == 60
    assert ledger_problems() == []
