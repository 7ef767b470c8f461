"""`common.db_calls.fetch_row`: what the gate's calls keep of Django's cursor (errors, broken
transactions, query logging, reconnection) and what they gain (a prepared statement)."""

import psycopg
import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from common.db_calls import fetch_row

pytestmark = pytest.mark.django_db

PROBE = "SELECT %s::integer + 1, 'db_calls probe'"


def prepared_probes() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%db_calls probe%"])
        return cursor.fetchone()[0]


def test_a_row_comes_back_with_its_values_bound_by_the_server():
    assert fetch_row(PROBE, [41]) == (42, "db_calls probe")
    assert fetch_row("SELECT 1 WHERE false", []) is None


def test_the_statement_is_prepared_once_the_connection_has_run_it_enough(settings):
    threshold = connection.connection.prepare_threshold
    assert threshold == int(settings.DB_PREPARE_THRESHOLD)  # DATABASES OPTIONS, from the setting
    before = prepared_probes()
    for n in range(threshold + 1):
        assert fetch_row(PROBE, [n]) == (n + 1, "db_calls probe")
    assert prepared_probes() == before + 1
    for n in range(5):
        fetch_row(PROBE, [n])
    assert prepared_probes() == before + 1  # prepared once, reused


def test_nothing_is_prepared_when_the_connection_says_so():
    raw = connection.connection
    threshold, raw.prepare_threshold = raw.prepare_threshold, None  # DB_PREPARE_THRESHOLD=none
    try:
        before = prepared_probes()
        for n in range(10):
            fetch_row(PROBE, [n])
        assert prepared_probes() == before
    finally:
        raw.prepare_threshold = threshold


def test_errors_arrive_as_djangos_with_the_drivers_sqlstate():
    with pytest.raises(DatabaseError) as raised, transaction.atomic():
        fetch_row("SELECT 1 / %s::integer", [0])
    assert raised.value.__cause__.sqlstate == "22012"  # division_by_zero
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE db_calls_probe (id integer PRIMARY KEY)")
    with pytest.raises(IntegrityError), transaction.atomic():
        fetch_row("INSERT INTO db_calls_probe VALUES (%s), (%s) RETURNING id", [1, 1])


def test_a_block_marked_for_rollback_is_refused_as_djangos_cursor_refuses_it():
    with transaction.atomic():
        transaction.set_rollback(True)
        with pytest.raises(TransactionManagementError):
            fetch_row("SELECT 1", [])
        with pytest.raises(TransactionManagementError):
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")  # the same answer as Django's own cursor


def test_calls_are_logged_where_django_logs_queries():
    with CaptureQueriesContext(connection) as captured:
        fetch_row(PROBE, [1])
    assert len(captured) == 1
    assert captured.captured_queries[0]["sql"].startswith(PROBE)
    assert "[1]" in captured.captured_queries[0]["sql"]


@pytest.mark.django_db(transaction=True)
def test_a_closed_connection_is_opened_again_with_a_new_cursor():
    fetch_row(PROBE, [1])
    first = connection._fetch_row_cursors[psycopg.Cursor]
    connection.close()  # e.g. CONN_MAX_AGE reached between two requests
    assert fetch_row(PROBE, [2]) == (3, "db_calls probe")
    assert connection._fetch_row_cursors[psycopg.Cursor] is not first
    assert connection._fetch_row_cursors[psycopg.Cursor].connection is connection.connection


@pytest.mark.django_db(transaction=True)
def test_bound_here_a_statement_sees_itself_start_its_transaction():
    """What the gate's reserve relies on to commit without waiting for the disk (its SQL-level test:
    `wallets/tests/test_purchase.py`): sent with the simple protocol, a statement outside a
    transaction starts its own; bound on the server, the transaction starts before it (at Bind)."""
    first = "SELECT transaction_timestamp() = statement_timestamp(), %s::integer"
    assert fetch_row(first, [1], bound_on_server=False) == (True, 1)
    assert fetch_row(first, [1]) == (False, 1)
    before = prepared_probes()
    for n in range(5):
        assert fetch_row(PROBE, [n], bound_on_server=False) == (n + 1, "db_calls probe")
    assert prepared_probes() == before  # bound here: never prepared
