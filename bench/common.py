"""Shared by the benchmarks: a scratch database of their own, never the app's or the tests'."""

import os

BENCH_DB = os.environ.get("BENCH_DATABASE", "credits_bench")
SERVER = os.environ.get("BENCH_SERVER_URL", "postgres://root@127.0.0.1:5432")


def recreate_database() -> str:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return f"{SERVER}/{BENCH_DB}"


def setup_django(settings_module: str = "credits_platform.settings.local") -> None:
    os.environ["DATABASE_URL"] = f"{SERVER}/{BENCH_DB}"
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    os.environ["DEBUG"] = "0"
    # Tasks a benchmark's setup queues (e.g. a top-up's event) go nowhere: not to a shared broker,
    # nor to `make run`'s filesystem queue, which may not exist.
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
