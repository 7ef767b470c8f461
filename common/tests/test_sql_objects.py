"""The migrated database runs what the SQL files say (common.sql_objects), and nothing else by those
names: a file changed without a migration, or a migration edited without its file, fails here."""

from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from common.sql_objects import enum_labels, sql_objects

pytestmark = pytest.mark.django_db

SCRATCH = "sql_file_check"


def differences() -> list[str]:
    """What differs between each file and the database, as readable lines (empty: they agree)."""
    found = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {SCRATCH}; SET LOCAL search_path = {SCRATCH}, public")
        for obj in sql_objects():
            if obj.kind == "functions":
                found += _function_differences(cursor, obj)
            elif obj.kind == "types":
                found += _type_differences(cursor, obj)
            else:
                found += _trigger_differences(cursor, obj)
        transaction.set_rollback(True)  # the scratch schema and everything in it go
    return found


def _function_differences(cursor, obj) -> list[str]:
    cursor.execute("SELECT p.oid FROM pg_proc p WHERE p.proname = %s AND p.pronamespace = 'public'::regnamespace",
                   [obj.name])
    live = [oid for (oid,) in cursor.fetchall()]
    if len(live) != 1:
        return [f"{obj.path}: {len(live)} functions named {obj.name} in the database, expected 1"]
    cursor.execute(obj.text)  # unqualified, so created in the scratch schema, first on the search path
    cursor.execute(
        "SELECT pg_get_functiondef(%s), pg_get_functiondef(p.oid) FROM pg_proc p "
        "WHERE p.proname = %s AND p.pronamespace = %s::regnamespace", [live[0], obj.name, SCRATCH],
    )
    migrated, from_file = cursor.fetchone()
    if migrated != from_file.replace(f"{SCRATCH}.", "public.", 1):
        return [f"{obj.path}: the database's {obj.name} is not the file's"]
    return []


def _type_differences(cursor, obj) -> list[str]:
    cursor.execute(
        "SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
        "WHERE t.typname = %s AND t.typnamespace = 'public'::regnamespace", [obj.name],
    )
    (labels,) = cursor.fetchone()
    if labels != enum_labels(obj.text):
        return [f"{obj.path}: the database's {obj.name} has {labels}, the file {enum_labels(obj.text)}"]
    return []


def _trigger_differences(cursor, obj) -> list[str]:
    cursor.execute("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = %s AND NOT tgisinternal", [obj.name])
    # Names printed qualified or not depending on the search path: compared without the schema.
    live = [definition.replace("public.", "") for (definition,) in cursor.fetchall()]
    if live != [" ".join(obj.text.split()).replace("public.", "")]:
        return [f"{obj.path}: the database has {live}"]
    return []


def test_the_database_runs_what_the_files_say():
    assert differences() == []


def test_every_file_has_its_migration():
    call_command("sqlmigrations", "--check")


def test_a_file_changed_without_a_migration_is_found(monkeypatch):
    """The check itself can fail: a changed function body, enum and trigger are each reported."""
    objects = {o.name: o for o in sql_objects()}
    changed = {
        "wallets_spend_plan": objects["wallets_spend_plan"].text.replace("ORDER BY g.priority,", "ORDER BY g.id,"),
        "wallets_settle_outcome": objects["wallets_settle_outcome"].text.replace("'missing',", "'missing', 'lost',"),
        "ledger_immutable": objects["ledger_immutable"].text.replace("BEFORE DELETE OR UPDATE", "BEFORE DELETE"),
    }
    for name, text in changed.items():
        obj = objects[name]
        objects[name] = SimpleNamespace(kind=obj.kind, name=obj.name, path=obj.path, text=text)
    monkeypatch.setattr("common.tests.test_sql_objects.sql_objects", lambda: list(objects.values()))
    reported = "\n".join(differences())
    for name in changed:
        assert name in reported


def test_a_function_whose_result_changes_is_dropped_first():
    """CREATE OR REPLACE can change a body, not a function's arguments or result: the migration
    drops the old one first in that case only (a trigger's function keeps its trigger)."""
    from common.sql_migrations import WriteSql

    old = "CREATE OR REPLACE FUNCTION f(p integer, OUT a integer)\nLANGUAGE plpgsql AS $$ BEGIN a := p; END $$;"
    new_body = old.replace("a := p", "a := p + 1")
    new_result = old.replace("OUT a integer)", "OUT a integer, OUT b integer)")
    assert WriteSql("functions", "f", new_body, previous=old)._change(old, new_body) == new_body
    assert WriteSql("functions", "f", new_result, previous=old)._change(old, new_result).startswith("DROP FUNCTION f;")
