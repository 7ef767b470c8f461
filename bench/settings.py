"""Production-like settings for HTTP benchmarks: DEBUG off, PostgreSQL, no throttling, bench URLs."""

from credits_platform.settings.base import *  # noqa: F401,F403
from credits_platform.settings.base import REST_FRAMEWORK

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.urls"
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"gated": "10000000/min", "auth": "10000000/min"},
                  "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}
LOGGING = {"version": 1, "disable_existing_loggers": True, "root": {"level": "ERROR", "handlers": []}}
