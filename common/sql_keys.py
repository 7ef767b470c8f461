"""SQL for migrations that change a table's primary key (whatever the current one is named).

Used by the migrations that put the wallet's key in every per-wallet table's primary key (the
distribution column on Citus); Django's model state keeps `id` as the primary key (it stays unique:
it comes from a sequence), only the database's key changes."""


def primary_key(table: str, columns: str, *, cascade: bool = False) -> str:
    """Make `columns` the primary key of `table` (named `<table>_pkey`). With `cascade`, foreign
    keys that depended on the old key are dropped with it (the caller makes their replacements)."""
    return f"""
DO $$
DECLARE pk text;
BEGIN
    SELECT conname INTO pk FROM pg_constraint WHERE conrelid = '{table}'::regclass AND contype = 'p';
    EXECUTE format('ALTER TABLE {table} DROP CONSTRAINT %I{" CASCADE" if cascade else ""}', pk);
END $$;
ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY ({columns});
"""
