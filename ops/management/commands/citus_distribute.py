"""Spread the tables over a Citus cluster: wallet-scoped tables distributed by the wallet's key,
colocated with wallets_wallet (a wallet's rows on one node); the small shared tables (users,
pricing, webhook endpoints) as reference tables copied to every node; the lookup tables of values
unique across wallets (`common.claims`, wallets_teamseat) distributed by their own key. Tables that
stay on the coordinator but reference a reference table are added to Citus' metadata.

Acts only where the `citus` extension is installed (one line and exit 0 elsewhere), after
`migrate`. Idempotent: a table already known to Citus is left as it is, so a second run does
nothing."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

# In this order: a table's foreign keys point at tables converted before it.
REFERENCE_TABLES = [
    "auth_user",
    "pricing_package",
    "pricing_topuptier",
    "pricing_rules_version",
    "pricing_pricingrule",  # its trigger bumps pricing_rules_version (coordinator only)
    "pricing_bulktier",
    "notifications_endpoint",
    "notifications_preference",
]

ANCHOR = "wallets_wallet"  # every wallet-scoped table is colocated with it
WALLET_TABLES = [  # (table, its wallet key)
    ("wallets_wallet", "id"),
    ("wallets_team", "wallet_id"),
    ("wallets_membership", "team_id"),
    ("wallets_hold", "wallet_id"),
    ("wallets_grant", "wallet_id"),
    ("wallets_allowanceusage", "wallet_id"),
    ("wallets_memberusage", "wallet_id"),
    ("wallets_recharge", "wallet_id"),
    ("wallets_access", "wallet_id"),
    ("transactions_ledgerentry", "wallet_id"),  # its immutability trigger runs on every shard
    ("transactions_ledgerallocation", "wallet_id"),
    ("transactions_topup", "wallet_id"),
    ("payments_stripecustomer", "wallet_id"),
    ("payments_subscription", "wallet_id"),
    ("outbox_outboxevent", "wallet_id"),
    ("notifications_delivery", "wallet_id"),
    ("notifications_deliveryattempt", "wallet_id"),
]

LOOKUP_TABLES = [  # (table, the value it keeps unique across wallets)
    ("wallets_teamseat", "user_id"),
    ("payments_topupreference", "provider_reference"),
    ("payments_customerreference", "customer_id"),
    ("payments_subscriptionreference", "stripe_subscription_id"),
]

# Plain tables (staying on the coordinator) with a foreign key to a table Citus now manages.
LOCAL_WITH_CITUS_FKS = """
SELECT DISTINCT c.conrelid::regclass::text
FROM pg_constraint c
WHERE c.contype = 'f'
  AND c.confrelid IN (SELECT logicalrelid FROM pg_dist_partition)
  AND c.conrelid NOT IN (SELECT logicalrelid FROM pg_dist_partition)
ORDER BY 1
"""


def citus_installed() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'")
        return cursor.fetchone() is not None


def citus_kinds() -> dict[str, str]:
    """{table: 'distributed' | 'reference' | 'local'} for the tables Citus manages."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT logicalrelid::regclass::text,
                   CASE WHEN partmethod = 'h' THEN 'distributed'
                        WHEN repmodel = 't' THEN 'reference' ELSE 'local' END
            FROM pg_dist_partition""")
        return dict(cursor.fetchall())


def trigger_definitions(cursor, table: str) -> dict[str, str]:
    cursor.execute("SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s::regclass "
                   "AND NOT tgisinternal ORDER BY tgname", [table])
    return dict(cursor.fetchall())


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        if not citus_installed():
            self.stdout.write("citus is not installed in this database: nothing to distribute.")
            return
        kinds = citus_kinds()
        wanted = ([(table, "reference") for table in REFERENCE_TABLES]
                  + [(table, "distributed") for table, _ in WALLET_TABLES + LOOKUP_TABLES])
        wrong = [f"{table} is a {kinds[table]} table (wanted: {kind})"
                 for table, kind in wanted if table in kinds and kinds[table] != kind]
        if wrong:
            raise CommandError("; ".join(wrong) + ". Undo it (undistribute_table) and run this again.")
        done = 0
        with connection.cursor() as cursor:
            # Otherwise making auth_user a reference table turns every table linked to it by foreign
            # keys into a Citus local table, which then cannot be distributed.
            cursor.execute("SET citus.enable_local_reference_table_foreign_keys = off")
            # The pricing version trigger and the ledger's immutability trigger (both checked on
            # every node's copy; see their SQL).
            cursor.execute("SET citus.enable_unsafe_triggers = on")
            try:
                missing = [table for table in REFERENCE_TABLES if table not in kinds]
                self._references(cursor, missing)
                done += len(missing)
                for table, column in WALLET_TABLES:
                    if table not in kinds:
                        colocate = "none" if table == ANCHOR else ANCHOR
                        self._run(cursor, "SELECT create_distributed_table(%s, %s, colocate_with => %s)",
                                  [table, column, colocate], f"{table}: distributed by {column}")
                        done += 1
                for table, column in LOOKUP_TABLES:
                    if table not in kinds:
                        self._run(cursor, "SELECT create_distributed_table(%s, %s, colocate_with => 'none')",
                                  [table, column], f"{table}: distributed by {column}")
                        done += 1
                cursor.execute(LOCAL_WITH_CITUS_FKS)
                for (table,) in cursor.fetchall():
                    if table not in citus_kinds():  # a cascade of an earlier one may have added it
                        self._run(cursor, "SELECT citus_add_local_table_to_metadata(%s, cascade_via_foreign_keys => true)",
                                  [table], f"{table}: stays on the coordinator, in Citus' metadata")
                        done += 1
            finally:
                cursor.execute("RESET citus.enable_unsafe_triggers")
                cursor.execute("RESET citus.enable_local_reference_table_foreign_keys")
        self.stdout.write(f"{done} tables converted." if done else "Every table is distributed already: nothing to do.")

    def _references(self, cursor, tables: list[str]) -> None:
        """Make `tables` reference tables, in their order. A table with triggers is made one empty,
        its rows put back afterwards with triggers off (the same rows: nothing to announce), all in
        one transaction: Citus creates the triggers on the table's copies only when they exist as it
        converts it, and copying the rows into them would fire the pricing version's trigger, whose
        distributed UPDATE Citus refuses from there."""
        triggered = [table for table in tables if trigger_definitions(cursor, table)]
        with transaction.atomic():
            for table in triggered:
                cursor.execute(f"CREATE TEMP TABLE citus_stash_{table} ON COMMIT DROP AS TABLE {table}")
            if triggered:
                cursor.execute(f"TRUNCATE {', '.join(triggered)}")
            for table in tables:
                self._run(cursor, "SELECT create_reference_table(%s)", [table], f"{table}: reference table")
            if triggered:
                cursor.execute("SET LOCAL session_replication_role = replica")
            for table in triggered:
                cursor.execute(f"INSERT INTO {table} SELECT * FROM citus_stash_{table}")

    def _run(self, cursor, sql: str, params: list, what: str) -> None:
        cursor.execute(sql, params)
        self.stdout.write(what)
