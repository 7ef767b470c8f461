"""`make run`'s setup on its embedded database (SQLite, local settings), from an empty file.

Every other test runs on PostgreSQL; this one guards the path a newcomer takes first: the
migrations, the defaults, the demo user, then the README's first requests and the ledger check.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FIRST_REQUESTS = """
import json
from concurrent.futures import ThreadPoolExecutor
from django.db import connection
from django.test import Client
from wallets.models import Wallet

client = Client(HTTP_HOST="127.0.0.1")
token = client.post("/api/v1/auth/token/", {"username": "demo", "password": "demo-credits-2026"},
                    content_type="application/json").json()["access"]
auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
before = Wallet.objects.get(user__username="demo").current_balance
paid = client.get("/api/v1/profile/dev_dan/ai-insights", **auth)
repeat = client.get("/api/v1/profile/dev_dan/ai-insights", **auth)
invalid = client.get("/api/v1/profile/bad..name/posts", **auth)
after = Wallet.objects.get(user__username="demo").current_balance

def concurrent(name):  # 8 threads, each with its own SQLite connection, as runserver's threads
    try:
        response = Client(HTTP_HOST="127.0.0.1").get(f"/api/v1/profile/{name}/posts", **auth)
        return response.status_code, response.headers.get("X-Credits-Charged", "0")
    finally:
        connection.close()

with ThreadPoolExecutor(max_workers=8) as pool:
    racing = list(pool.map(concurrent, ["alice.travels", "bob_fitness", "chef.carla", "eco_emma"] * 2))
print(json.dumps({
    "paid": [paid.status_code, paid.headers.get("X-Credits-Charged")],
    "repeat": [repeat.status_code, repeat.headers.get("X-Credits-Charged")],
    "invalid": [invalid.status_code, invalid.json()["code"]],
    "spent": before - after,
    "dashboard": client.get("/api/v1/api/credits/dashboard", **auth).status_code,
    "racing_statuses": sorted({status for status, _ in racing}),
    "racing_charged": sum(int(charged) for _, charged in racing),
    "racing_spent": after - Wallet.objects.get(user__username="demo").current_balance,
    "balance": Wallet.objects.get(user__username="demo").current_balance,
}))
"""


def manage(*args, env) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-2000:])
    return result.stdout


def test_make_run_setup_and_first_requests_on_sqlite(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")},
        "DJANGO_SETTINGS_MODULE": "credits_platform.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LOG_LEVEL": "WARNING",
    }
    manage("migrate", "--noinput", env=env)
    manage("load_defaults", env=env)
    manage("create_demo_user", env=env)
    outcome = json.loads(manage("shell", "-c", FIRST_REQUESTS, env=env).strip().splitlines()[-1])
    assert outcome["paid"] == [200, "20"]  # ai_insights: 20 credits, no free allowance
    assert outcome["repeat"] == [200, "0"]  # inside its 24-hour access window
    assert outcome["invalid"] == [400, "invalid_username"]
    assert outcome["spent"] == 20
    assert outcome["dashboard"] == 200
    # Concurrent requests queue for SQLite's write lock: no 500, no overdraft, headers == balance drop.
    assert set(outcome["racing_statuses"]) <= {200, 402}, outcome
    assert outcome["racing_charged"] == outcome["racing_spent"] and outcome["balance"] >= 0
    manage("verify_ledger", env=env)
