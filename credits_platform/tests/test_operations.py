"""Operators: /metrics (staff or token), the daily ledger check in beat, timeouts per path."""

import logging
import threading

import pytest
from django.db import connection, connections, transaction

from credits_platform.celery import app
from testing.clients import client_for
from transactions.models import LedgerEntry
from wallets.models import Hold, HoldStatus, Wallet
from wallets.tasks import verify_ledger

pytestmark = pytest.mark.django_db


def metric(text: str, name: str, **labels) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} " if labels else f"{name} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


class TestMetrics:
    def test_refused_without_staff_or_token(self, anon, api, settings):
        settings.METRICS_TOKEN = "s3cret-token"
        for client in (anon, api):
            response = client.get("/metrics")
            assert response.status_code == 403 and response.json()["code"] == "permission_denied"
        assert anon.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403

    def test_token_and_staff_get_the_counters(self, anon, staff_api, settings):
        settings.METRICS_TOKEN = "s3cret-token"
        assert anon.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200
        response = staff_api.get("/metrics")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")

    def test_requests_gate_outcomes_charges_and_holds_are_counted(self, make_user, staff_api):
        before = staff_api.get("/metrics").content.decode()
        client = client_for(make_user(balance=30))
        assert client.get("/api/v1/profile/dev_dan/ai-insights").status_code == 200  # 20 charged
        assert client.get("/api/v1/profile/dev_dan/ai-insights").status_code == 200  # paid already
        assert client.get("/api/v1/profile/eco_emma/ai-insights").status_code == 402  # 10 left
        assert client.get("/api/v1/profile/nobody_at_all/posts").status_code in (402, 404)
        wallet = Wallet.objects.get(pk=make_user().pk)
        Hold.objects.create(wallet=wallet, action_type="ai_insights", amount=0, period=wallet.billing_cycle_start,
                            expires_at="2000-01-01T00:00:00Z", status=HoldStatus.HELD)
        after = staff_api.get("/metrics").content.decode()

        def delta(name, **labels):
            return metric(after, name, **labels) - metric(before, name, **labels)

        assert delta("credits_charged_total", action_type="ai_insights") == 20
        assert delta("credits_gate_outcomes_total", action_type="ai_insights", outcome="charged") == 1
        assert delta("credits_gate_outcomes_total", action_type="ai_insights", outcome="not_charged") == 1
        assert delta("credits_gate_outcomes_total", action_type="ai_insights", outcome="refused") == 1
        assert delta("credits_http_requests_total", method="GET", status="402") >= 1
        assert metric(after, "credits_holds_stale") == 1 and metric(after, "credits_holds_in_flight") == 1
        assert metric(after, "credits_database_up") == 1

    def test_the_last_reset_duration_is_exported(self, staff_api):
        from wallets.tasks import reset_monthly_allowances

        reset_monthly_allowances.apply()
        text = staff_api.get("/metrics").content.decode()
        assert metric(text, "credits_monthly_reset_seconds") > 0


class TestDailyLedgerCheck:
    def test_scheduled_daily_in_beat(self):
        entry = app.conf.beat_schedule["verify-ledger"]
        assert entry["task"] == "wallets.tasks.verify_ledger"
        assert str(entry["schedule"]).startswith("<crontab: 30 3 * * *")

    def test_logs_an_error_naming_each_broken_wallet(self, make_user, caplog):
        healthy, broken = make_user(balance=40), make_user(balance=40)
        assert verify_ledger.apply().get() == 0
        Wallet.objects.filter(pk=broken.pk).update(purchased_balance=999)  # a balance the ledger does not explain
        with caplog.at_level(logging.INFO, logger="credits.verify"):
            problems = verify_ledger.apply().get()
        errors = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
        assert problems >= 1 and len(errors) == problems
        assert all(error.startswith(f"ledger check failed for wallet {broken.pk}: ") for error in errors)
        assert f"wallet {healthy.pk}:" not in caplog.text


@pytest.mark.django_db(transaction=True)
class TestTimeouts:
    def test_requests_run_under_the_web_timeouts(self, settings):
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            statement = cursor.fetchone()[0]
            cursor.execute("SHOW lock_timeout")
            lock = cursor.fetchone()[0]
        assert (statement, lock) == ("10s", "5s")

    def test_jobs_take_their_own_inside_their_transaction_only(self):
        from common.db_timeouts import use_job_timeouts

        with transaction.atomic():
            use_job_timeouts()
            with connection.cursor() as cursor:
                cursor.execute("SHOW statement_timeout")
                assert cursor.fetchone()[0] == "10min"
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "10s"

    def test_a_wallet_lock_held_too_long_is_a_503_and_charges_nothing(self, make_user):
        user = make_user(balance=100)
        client = client_for(user)
        locked, release = threading.Event(), threading.Event()

        def hold_the_wallet_lock():
            other = connections.create_connection("default")
            try:
                with other.cursor() as cursor:
                    cursor.execute("BEGIN")
                    cursor.execute("SELECT 1 FROM wallets_wallet WHERE user_id = %s FOR UPDATE", [user.pk])
                    locked.set()
                    release.wait(10)
                    cursor.execute("ROLLBACK")
            finally:
                other.close()

        holder = threading.Thread(target=hold_the_wallet_lock)
        holder.start()
        assert locked.wait(10)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '300ms'")
            response = client.get("/api/v1/profile/dev_dan/ai-insights")
        finally:
            release.set()
            holder.join()
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        assert response.status_code == 503, response.content[:300]
        assert response.json()["code"] == "service_unavailable" and response["Retry-After"] == "5"
        assert Wallet.objects.get(pk=user.pk).current_balance == 100
        assert not LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="spend").exists()
        assert not Hold.objects.filter(wallet_id=user.pk, status=HoldStatus.HELD).exists()
