"""The app under gunicorn on a private database, for fault tests that stop and kill things.

`LiveStack(database_url)` migrates and seeds that database, starts gunicorn (real processes,
real HTTP), and can kill it mid-request and start it again. `manage(...)` runs a management
command against the same database; `users(n)` registers funded users and returns their tokens.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .private_services import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


class LiveStack:
    def __init__(self, database_url: str, *, redis_url: str = "", workers: int = 2, threads: int = 4, env=None):
        self.port = free_port(range(8500, 8600))
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers, self.threads = workers, threads
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "credits_platform.settings.local",
            "DEBUG": "0",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": "memory://",  # nothing a request does publishes a task
            "INSTAGRAM_PROVIDER": "demo",
            "THROTTLE_GATED": "100000/min",
            "THROTTLE_AUTH": "100000/min",
            "LOG_LEVEL": "ERROR",
            "DB_CONNECT_TIMEOUT_SECONDS": "2",
            **(env or {}),
        }
        self.process: subprocess.Popen | None = None

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, check=check, timeout=300)

    def prepare(self) -> "LiveStack":
        self.manage("migrate", "--noinput")
        self.manage("load_defaults")
        return self

    def start(self) -> "LiveStack":
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "python:credits_platform.gunicorn", "credits_platform.wsgi",
             "-b", f"127.0.0.1:{self.port}",
             "-w", str(self.workers), "--threads", str(self.threads), "--timeout", "30", "--graceful-timeout", "3"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        wait_for_port(self.port, timeout=20)
        return self

    def kill(self) -> None:
        """SIGKILL the master and every worker: requests in flight get no answer."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        wait_for_port(self.port, up=False)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def users(self, count: int, *, credits: int, prefix: str = "chaos") -> list[tuple[int, str]]:
        """`count` users funded to `credits` each: [(user_id, access token)]."""
        script = f"""
import json
from django.contrib.auth import get_user_model
from wallets.models import Wallet
from wallets.services import credits_adjust
out = []
for i in range({count}):
    user = get_user_model().objects.create_user("{prefix}%d" % i, "{prefix}%d@example.com" % i, "pass-word-123")
    credits_adjust(user_id=user.pk, amount={credits} - Wallet.objects.get(pk=user.pk).current_balance, reason="chaos setup")
    out.append(user.pk)
print(json.dumps(out))
"""
        ids = json.loads(self.manage("shell", "-c", script).stdout.strip().splitlines()[-1])
        tokens = []
        with httpx.Client(base_url=self.url, timeout=10) as client:
            for index, user_id in enumerate(ids):
                answer = client.post("/api/v1/auth/token/", json={"username": f"{prefix}{index}", "password": "pass-word-123"})
                answer.raise_for_status()
                tokens.append((user_id, answer.json()["access"]))
        return tokens

    def ledger_report(self) -> dict:
        """verify_ledger's verdict and the totals a fault test compares, read from the database."""
        verdict = self.manage("verify_ledger", check=False)
        script = """
import json
from django.db.models import Sum
from transactions.models import LedgerEntry
from wallets.models import Hold
spent = LedgerEntry.objects.filter(transaction_type="spend").aggregate(total=Sum("amount"))["total"] or 0
print(json.dumps({"spent": spent, "spend_rows": LedgerEntry.objects.filter(transaction_type="spend").count(),
                  "held": Hold.objects.filter(status="held").count()}))
"""
        totals = json.loads(self.manage("shell", "-c", script).stdout.strip().splitlines()[-1])
        return {"ok": verdict.returncode == 0, "verdict": (verdict.stdout + verdict.stderr).strip(), **totals}

    def charges(self) -> dict[tuple[int, str, str], tuple[int, int]]:
        """(wallet id, reference, action type) -> (spend rows, credits) for every paid resource."""
        script = """
import json
from django.db.models import Count, Sum
from transactions.models import LedgerEntry
rows = LedgerEntry.objects.filter(transaction_type="spend").values("wallet_id", "reference", "action_type")
print(json.dumps([[r["wallet_id"], r["reference"], r["action_type"], r["n"], r["credits"]]
                  for r in rows.annotate(n=Count("id"), credits=Sum("amount"))]))
"""
        rows = json.loads(self.manage("shell", "-c", script).stdout.strip().splitlines()[-1])
        return {(wallet, reference, action): (count, credits) for wallet, reference, action, count, credits in rows}

    def __enter__(self):
        return self.prepare().start()

    def __exit__(self, *exc):
        self.stop()


def wait_until(predicate, *, timeout: float, interval: float = 0.1) -> float:
    """Seconds until `predicate()` held; raises TimeoutError past `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if predicate():
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(interval)
    raise TimeoutError(f"not true after {timeout} s")
