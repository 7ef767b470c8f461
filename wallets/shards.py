"""Wallets grouped by the shard that holds their rows.

On Citus a statement that locks rows (`FOR UPDATE`, an UPDATE joined to a locked set) must stay
within one shard: Citus refuses to lock across shards. So a job that writes many wallets in one
statement (the monthly reset, a staff grant, the expiry announcements, the outbox's claim) sends
one statement per group of `by_shard`. On plain PostgreSQL every wallet is on the one server: the
whole set is one group, and the job runs as it always did.
"""

from collections.abc import Iterable

from django.db import connection

# Citus' own function: the shard of wallets_wallet that holds a wallet key (its colocated tables'
# shards hold the same wallets).
CITUS_SHARD_OF = "get_shard_id_for_distribution_column('wallets_wallet', {column})"

_distributed: dict[tuple, bool] = {}


def distributed() -> bool:
    """Whether this database distributes the wallets (Citus), asked once per database and process:
    a database's tables are distributed once, before the application serves it."""
    settings = connection.settings_dict
    key = (settings["HOST"], settings["PORT"], settings["NAME"])
    if key not in _distributed:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('pg_dist_partition') IS NOT NULL")
            (citus,) = cursor.fetchone()
            if citus:
                cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_dist_partition "
                               "WHERE logicalrelid = 'wallets_wallet'::regclass AND partmethod = 'h')")
                (citus,) = cursor.fetchone()
        _distributed[key] = bool(citus)
    return _distributed[key]


def shard_of(column: str) -> str:
    """An SQL expression of `column` (a wallet key) equal for the wallets of one shard: the shard's
    id on Citus, a constant on plain PostgreSQL (cast: a bare integer in GROUP BY is a position)."""
    return CITUS_SHARD_OF.format(column=column) if distributed() else "0::bigint"


def by_shard(wallet_ids: Iterable[int]) -> list[list[int]]:
    """`wallet_ids` in groups whose rows live on one shard, each in id order (the order locks are
    taken in); one group on plain PostgreSQL."""
    ids = sorted(set(wallet_ids))
    if not ids or not distributed():
        return [ids] if ids else []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT array_agg(id ORDER BY id) FROM unnest(%s::integer[]) AS id GROUP BY {shard_of('id')} "
                       "ORDER BY min(id)", [ids])
        return [list(group) for (group,) in cursor.fetchall()]
