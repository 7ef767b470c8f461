"""Settings shared by every profile; every deploy-specific value comes from the environment."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from corsheaders.defaults import default_headers

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_origins(name: str, default: str) -> list[str]:
    """Comma-separated origins; a trailing slash is dropped (django-cors-headers refuses paths)."""
    return [origin.rstrip("/") for origin in env_list(name, default)]


SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-local-development-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "corsheaders",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "common",
    "pricing",
    "outbox",
    "wallets",
    "transactions",
    "payments",
    "instagram",
    "ops",
    "notifications",
    "webapp",
]

MIDDLEWARE = [
    "common.request_logging.RequestLogMiddleware",
    # Just inside the request log (which then logs the final status): rewrites Django's own HTML
    # error pages (DEBUG's 404 page, empty 405s) as JSON.
    "common.json_errors.JsonErrorsMiddleware",
    # As high as possible and before CommonMiddleware (django-cors-headers' instructions), so
    # preflights are answered before anything else, authentication included. Below the request
    # log, so preflights are logged and carry X-Request-ID too.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "credits_platform.urls"
WSGI_APPLICATION = "credits_platform.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL only. `make run` starts an embedded server (`ops/embedded.py`) and passes its URL here.
DATABASES = {
    "default": dj_database_url.config(
        default="postgres://root@127.0.0.1:5432/credits",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

REDIS_URL = os.environ.get("REDIS_URL", "")
# Redis answers in well under a millisecond; a Redis that has not answered in these many seconds
# is down or hung, and the cache falls back to process memory (see common/cache.py).
REDIS_CONNECT_TIMEOUT_SECONDS = float(os.environ.get("REDIS_CONNECT_TIMEOUT_SECONDS", "0.5"))
REDIS_SOCKET_TIMEOUT_SECONDS = float(os.environ.get("REDIS_SOCKET_TIMEOUT_SECONDS", "0.5"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "common.cache.FailoverCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
                "FAILOVER_SECONDS": float(os.environ.get("REDIS_FAILOVER_SECONDS", "5")),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "wallets.authentication.JWTAuthenticationWithTeam",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["common.parsers.BoundedJSONParser"],  # JSON_MAX_DEPTH
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "common.openapi.ErrorsAutoSchema",  # each operation's own errors
    "EXCEPTION_HANDLER": "common.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Scoped throttles (counters in the default cache: Redis when REDIS_URL is set).
    "DEFAULT_THROTTLE_RATES": {
        "gated": os.environ.get("THROTTLE_GATED", "120/min"),
        "auth": os.environ.get("THROTTLE_AUTH", "20/min"),
    },
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=int(os.environ.get("JWT_ACCESS_MINUTES", "30"))),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=int(os.environ.get("JWT_REFRESH_DAYS", "7"))),
    "AUTH_HEADER_TYPES": ("Bearer",),
    # A refresh hands out a new refresh token and revokes the old one (logout revokes too).
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Access tokens whose user id claim is checked before any query (credits_platform/tokens.py).
    "AUTH_TOKEN_CLASSES": ("accounts.tokens.AccessToken",),
}

# CORS for browser frontends on other origins (comma-separated, scheme://host[:port]); none by
# default, the usual local dev servers in `make run` (settings/local.py).
CORS_ALLOWED_ORIGINS = env_origins("CORS_ALLOWED_ORIGINS", "")
CORS_URLS_REGEX = r"^/api/"
# Authorization is in the library's default request headers already; the gate reads Idempotency-Key.
CORS_ALLOW_HEADERS = (*default_headers, "idempotency-key")
CORS_EXPOSE_HEADERS = [
    "X-Credits-Charged",
    "X-Credits-Remaining",
    "X-Credits-Required",
    "X-Credits-Available",
    "X-Credits-Needed",
    "X-Request-ID",
    "Idempotent-Replayed",  # a POST's answer replayed for a retry with the same Idempotency-Key
]

API_DESCRIPTION = """Credit wallets, pricing, ledger and credit-gated Instagram analytics.

## Getting a token

1. Create an account (once): `POST /api/v1/auth/register/` with
   `{"username": "ada", "email": "ada@example.com", "password": "correct-horse-42"}`.
   (`make run` creates `demo` / `demo-credits-2026`.)
2. `POST /api/v1/auth/token/` with `{"username": ..., "password": ...}` answers
   `{"access": "...", "refresh": "..."}`. The access token lasts 30 minutes and the refresh token 7 days (by default).
3. Send `Authorization: Bearer <access>` with every call. Here: press **Authorize**, paste the
   access token (without the word Bearer), and every "Try it out" sends it.
4. When a call answers 401 `token_not_valid`, `POST /api/v1/auth/token/refresh/` with
   `{"refresh": "..."}` gives a new access token; when that fails too, sign in again.
   The refresh answer also carries a new refresh token: keep it, the one sent is now revoked.
5. `POST /api/v1/auth/logout/` with `{"refresh": "..."}` revokes the refresh token (200).

## Charges

The four `/profile/{username}` views cost credits, charged only after they succeed. A 200 carries
`X-Credits-Charged` and `X-Credits-Remaining`; a 402 `insufficient_credits` carries
`X-Credits-Required`, `X-Credits-Available` and `X-Credits-Needed` (the same numbers are in the body).
Ask `GET /api/v1/api/credits/can-perform/{action_type}` first to show the price.
"""

SPECTACULAR_SETTINGS = {
    "TITLE": "Credits platform API",
    "DESCRIPTION": API_DESCRIPTION,
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "AUTHENTICATION_WHITELIST": ["wallets.authentication.JWTAuthenticationWithTeam"],
    "ENUM_NAME_OVERRIDES": {
        "TeamRoleEnum": "wallets.models.TeamRole",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.openapi.add_error_responses",
        "notifications.openapi.add_event_components",
    ],
}

# Celery: tasks go to a broker and run in a worker; beat schedules the periodic ones (ops/schedule.py).
# `make run` uses kombu's filesystem transport under CREDITS_DATA_DIR unless CELERY_BROKER_URL is set.
# Idempotency-Key (common/idempotency.py): how long a key is remembered, and how long a first request
# may run before a retry with its key counts it as dead and runs again.
IDEMPOTENCY_KEY_TTL_HOURS = int(os.environ.get("IDEMPOTENCY_KEY_TTL_HOURS", "24"))
IDEMPOTENCY_IN_FLIGHT_SECONDS = int(os.environ.get("IDEMPOTENCY_IN_FLIGHT_SECONDS", "300"))

CREDITS_DATA_DIR = Path(os.environ.get("CREDITS_DATA_DIR", BASE_DIR / ".data"))
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_folder = CREDITS_DATA_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_folder / "queue"),
        "data_folder_out": str(_broker_folder / "queue"),
        "processed_folder": str(_broker_folder / "processed"),
        "control_folder": str(_broker_folder / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_HEARTBEAT_SECONDS = float(os.environ.get("CELERY_BEAT_HEARTBEAT_SECONDS", "15"))

# Credits
CREDITS_HOLD_TTL_SECONDS = int(os.environ.get("CREDITS_HOLD_TTL_SECONDS", "120"))
CREDITS_DEFAULT_ACCESS_WINDOW_HOURS = 24
# A gated request served later than this after its reservation is not charged (504): well inside
# the hold TTL, so the sweeper never releases a hold a request is still about to capture.
CREDITS_REQUEST_DEADLINE_SECONDS = float(os.environ.get("CREDITS_REQUEST_DEADLINE_SECONDS", "20"))
# Purchased credits never expire unless this is set (days from the purchase).
PURCHASED_CREDITS_EXPIRE_DAYS = int(os.environ.get("PURCHASED_CREDITS_EXPIRE_DAYS", "0")) or None
# The monthly reset runs this many batches at once, each on its own database connection (about one
# per core the database may use for it).
CREDITS_RESET_WORKERS = max(1, int(os.environ.get("CREDITS_RESET_WORKERS", "2")))

# Instagram demo provider: sleep this long per call, to try timeouts and concurrency locally.
INSTAGRAM_DEMO_LATENCY_MS = int(os.environ.get("INSTAGRAM_DEMO_LATENCY_MS", "0"))

# Instagram data provider
INSTAGRAM_PROVIDER = os.environ.get("INSTAGRAM_PROVIDER", "demo")
INSTAGRAM_GRAPH_BASE_URL = os.environ.get("INSTAGRAM_GRAPH_BASE_URL", "https://graph.facebook.com/v21.0")
INSTAGRAM_ACCESS_TOKEN = os.environ.get("INSTAGRAM_ACCESS_TOKEN", "")
INSTAGRAM_BUSINESS_ACCOUNT_ID = os.environ.get("INSTAGRAM_BUSINESS_ACCOUNT_ID", "")
INSTAGRAM_TIMEOUT_SECONDS = float(os.environ.get("INSTAGRAM_TIMEOUT_SECONDS", "5"))  # one deadline per request
INSTAGRAM_MAX_RESPONSE_BYTES = int(os.environ.get("INSTAGRAM_MAX_RESPONSE_BYTES", str(2 * 1024 * 1024)))
INSTAGRAM_CACHE_SECONDS = int(os.environ.get("INSTAGRAM_CACHE_SECONDS", "300"))

# Stripe Checkout for top-ups; without a secret key checkout answers 503 payments_not_configured.
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
# A webhook signed longer ago (or further ahead) than this is a replay and is refused.
STRIPE_WEBHOOK_TOLERANCE_SECONDS = int(os.environ.get("STRIPE_WEBHOOK_TOLERANCE_SECONDS", "300"))
# Every call to Stripe's API gives up after this long (the SDK's own default is 80 s).
STRIPE_TIMEOUT_SECONDS = float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "10"))
# A recharge still in flight this long after its last change is reconciled by asking Stripe.
AUTO_RECHARGE_RECONCILE_AFTER_SECONDS = int(os.environ.get("AUTO_RECHARGE_RECONCILE_AFTER_SECONDS", "300"))
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "https://api.stripe.com")
CHECKOUT_SUCCESS_URL = os.environ.get("CHECKOUT_SUCCESS_URL", "http://127.0.0.1:8000/top-up/success")
CHECKOUT_CANCEL_URL = os.environ.get("CHECKOUT_CANCEL_URL", "http://127.0.0.1:8000/top-up/cancel")
# Where emails send people to act (e.g. update the card of a failed auto-recharge).
CREDITS_APP_URL = os.environ.get("CREDITS_APP_URL", "http://127.0.0.1:8000/app/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "common.request_logging.RequestIdFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The embedded database's bookkeeping ("exiting ... remaining pids") at every command's exit.
        "pgserver": {"level": "WARNING"},
    },
}

# Notifications (notifications/): low-balance default, outgoing webhooks, email.
CREDITS_LOW_BALANCE_DEFAULT = int(os.environ.get("CREDITS_LOW_BALANCE_DEFAULT", "20"))
# Webhook targets in private, loopback and link-local ranges are refused unless this is on (make run: on).
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "5"))
# Deliveries are retried with backoff until this long after the event; then the endpoint is disabled.
WEBHOOK_RETRY_WINDOW_HOURS = float(os.environ.get("WEBHOOK_RETRY_WINDOW_HOURS", "24"))
# Deliveries are claimed in batches under a lease (a batch is sent within it, or what is left is
# released), and sent to each endpoint over this many kept-alive connections at once.
WEBHOOK_BATCH_SIZE = int(os.environ.get("WEBHOOK_BATCH_SIZE", "500"))
WEBHOOK_LEASE_SECONDS = float(os.environ.get("WEBHOOK_LEASE_SECONDS", "60"))
WEBHOOK_CONNECTIONS_PER_ENDPOINT = int(os.environ.get("WEBHOOK_CONNECTIONS_PER_ENDPOINT", "2"))
# How long one run of beat's sweep keeps fanning out and delivering before it hands over to the next.
WEBHOOK_SWEEP_SECONDS = float(os.environ.get("WEBHOOK_SWEEP_SECONDS", "55"))
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
# The SMTP server's deadline (Django waits forever without one); a failed email is logged, not retried.
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT_SECONDS", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "credits@localhost")

# Hardening: bounds on client input, deadlines on every dependency (README, "Limits and deadlines").
REQUEST_MAX_BODY_BYTES = int(os.environ.get("REQUEST_MAX_BODY_BYTES", str(1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BODY_BYTES
REQUEST_MAX_QUERY_BYTES = int(os.environ.get("REQUEST_MAX_QUERY_BYTES", "4096"))
REQUEST_MAX_HEADER_BYTES = int(os.environ.get("REQUEST_MAX_HEADER_BYTES", "8192"))
JSON_MAX_DEPTH = int(os.environ.get("JSON_MAX_DEPTH", "32"))
RETRY_AFTER_SECONDS = int(os.environ.get("RETRY_AFTER_SECONDS", "5"))
_after_log = MIDDLEWARE.index("common.request_logging.RequestLogMiddleware") + 1
MIDDLEWARE.insert(_after_log, "ops.metrics.MetricsMiddleware")  # counts every answer, refusals included
# After CORS, so a browser can read a refusal; before everything that reads the request.
_cors = "corsheaders.middleware.CorsMiddleware"
MIDDLEWARE.insert(MIDDLEWARE.index(_cors) + 1 if _cors in MIDDLEWARE else _after_log + 1,
                  "common.request_limits.RequestLimitsMiddleware")
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")  # GET /metrics: staff, or `Authorization: Bearer <token>`

DB_CONNECT_TIMEOUT_SECONDS = int(os.environ.get("DB_CONNECT_TIMEOUT_SECONDS", "10"))
DB_STATEMENT_TIMEOUT_MS = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS", "10000"))
DB_LOCK_TIMEOUT_MS = int(os.environ.get("DB_LOCK_TIMEOUT_MS", "5000"))
DB_JOB_STATEMENT_TIMEOUT_MS = int(os.environ.get("DB_JOB_STATEMENT_TIMEOUT_MS", "600000"))
DB_JOB_LOCK_TIMEOUT_MS = int(os.environ.get("DB_JOB_LOCK_TIMEOUT_MS", "60000"))


# The gate's ask and capture (`common.db_calls`) are prepared once a connection has run them this many
# times; every other statement is bound on the client and never prepared. "none": prepare nothing
# (PgBouncer in transaction mode before 1.21, which cannot keep a prepared statement).
DB_PREPARE_THRESHOLD = os.environ.get("DB_PREPARE_THRESHOLD", "2")


def with_db_options(database: dict) -> dict:
    """PostgreSQL: bounded connect, statement and lock waits for every connection (0 turns one off;
    behind PgBouncer in transaction mode, which refuses startup options, set them on the role), and
    the prepared statements of `common.db_calls`."""
    if "postgresql" in database.get("ENGINE", ""):
        options = database.setdefault("OPTIONS", {})
        options["prepare_threshold"] = None if DB_PREPARE_THRESHOLD.lower() == "none" else int(DB_PREPARE_THRESHOLD)
        options.setdefault("connect_timeout", DB_CONNECT_TIMEOUT_SECONDS)
        startup = f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS} -c lock_timeout={DB_LOCK_TIMEOUT_MS}"
        options["options"] = f"{options.get('options', '')} {startup}".strip()
    return database


with_db_options(DATABASES["default"])

# The broker: publishing never waits long on a Redis that is down (a request publishes only when it
# wrote an outbox event; notifications.enqueue logs a failure and beat's sweep delivers the event).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS * 4,
        "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS * 10,
    }
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
