"""The embedded PostgreSQL of `make run`: the `pgserver` package's binaries, data under CREDITS_DATA_DIR.

`embedded_database` starts the server (or attaches to the one already running on that folder:
pgserver counts the processes holding it and stops it when the last one exits) and returns the
Django DATABASES entry for its `credits` database, created on first use. The server listens on a
Unix socket in its data folder only, so it never clashes with a PostgreSQL on port 5432.
"""

import warnings
from pathlib import Path
from urllib.parse import quote

import dj_database_url

DATABASE_NAME = "credits"
ROLE = "postgres"

_servers: dict[Path, object] = {}  # keep the handle for the life of the process


def embedded_url(data_dir: Path) -> str:
    """Start (or attach to) the embedded server and return a postgres:// URL for its database."""
    with warnings.catch_warnings():
        # pgserver asks platformdirs for the runtime folder when imported; without XDG_RUNTIME_DIR
        # (ssh, containers, cron) platformdirs warns and falls back to /tmp/runtime-$UID, which every
        # process of the stack then shares alike: the lock folder pgserver needs, nothing to warn about.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver
    import psycopg

    pgdata = (Path(data_dir) / "postgres").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = _servers.get(pgdata) or pgserver.get_server(pgdata, cleanup_mode="stop")
    _servers[pgdata] = server
    socket_dir = server.get_postmaster_info().socket_dir
    url = f"postgres://{ROLE}@{quote(str(socket_dir), safe='')}/{DATABASE_NAME}"
    with psycopg.connect(f"host={socket_dir} user={ROLE} dbname=postgres", autocommit=True, connect_timeout=10) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return url


def embedded_database(data_dir: Path) -> dict:
    return dj_database_url.parse(embedded_url(data_dir), conn_max_age=60, conn_health_checks=True)
