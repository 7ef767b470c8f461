"""What only a Citus cluster can show, run inside it by `test_citus.py` (TESTS_ON_CITUS; skipped
elsewhere): a paid request end to end, and its capture as one transaction on one shard of one
worker, told by Citus itself (`citus.log_remote_commands`)."""

import os
import re

import pytest
from django.db import connection

from instagram.tests.gate_fixtures import provider  # noqa: F401 (a fixture)
from testing.clients import client_for
from transactions.models import LedgerEntry
from wallets.models import Wallet
from wallets.services import purchase_capture, purchase_reserve

pytestmark = pytest.mark.skipif(not os.environ.get("TESTS_ON_CITUS"), reason="runs inside a Citus cluster only")

SHARD_SUFFIX = re.compile(r"\b([a-z_]+)_(\d{6,})\b")


def remote_commands(run) -> list[tuple[str, str]]:
    """(command, server) for every command the coordinator sent to a worker while `run()` ran."""
    seen = []
    raw = connection.connection

    def handler(notice):  # a notice is readable only during its callback
        seen.append((notice.message_primary or "", notice.message_detail or ""))

    raw.add_notice_handler(handler)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET citus.log_remote_commands = on")
        run()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET citus.log_remote_commands")
        raw.remove_notice_handler(handler)
    return [(text, detail) for text, detail in seen if text.startswith("issuing ")]


def shard_ids(wallet_id: int) -> set[int]:
    """The shards (of every colocated table) that hold `wallet_id`'s rows."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT get_shard_id_for_distribution_column(logicalrelid, %s)
            FROM pg_dist_partition WHERE colocationid = (
                SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'wallets_wallet'::regclass)""",
                       [wallet_id])
        return {shard for (shard,) in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_a_paid_gated_request_end_to_end(make_user, provider):
    user = make_user(balance=500)
    response = client_for(user).get("/api/v1/profile/dev_dan/posts")
    repeat = client_for(user).get("/api/v1/profile/dev_dan/posts")
    assert (response.status_code, response["X-Credits-Charged"]) == (200, "10"), response.content
    assert (repeat.status_code, repeat["X-Credits-Charged"]) == (200, "0")  # paid for already
    wallet = Wallet.objects.get(pk=user.pk)
    assert (wallet.current_balance, wallet.reserved) == (490, 0)
    assert LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="spend").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.xfail(strict=True, reason=(
    "the ledger writer's statement passes rows between its parts as CTEs (the wallet's new totals into the "
    "ledger row, the row's id into its allocations); Citus plans each data-modifying CTE on its own and ships "
    "its result to every worker, so the capture touches both workers and commits in two phases"))
def test_a_paid_capture_is_one_single_shard_transaction(make_user):
    user = make_user(balance=500)
    reservation = purchase_reserve(user_id=user.pk, action_type="profile_posts", reference="citus_shards", price=10)

    commands = remote_commands(lambda: purchase_capture(hold=reservation.hold))

    assert commands, "no remote command: is this a Citus coordinator with the tables distributed?"
    servers = {detail.split(" connectionId")[0] for _, detail in commands}
    assert len(servers) == 1, servers  # one worker, one connection's commands
    touched = {int(shard) for text, _ in commands for _, shard in SHARD_SUFFIX.findall(text)}
    assert touched and touched <= shard_ids(user.pk), (touched, shard_ids(user.pk))
    texts = [text for text, _ in commands]
    assert not any("PREPARE TRANSACTION" in text for text in texts), texts  # no two-phase commit
    assert sum(text.startswith("issuing COMMIT") for text in texts) == 1, texts
    assert purchase_capture(hold=reservation.hold).charged == 10  # and it was charged, once
