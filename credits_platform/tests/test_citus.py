"""The schema on Citus: the project's migrations and `citus_distribute` from an empty database.

The Citus tests run only when CITUS_TEST_URL names a Citus coordinator's database that has the
`citus` extension and its workers added (Citus does not create a database on the workers, so
neither can the test runner): the test empties it (every table, sequence, function and type of the
public schema; the extension's own views stay), then migrates it and distributes it as a
deployment would, in processes of their own. Whatever it held is lost.

    CITUS_TEST_URL=postgres://root@127.0.0.1:9700/citus_test pytest credits_platform/tests/test_citus.py

Without it, the plain-PostgreSQL checks still run: `citus_distribute` leaves a database without
the extension alone, and the values unique across wallets stay unique without UNIQUE constraints
on their own (one wallet per user, one team per user, the Stripe ids)."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from ops.management.commands.citus_distribute import LOOKUP_TABLES, REFERENCE_TABLES, WALLET_TABLES
from payments.models import StripeCustomer, Subscription, TopUp
from pricing.models import Package
from wallets.exceptions import AlreadyInTeam
from wallets.models import Membership, Wallet
from wallets.services.teams import member_add, team_create

ROOT = Path(__file__).resolve().parents[2]
CITUS_URL = os.environ.get("CITUS_TEST_URL")

EMPTY_PUBLIC_SCHEMA = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT string_agg(c.oid::regclass::text, ', ') AS names FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') LOOP
        IF r.names IS NOT NULL THEN
            EXECUTE 'DROP TABLE IF EXISTS ' || r.names || ' CASCADE';
        END IF;
    END LOOP;
    FOR r IN SELECT c.oid::regclass::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'S'
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') LOOP
        EXECUTE 'DROP SEQUENCE IF EXISTS ' || r.name || ' CASCADE';
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure::text AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'public'
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') LOOP
        EXECUTE 'DROP FUNCTION IF EXISTS ' || r.name || ' CASCADE';
    END LOOP;
    FOR r IN SELECT t.oid::regtype::text AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE n.nspname = 'public' AND (t.typtype IN ('e', 'd')
                   OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e') LOOP
        EXECUTE 'DROP TYPE IF EXISTS ' || r.name || ' CASCADE';
    END LOOP;
END $$;
"""
# (DROP SCHEMA public CASCADE would take the extension's views citus_tables and citus_schemas with it,
# and Citus refuses it.)

citus = pytest.mark.skipif(not CITUS_URL, reason="CITUS_TEST_URL names no Citus coordinator")

# Run inside the cluster, as they are (TESTS_ON_CITUS: in the distributed database itself): the
# gate's concurrency, the grant state machine with time travel (resets, expiry), the subscription
# and auto-recharge flows, the alerts and the delivery of events, and what only Citus can show.
ON_CITUS = [
    "credits_platform/tests/test_on_citus.py",
    "instagram/tests/test_gate_concurrency.py",
    "wallets/tests/test_ledger_state_machine.py",
    "wallets/tests/test_cycle.py",
    "wallets/tests/test_grants.py",
    "payments/tests/test_subscription_life.py",
    "payments/tests/test_subscription_events.py",
    "payments/tests/test_auto_recharge.py",
    "notifications/tests/test_alerts.py",
    "notifications/tests/test_delivery_pipeline.py",
]


# --- Plain PostgreSQL ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_citus_distribute_leaves_a_database_without_citus_alone():
    out = io.StringIO()
    call_command("citus_distribute", stdout=out)
    assert out.getvalue() == "citus is not installed in this database: nothing to distribute.\n"


@pytest.mark.django_db
def test_one_wallet_per_user_without_a_unique_user_column(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.create(id=user.pk + 100_000, user=user, package=Package.objects.get(is_default=True),
                              billing_cycle_start="2026-01-01")


@pytest.mark.django_db
def test_one_team_per_user_without_a_unique_user_column(make_user):
    owner, other_owner, member = make_user(), make_user(), make_user()
    team_create(user=owner, name="first")
    second = team_create(user=other_owner, name="second")
    member_add(actor=owner, username=member.username)
    with pytest.raises(AlreadyInTeam):
        member_add(actor=other_owner, username=member.username)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=member, team=second)
    # Leaving frees the seat.
    Membership.objects.get(user=member).delete()
    member_add(actor=other_owner, username=member.username)
    assert Membership.objects.get(user=member).team_id == second.pk


@pytest.mark.django_db
def test_stripe_ids_stay_unique_across_wallets(make_user):
    first, second = make_user(), make_user()
    TopUp.objects.create(wallet_id=first.pk, credits=10, amount_cents=100, provider_reference="cs_1")
    StripeCustomer.objects.create(wallet_id=first.pk, customer_id="cus_1")
    package = Package.objects.get(is_default=True)
    Subscription.objects.create(wallet_id=first.pk, stripe_subscription_id="sub_1", package=package)
    with pytest.raises(IntegrityError), transaction.atomic():
        TopUp.objects.create(wallet_id=second.pk, credits=10, amount_cents=100, provider_reference="cs_1")
    later = TopUp.objects.create(wallet_id=second.pk, credits=10, amount_cents=100)
    later.provider_reference = "cs_1"
    with pytest.raises(IntegrityError), transaction.atomic():
        later.save(update_fields=["provider_reference"])
    with pytest.raises(IntegrityError), transaction.atomic():
        StripeCustomer.objects.create(wallet_id=second.pk, customer_id="cus_1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(wallet_id=second.pk, stripe_subscription_id="sub_1", package=package)
    # Its own wallet saves them again freely.
    StripeCustomer.objects.get(wallet_id=first.pk).save()
    TopUp.objects.get(provider_reference="cs_1").save()


# --- Citus --------------------------------------------------------------------------------------


def manage(*args: str) -> subprocess.CompletedProcess:
    return in_cluster([sys.executable, "manage.py", *args], timeout=600)


def in_cluster(command: list[str], timeout: float, **env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TEST_DATABASE_URL": CITUS_URL, "DJANGO_SETTINGS_MODULE": "credits_platform.settings.test",
           **env}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def citus_tables(conn) -> dict[str, tuple[str, str, int]]:
    rows = conn.execute("SELECT table_name::text, citus_table_type, distribution_column, colocation_id FROM citus_tables")
    return {name: (kind, column, colocation) for name, kind, column, colocation in rows}


@pytest.fixture(scope="module")
def citus_db():
    with psycopg.connect(CITUS_URL, autocommit=True) as conn:
        workers = conn.execute("SELECT count(*) FROM pg_dist_node WHERE groupid <> 0 AND isactive").fetchone()[0]
        assert workers > 0, "CITUS_TEST_URL's coordinator has no workers"
        conn.execute(EMPTY_PUBLIC_SCHEMA)
    migrated = manage("migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr[-4000:]
    distributed = manage("citus_distribute")
    assert distributed.returncode == 0, distributed.stderr[-4000:]
    with psycopg.connect(CITUS_URL, autocommit=True) as conn:
        yield conn, distributed.stdout


@citus
def test_every_wallet_table_is_distributed_and_colocated_with_the_wallets(citus_db):
    conn, _ = citus_db
    tables = citus_tables(conn)
    anchor = tables["wallets_wallet"]
    assert anchor[:2] == ("distributed", "id")
    for table, column in WALLET_TABLES:
        assert tables.get(table) == ("distributed", column, anchor[2]), table
    for table in REFERENCE_TABLES:
        assert tables.get(table, ("missing",))[0] == "reference", table
    for table, column in LOOKUP_TABLES:
        assert tables.get(table, ("missing", ""))[:2] == ("distributed", column), table


@citus
def test_a_second_run_does_nothing(citus_db):
    conn, first_output = citus_db
    assert "wallets_wallet: distributed by id" in first_output
    before = citus_tables(conn)
    again = manage("citus_distribute")
    assert (again.returncode, again.stdout) == (0, "Every table is distributed already: nothing to do.\n"), again.stderr
    assert citus_tables(conn) == before


@citus
def test_triggers_on_citus_the_ledger_stays_immutable_and_a_rule_change_bumps_the_version(citus_db):
    conn, _ = citus_db
    version = conn.execute("SELECT version FROM pricing_rules_version").fetchone()[0]
    conn.execute("UPDATE pricing_pricingrule SET description = description || ''")
    assert conn.execute("SELECT version FROM pricing_rules_version").fetchone()[0] > version
    wallet = -990_001  # a team-like wallet of its own (negative keys), written directly and rolled back
    with conn.transaction(force_rollback=True):
        conn.execute("""
            INSERT INTO wallets_wallet (id, package_id, status, monthly_balance, purchased_balance, bonus_balance,
                reserved, billing_cycle_start, ledger_rows, low_balance_threshold, low_balance_state, recharge_enabled,
                recharge_threshold, recharge_monthly_limit, recharge_status, created_at, updated_at)
            SELECT %s, id, 'active', 0, 5, 0, 0, date_trunc('month', now())::date, 1, 20, 0, false, 0, 0, 'ok', now(), now()
            FROM pricing_package WHERE is_default""", [wallet])
        conn.execute("""
            INSERT INTO transactions_ledgerentry (wallet_id, transaction_type, amount, delta, balance_after, action_type,
                quantity, reference, description, created_at)
            VALUES (%s, 'adjustment', 5, 5, 5, '', 1, '', 'citus test', now())""", [wallet])
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="immutable"), conn.transaction():
            conn.execute("UPDATE transactions_ledgerentry SET description = 'changed' WHERE wallet_id = %s", [wallet])
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="immutable"), conn.transaction():
            conn.execute("DELETE FROM transactions_ledgerentry WHERE wallet_id = %s", [wallet])


@citus
def test_the_money_path_suites_pass_in_the_cluster(citus_db):
    run = in_cluster([sys.executable, "-m", "pytest", "-p", "no:randomly", "-rs", *ON_CITUS], timeout=3000,
                     TESTS_ON_CITUS="1")
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    summary = run.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary, summary
