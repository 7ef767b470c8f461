"""`make run`: the embedded stack (see `ops/embedded.py`), demo provider, DEBUG on unless told otherwise.

`python -m ops.embedded` sets DATABASE_URL (an embedded PostgreSQL) and CELERY_BROKER_URL (kombu's
filesystem transport) before starting the web server, the worker and beat; `manage.py` run by
hand while it is up finds the same database through the same defaults.
"""

import os

# With a host named, kombu does not warn "No hostname was supplied" whenever a command publishes a task.
os.environ.setdefault("CELERY_BROKER_URL", "filesystem://localhost/")

from .base import *  # noqa: E402,F401,F403
from .base import DATABASES, CREDITS_DATA_DIR, env_bool, env_origins, with_db_options  # noqa: E402

DEBUG = env_bool("DEBUG", True)

if "DATABASE_URL" not in os.environ:
    from ops.embedded import embedded_database  # noqa: E402

    DATABASES["default"] = with_db_options(embedded_database(CREDITS_DATA_DIR))

# The common local frontend dev servers (Vite, Create React App / Next.js, Vue CLI).
CORS_ALLOWED_ORIGINS = env_origins(
    "CORS_ALLOWED_ORIGINS",
    "http://localhost:5173,http://127.0.0.1:5173,http://localhost:3000,http://127.0.0.1:3000,http://localhost:8080",
)

# Webhooks to receivers on this machine, and email printed to the console.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", True)
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
