"""Timeouts suited to each path. Every connection starts with the web ones (settings:
DB_STATEMENT_TIMEOUT_MS, DB_LOCK_TIMEOUT_MS): a request never waits long on a statement or a row
lock. Batch jobs scan or lock whole tables on purpose; inside their transaction they take the
job's limits instead (`SET LOCAL`: gone at COMMIT, so a pooled connection returns to the web ones).
"""

from django.conf import settings
from django.db import connection


def use_job_timeouts() -> None:
    """Call inside `transaction.atomic()`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true)",
            [str(settings.DB_JOB_STATEMENT_TIMEOUT_MS), str(settings.DB_JOB_LOCK_TIMEOUT_MS)],
        )
