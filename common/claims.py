"""Values unique across all wallets, kept unique by a small table of their own.

On Citus a wallet's rows are spread by the wallet's key, so a table's UNIQUE constraints must
include that key: "one Stripe customer id for one wallet" can no longer be a constraint of the
wallet's table. Each such value gets a lookup table keyed by the value itself (one row: the value
and its owner), written in the transaction that writes the value (`claim`, or `CLAIMED` inside the
statement that writes it). Its primary key keeps the value unique whatever the tables are spread by
(on Citus the lookup table is distributed by the value).
"""

from django.db import IntegrityError, connection

# A CTE for a statement that writes the value: `claimed` has one row when the value is now (or
# was already) the owner's, none when another owner has it. Parameters %(value)s and %(owner)s.
CLAIMED = """WITH claimed AS (
    INSERT INTO {table} ({key}, {owner_column}) VALUES (%(value)s, %(owner)s)
    ON CONFLICT ({key}) DO UPDATE SET {owner_column} = EXCLUDED.{owner_column}
        WHERE {table}.{owner_column} = EXCLUDED.{owner_column}
    RETURNING 1
)
"""


def claim(*, table: str, key: str, value, owner_column: str, owner: int, source: str) -> None:
    """Record that `value` belongs to `owner`, in the caller's transaction. Claiming it again for
    the same owner is allowed (a row saved again); a claim whose row is gone from `source` (the
    table the value lives in, column `key`) passes to the new owner; IntegrityError if another
    owner's row has it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({key}, {owner_column}) VALUES (%s, %s) ON CONFLICT ({key}) DO NOTHING RETURNING 1",
            [value, owner],
        )
        if cursor.fetchone() is not None:
            return
        cursor.execute(f"SELECT {owner_column} FROM {table} WHERE {key} = %s", [value])
        row = cursor.fetchone()
        if row is not None and row[0] == owner:
            return
        if row is not None:
            cursor.execute(f"SELECT 1 FROM {source} WHERE {owner_column} = %s AND {key} = %s", [row[0], value])
            if cursor.fetchone() is None:  # its row is gone: the value is free again
                cursor.execute(f"UPDATE {table} SET {owner_column} = %s WHERE {key} = %s AND {owner_column} = %s",
                               [owner, value, row[0]])
                if cursor.rowcount == 1:
                    return
    raise IntegrityError(f'duplicate key value violates unique constraint "{table}_pkey" ({key}={value})')
