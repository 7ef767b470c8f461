"""The migration operation that carries a frozen copy of one SQL object's text (`common.sql_objects`).

Written by `manage.py sqlmigrations`, never by hand: a migration keeps the text it was made with,
so applying it later (a new database, a test run) creates exactly what it created the first time,
whatever the files say by then. `previous` is the text it replaces (None: the object is new), which
is what running the migration backwards restores.
"""

from django.db import migrations

from .sql_objects import drop_statement, enum_labels, signature


class WriteSql(migrations.operations.base.Operation):
    reversible = True
    reduces_to_sql = True

    def __init__(self, kind: str, name: str, sql: str, previous: str | None = None):
        self.kind, self.name, self.sql, self.previous = kind, name, sql, previous

    def deconstruct(self):
        kwargs = {"previous": self.previous} if self.previous is not None else {}
        return self.__class__.__name__, [self.kind, self.name, self.sql], kwargs

    def state_forwards(self, app_label, state):
        pass  # the database's code, not Django's models

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        schema_editor.execute(self._change(self.previous, self.sql), params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if self.previous is None:
            schema_editor.execute(drop_statement(self.kind, self.name, self.sql), params=None)
        else:
            schema_editor.execute(self._change(self.sql, self.previous), params=None)

    def _change(self, old: str | None, new: str) -> str:
        if old is None:
            return new
        if self.kind == "functions":
            if signature(old) != signature(new):
                # CREATE OR REPLACE can change neither the arguments (that would add an overload)
                # nor what a function returns: the old one goes first.
                return f"{drop_statement(self.kind, self.name, old)};\n{new}"
            return new  # CREATE OR REPLACE FUNCTION
        if self.kind == "types":
            # An enum only grows: PostgreSQL cannot drop a label, and rows or functions may use it.
            added = [label for label in enum_labels(new) if label not in enum_labels(old)]
            return ";\n".join(f"ALTER TYPE {self.name} ADD VALUE IF NOT EXISTS '{label}'" for label in added) or "SELECT 1"
        return f"{drop_statement(self.kind, self.name, old)};\n{new}"

    def describe(self):
        return f"Write SQL {self.kind[:-1]} {self.name}"

    @property
    def migration_name_fragment(self):
        return f"sql_{self.name}"
