"""`make run` as a newcomer runs it: a fresh data folder, the embedded PostgreSQL, the web server, a
worker with beat; the README's first requests; one SIGTERM stops all of it, database included."""

import json
import subprocess
import time

import httpx
import psutil
import pytest

from .processes import PYTHON, ROOT, free_port, local_env, start, stop_group, wait_until_serving

pytestmark = pytest.mark.slow


def postgres_processes(data_dir) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and str(data_dir) in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


def test_make_run_serves_on_embedded_postgres_with_worker_and_beat(tmp_path):
    data_dir, port, log = tmp_path / "data", free_port(), tmp_path / "stack.log"
    env = local_env(CREDITS_DATA_DIR=str(data_dir), CELERY_BEAT_HEARTBEAT_SECONDS="1")
    stack = start([PYTHON, "-m", "ops.stack", "--port", str(port)], env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        startup = wait_until_serving(base, stack, log)
        assert startup < 30, startup
        assert postgres_processes(data_dir), "the embedded PostgreSQL runs from the data folder"

        api = httpx.Client(base_url=f"{base}/api/v1", timeout=10)
        token = api.post("/auth/token/", json={"username": "demo", "password": "demo-credits-2026"}).json()["access"]
        api.headers["Authorization"] = f"Bearer {token}"
        balance = api.get("/api/credits/balance").json()["current_balance"]
        paid = api.get("/profile/dev_dan/ai-insights")
        repeat = api.get("/profile/dev_dan/ai-insights")
        assert (paid.status_code, paid.headers["X-Credits-Charged"]) == (200, "20")
        assert (repeat.status_code, repeat.headers["X-Credits-Charged"]) == (200, "0")
        assert api.get("/profile/bad..name/posts").json()["code"] == "invalid_username"
        assert api.get("/api/credits/balance").json()["current_balance"] == balance - 20
        assert api.get("/api/credits/dashboard").status_code == 200

        # Beat schedules the heartbeat task and the worker runs it: both report alive.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            health = api.get("/health/").json()
            if health["worker"]["alive"] and health["beat"]["alive"]:
                break
            time.sleep(0.5)
        assert health["database"] == "postgresql"
        assert health["worker"]["alive"] and health["beat"]["alive"], (health, log.read_text()[-3000:])

        # An operator's command finds the same embedded database while the stack runs, and prints
        # only its own line: no platformdirs or kombu warning, no pgserver bookkeeping, no INFO logs
        # (the environment a newcomer has: no XDG_RUNTIME_DIR over ssh, LOG_LEVEL unset).
        quiet_env = {key: value for key, value in env.items() if key not in ("LOG_LEVEL", "XDG_RUNTIME_DIR")}
        check = subprocess.run(
            [PYTHON, "manage.py", "verify_ledger"], cwd=ROOT, env=quiet_env, capture_output=True, text=True, timeout=60
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert check.stdout == "Ledger OK: every balance equals its ledger sum; no stale holds.\n", check.stdout
        assert check.stderr == "", check.stderr
        grant = subprocess.run(
            [PYTHON, "manage.py", "grant_credits", "demo", "5", "--reason", "welcome"], cwd=ROOT, env=quiet_env,
            capture_output=True, text=True, timeout=60,
        )
        assert grant.stdout == "Granted 5 promo credits to demo, never expiring (1 wallet).\n", grant.stdout + grant.stderr
        assert grant.stderr == "", grant.stderr
    finally:
        stopped_in = stop_group(stack)
    output = log.read_text()
    assert stack.returncode == 0, output[-3000:]
    assert "[make run] stopped" in output
    assert stopped_in < 30
    time.sleep(0.5)
    assert postgres_processes(data_dir) == [], "the database stops with the stack"
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
    print(json.dumps({"startup_seconds": round(startup, 1), "stop_seconds": round(stopped_in, 1)}))
