"""The counters every layer increments (served at /metrics by ops/metrics.py).

Counters live in each process; under gunicorn with several workers set PROMETHEUS_MULTIPROC_DIR
so a scrape sums them. The last monthly reset's figures go to the cache, since the reset runs in
the Celery worker, not in the process being scraped.
"""

from django.core.cache import cache
from prometheus_client import Counter

REQUESTS = Counter("credits_http_requests", "HTTP answers by method and status.", ["method", "status"])
GATE_OUTCOMES = Counter(
    "credits_gate_outcomes",
    "Gated requests by outcome: charged, not_charged (free or paid already), abandoned (failed), refused (402).",
    ["action_type", "outcome"],
)
CREDITS_CHARGED = Counter("credits_charged", "Credits captured by gated requests.", ["action_type"])
DEPENDENCY_ERRORS = Counter("credits_dependency_errors", "Requests answered 503 because a dependency failed.", ["dependency"])
CACHE_FAILOVERS = Counter("credits_cache_failovers", "Times the cache fell back to process memory (Redis down or hung).")
LAST_RESET_KEY = "metrics:last_monthly_reset"


def record_reset(report) -> None:
    """Kept in the cache (shared by every process when Redis is configured)."""
    cache.set(LAST_RESET_KEY, {"seconds": report.seconds, "wallets": report.wallets_reset}, None)
