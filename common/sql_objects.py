"""The database's own code, one file per object: what a function, type or trigger says today.

Each installed app may keep, under `<app>/db/`:

    types/<name>.sql       CREATE TYPE <name> AS ENUM (...)     (outcomes shared with Python enums)
    functions/<name>.sql   CREATE OR REPLACE FUNCTION <name>(...) (one function, no overloads)
    triggers/<name>.sql    CREATE TRIGGER <name> ... ON <table> ... (one line, as PostgreSQL prints it)

The file is the definition a reader opens. Migrations carry frozen copies of these texts
(`common.sql_migrations.WriteSql`, written by `manage.py sqlmigrations`), so a migration applied
once means the same thing forever; `common/tests/test_sql_objects.py` holds the migrated database
to the files. Created in this order: types, then functions, then triggers.
"""

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from django.apps import apps

KINDS = ("types", "functions", "triggers")

_TRIGGER_TABLE = re.compile(r"\bON\s+([\w.]+)", re.IGNORECASE)
_ENUM_LABELS = re.compile(r"'((?:[^']|'')*)'")


@dataclass(frozen=True)
class SqlObject:
    app_label: str
    kind: str
    name: str
    path: Path

    @cached_property
    def text(self) -> str:
        return self.path.read_text()

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.name}"


def sql_objects(app_label: str | None = None) -> list[SqlObject]:
    """Every SQL object of the installed apps (or of one), in creation order."""
    found = []
    for config in apps.get_app_configs():
        if app_label is not None and config.label != app_label:
            continue
        for kind in KINDS:
            folder = Path(config.path) / "db" / kind
            for path in sorted(folder.glob("*.sql")) if folder.is_dir() else []:
                found.append(SqlObject(config.label, kind, path.stem, path))
    return sorted(found, key=lambda o: (KINDS.index(o.kind), o.app_label, o.name))


def drop_statement(kind: str, name: str, text: str) -> str:
    """What undoes the creation of an object (a migration's way back to before it existed)."""
    if kind == "functions":
        return f"DROP FUNCTION {name}"
    if kind == "types":
        return f"DROP TYPE {name}"
    table = _TRIGGER_TABLE.search(text)
    return f"DROP TRIGGER {name} ON {table.group(1)}"


def enum_labels(text: str) -> list[str]:
    """The labels of a `CREATE TYPE ... AS ENUM (...)` text, in order."""
    code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())  # no comments
    body = code[code.index("(") + 1:code.rindex(")")]
    return [label.replace("''", "'") for label in _ENUM_LABELS.findall(body)]


_SIGNATURE = re.compile(r"FUNCTION\s+(.*?)(?:\bLANGUAGE\b|\bAS\s+\$)", re.IGNORECASE | re.DOTALL)


def signature(text: str) -> str:
    """A function's name, arguments and result as written, whitespace aside (comments dropped)."""
    code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    match = _SIGNATURE.search(code)
    return " ".join(match.group(1).split()) if match else ""
