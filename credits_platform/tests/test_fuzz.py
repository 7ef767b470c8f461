"""Schemathesis against the served OpenAPI schema, over real HTTP, with a real token.

A short run (the fuzzing phase, a few examples per operation) is part of the suite; `make fuzz`
runs every phase (coverage included) with more examples (FUZZ_EXAMPLES, FUZZ_PHASES). Checked: no 5xx, responses match the schema (status codes, bodies, content
types), and data that breaks the schema is rejected with a 4xx. Top-up checkout and the card
setup of auto-recharge are left out: they call the payment provider (covered against a fake Stripe
server in payments/tests).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from testing.clients import client_for  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
# Every check but positive_data_acceptance: the API refuses some schema-valid input on purpose,
# for rules a schema cannot state (password strength, a Stripe signature, a resource that exists).
CHECKS = os.environ.get("FUZZ_CHECKS", "all")
EXCLUDED_CHECKS = os.environ.get("FUZZ_EXCLUDE_CHECKS", "positive_data_acceptance")


def schemathesis_cli() -> str | None:
    return shutil.which("schemathesis") or (
        str(Path(sys.executable).with_name("schemathesis")) if Path(sys.executable).with_name("schemathesis").exists() else None
    )


def test_schema_fuzzing(live_server, make_user, settings):
    cli = schemathesis_cli()
    assert cli, "schemathesis is not installed (it is in requirements.txt)"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_fuzz"  # unsigned fuzz deliveries must get a 400, not a 503
    user = make_user(balance=100_000)
    token = RefreshToken.for_user(user).access_token
    examples = os.environ.get("FUZZ_EXAMPLES", "3")
    result = subprocess.run(
        [
            cli, "run", f"{live_server.url}/api/v1/schema/",
            "-H", f"Authorization: Bearer {token}",
            "-n", examples, "--checks", CHECKS, "--exclude-checks", EXCLUDED_CHECKS,
            "--exclude-path-regex", "checkout|auto-recharge/setup",
            "--seed", os.environ.get("FUZZ_SEED", "20261124"),
            "--request-timeout", "20",
            "--phases", os.environ.get("FUZZ_PHASES", "fuzzing"),
        ],
        capture_output=True, text=True, timeout=1200,
    )
    summary = result.stdout[-4000:]
    assert result.returncode == 0, summary
