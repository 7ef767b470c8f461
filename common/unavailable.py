"""A database that cannot answer is a 503 `service_unavailable` with Retry-After, never a 500.

Covers the server being down or restarting (connection refused or lost) and a statement or lock
wait cut short by the timeouts in settings (`DB_STATEMENT_TIMEOUT_MS`, `DB_LOCK_TIMEOUT_MS`): in
every case the transaction rolled back, nothing changed, and the same request can simply be
retried. DRF views reach this through the exception handler; everything else (admin, middleware)
through the 500 handler (`common.errors.server_error`), which looks at the exception.
"""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError

logger = logging.getLogger("credits.unavailable")

DETAIL = "The service is briefly unavailable (database). Nothing was changed; please retry."


def is_database_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError))


def unavailable_body() -> dict:
    return {"detail": DETAIL, "code": "service_unavailable"}


def retry_after() -> str:
    return str(settings.RETRY_AFTER_SECONDS)


def log_unavailable(exc: BaseException, where) -> None:
    logger.error("database unavailable in %s: %s: %s", where, type(exc).__name__, str(exc).strip()[:300])
