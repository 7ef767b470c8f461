"""A paid gated request end to end, run as a process of its own against the database that
TEST_DATABASE_URL names (`test_citus.py` points it at the Citus coordinator). Prints one JSON line.

    TEST_DATABASE_URL=postgres://...:9700/db python -m credits_platform.tests.citus_smoke
"""

import json
import os
import uuid

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credits_platform.settings.test")
django.setup()

from unittest import mock  # noqa: E402

from django.contrib.auth import get_user_model  # noqa: E402

from instagram.tests.gate_fixtures import ScriptedProvider  # noqa: E402
from testing.clients import client_for  # noqa: E402
from transactions.models import LedgerEntry  # noqa: E402
from wallets.models import Wallet  # noqa: E402
from wallets.services import credits_adjust  # noqa: E402


def main() -> None:
    user = get_user_model().objects.create_user(username=f"citus_{uuid.uuid4().hex[:10]}", password="x")
    credits_adjust(user_id=user.pk, amount=500, reason="citus smoke")
    before = Wallet.objects.get(pk=user.pk).current_balance
    with mock.patch("instagram.views.get_provider", lambda: ScriptedProvider()):
        response = client_for(user).get("/api/v1/profile/dev_dan/posts")
        repeat = client_for(user).get("/api/v1/profile/dev_dan/posts")
    wallet = Wallet.objects.get(pk=user.pk)
    print(json.dumps({
        "status": response.status_code,
        "charged": response.get("X-Credits-Charged"),
        "repeat_status": repeat.status_code,
        "repeat_charged": repeat.get("X-Credits-Charged"),
        "balance_before": before,
        "balance_after": wallet.current_balance,
        "reserved": wallet.reserved,
        "spends": LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="spend").count(),
    }))


if __name__ == "__main__":
    main()
