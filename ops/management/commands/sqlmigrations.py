"""Write a migration for every app whose SQL files (`<app>/db/`) changed since its migrations' last
frozen copies; `--check` only says which (and fails), as `makemigrations --check` does."""

from django.core.management.base import BaseCommand, CommandError
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.writer import MigrationWriter

from common.sql_migrations import WriteSql
from common.sql_objects import sql_objects

HEADER = '''"""Frozen copies of {app}/db/ ({names}), written by `manage.py sqlmigrations`.

Do not edit: change the file under {app}/db/ and run the command again."""

from django.db import migrations

from common.sql_migrations import WriteSql

'''


def frozen_texts(loader: MigrationLoader, app_label: str) -> dict[str, str]:
    """{kind/name: text} as the app's migrations leave each object, in the order they apply."""
    texts = {}
    leaves = loader.graph.leaf_nodes(app_label)
    for key in loader.graph.forwards_plan(leaves[0]) if leaves else []:
        if key[0] != app_label:
            continue
        for operation in loader.graph.nodes[key].operations:
            if isinstance(operation, WriteSql):
                texts[f"{operation.kind}/{operation.name}"] = operation.sql
    return texts


def literal(text: str) -> str:
    return '"""' + text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + '"""'


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("app_label", nargs="*")
        parser.add_argument("--check", action="store_true", help="Exit with an error if a migration is missing.")

    def handle(self, *app_labels, check=False, **options):
        loader = MigrationLoader(None, ignore_no_migrations=True)
        objects = sql_objects()
        wanted = set(app_labels) or {o.app_label for o in objects}
        missing = False
        for app_label in sorted(wanted):
            frozen = frozen_texts(loader, app_label)
            changed = [o for o in objects if o.app_label == app_label and frozen.get(o.key) != o.text]
            if not changed:
                continue
            missing = True
            names = ", ".join(o.name for o in changed)
            if check:
                self.stdout.write(f"{app_label}: no migration for {names}")
                continue
            self.stdout.write(self._write(loader, app_label, changed, frozen, names))
        if check and missing:
            raise CommandError("SQL files changed without a migration: run manage.py sqlmigrations")
        if not missing:
            self.stdout.write("No changes in SQL files.")

    def _write(self, loader, app_label, changed, frozen, names) -> str:
        leaf = loader.graph.leaf_nodes(app_label)[0]
        number = int(leaf[1].split("_")[0]) + 1
        name = f"{number:04d}_sql_{changed[0].name}" + ("_and_more" if len(changed) > 1 else "")
        operations = []
        for obj in changed:
            previous = frozen.get(obj.key)
            args = [repr(obj.kind), repr(obj.name), literal(obj.text)]
            if previous is not None:
                args.append(f"previous={literal(previous)}")
            operations.append(f"        WriteSql(\n            {(',' + chr(10) + '            ').join(args)},\n        ),")
        body = (
            HEADER.format(app=app_label, names=names)
            + f"\nclass Migration(migrations.Migration):\n    dependencies = [{leaf!r}]\n\n"
            + "    operations = [\n" + "\n".join(operations) + "\n    ]\n"
        )
        path = MigrationWriter(type("M", (), {"app_label": app_label, "name": name})).basedir
        target = f"{path}/{name}.py"
        with open(target, "w") as handle:
            handle.write(body)
        return f"Wrote {target}"
