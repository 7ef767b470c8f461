"""One row from one statement on Django's connection, the way the money path's hot calls need it:
server-side binding and, where the connection allows, a prepared statement.

Django's cursors bind parameters on the client (the SQL travels with its values inlined), so
PostgreSQL parses and plans every statement again, and each call pays for Django's cursor and
wrappers besides. For the few statements a paid request makes on every call (the gate's ask,
reserve and capture: a function call each), that was about a third of their cost in Python. Here
a psycopg cursor per connection is reused, the parameters travel apart from the SQL, and psycopg
prepares a statement once the connection has run it `prepare_threshold` times (DATABASES OPTIONS;
Django's default, None, prepares nothing: for PgBouncer in transaction mode before 1.21).

What Django's cursor gives and a caller relies on is kept: the connection is opened (and health
checked) as Django opens it, errors arrive as `django.db` errors (the driver's as `__cause__`, with
its `sqlstate`), a statement in a broken atomic block is refused, and the statement is logged when
Django logs queries (`CaptureQueriesContext`, DEBUG), so query budgets still count it."""

import time
from collections.abc import Sequence

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections


def fetch_row(sql: str, params: Sequence, *, bound_on_server: bool = True) -> tuple | None:
    """Run `sql` (with `%s` placeholders) and return its first row, or None.

    `bound_on_server=False` binds the parameters here and sends the statement with the simple
    protocol, never prepared: for SQL that must see its statement start its transaction
    (`transaction_timestamp() = statement_timestamp()`), which under the extended protocol is never
    true (the transaction starts at Bind, the statement at Execute)."""
    return _run(sql, params, bound_on_server, lambda cursor: cursor.fetchone())


def fetch_rows(sql: str, params: Sequence) -> list[tuple]:
    """Every row of one statement, as `fetch_row` runs it (bound on the server)."""
    return _run(sql, params, True, lambda cursor: cursor.fetchall())


def _run(sql: str, params: Sequence, bound_on_server: bool, fetch):
    # The connection of this thread, looked up once: each attribute read through Django's
    # `connection` proxy is a thread-local lookup, seven of them per call.
    connection = connections[DEFAULT_DB_ALIAS]
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        cursor = _cursor(connection, psycopg.Cursor if bound_on_server else psycopg.ClientCursor)
        started = time.monotonic()
        try:
            cursor.execute(sql, params)
            return fetch(cursor)
        finally:
            if connection.queries_logged:
                connection.queries_log.append(
                    {"sql": f"{sql} -- {list(params)!r}", "time": f"{time.monotonic() - started:.3f}"}
                )


def _cursor(connection, kind: type[psycopg.Cursor]) -> psycopg.Cursor:
    # As Django opens a cursor: the health check owed to a request's first statement, then connect.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    cursors = getattr(connection, "_fetch_row_cursors", None)
    if cursors is None or cursors["connection"] is not raw:
        cursors = connection._fetch_row_cursors = {"connection": raw}
    cursor = cursors.get(kind)
    if cursor is None or cursor.closed:
        cursor = cursors[kind] = kind(raw)
    return cursor
