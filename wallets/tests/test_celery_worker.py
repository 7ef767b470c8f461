"""A real Celery worker, on the real Redis broker, runs the monthly reset task."""

import socket
from datetime import date

import pytest
from celery.contrib.testing.worker import start_worker

from credits_platform.celery import app
from testing.factories import UserFactory
from wallets.models import Wallet
from wallets.tasks import reset_monthly_allowances

pytestmark = pytest.mark.django_db(transaction=True)
REDIS = "redis://127.0.0.1:6379/5"


def redis_is_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def real_broker():
    if not redis_is_up():
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    saved = {key: app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=REDIS, result_backend=REDIS, task_always_eager=False)
    yield app
    app.conf.update(saved)


def test_worker_runs_the_reset(real_broker):
    import celery.contrib.testing.tasks  # noqa: F401 - the ping task start_worker waits for

    user = UserFactory()
    Wallet.objects.filter(pk=user.pk).update(billing_cycle_start=date(2000, 1, 1))
    period = Wallet.objects.get(pk=user.pk).created_at.strftime("%Y-%m")
    with start_worker(real_broker, pool="threads", concurrency=1, perform_ping_check=True, shutdown_timeout=30):
        result = reset_monthly_allowances.delay(period)
        outcome = result.get(timeout=30)
    assert outcome["period"] == period and outcome["wallets_reset"] == 1
    wallet = Wallet.objects.get(pk=user.pk)
    assert wallet.billing_cycle_start.strftime("%Y-%m") == period
