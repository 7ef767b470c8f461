"""The test profile: the local PostgreSQL (TEST_DATABASE_URL), fast hashing, eager Celery."""

import os

import dj_database_url

from .base import *  # noqa: F401,F403

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("TEST_DATABASE_URL", "postgres://root@127.0.0.1:5432/credits"),
        conn_max_age=0,
    )
}
with_db_options(DATABASES["default"])  # noqa: F405
# psycopg measures its connect deadline on the clock time-machine moves: travelling tests would
# time out while connecting. Statement and lock timeouts (server side) stay on.
DATABASES["default"]["OPTIONS"].pop("connect_timeout")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
REST_FRAMEWORK = {  # noqa: F405
    **REST_FRAMEWORK,  # noqa: F405
    # High enough for concurrency tests; throttling tests lower them explicitly.
    "DEFAULT_THROTTLE_RATES": {"gated": "100000/min", "auth": "100000/min"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
