"""Prometheus metrics, served at /metrics to staff or to a bearer of METRICS_TOKEN.

The counters are in common/metrics.py (every layer increments them). Under gunicorn with several
workers set PROMETHEUS_MULTIPROC_DIR (an empty directory shared by the workers) so a scrape sums
them. Holds in flight and stale are read from the database at scrape time, and the last monthly
reset's duration from the cache (the reset runs in the Celery worker, not in the process being
scraped), so both are right whichever process answers.
"""

import hmac
import os

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import REGISTRY, GaugeMetricFamily

from common.metrics import DEPENDENCY_ERRORS, LAST_RESET_KEY, REQUESTS

class DatabaseCollector:
    """Gauges read at scrape time: holds in flight and stale, and the last reset's duration."""

    def describe(self):
        """The names, without reading anything (registering a collector calls this at import)."""
        names = ["credits_database_up", "credits_holds_in_flight", "credits_holds_stale",
                 "credits_monthly_reset_seconds", "credits_monthly_reset_wallets"]
        return [GaugeMetricFamily(name, name) for name in names]

    def collect(self):
        from wallets.models import Hold, HoldStatus  # apps are loaded by the time anyone scrapes

        held = Hold.objects.filter(status=HoldStatus.HELD)
        up = GaugeMetricFamily("credits_database_up", "1 if the database answered this scrape.")
        try:
            counts = (held.count(), held.filter(expires_at__lt=timezone.now()).count())
        except DatabaseError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        in_flight = GaugeMetricFamily("credits_holds_in_flight", "Holds reserved and not yet settled.")
        in_flight.add_metric([], counts[0])
        stale = GaugeMetricFamily("credits_holds_stale", "Held holds past their expiry (the sweeper is behind).")
        stale.add_metric([], counts[1])
        yield in_flight
        yield stale
        last = cache.get(LAST_RESET_KEY)
        if last:
            duration = GaugeMetricFamily("credits_monthly_reset_seconds", "Duration of the last monthly reset.")
            duration.add_metric([], float(last["seconds"]))
            wallets = GaugeMetricFamily("credits_monthly_reset_wallets", "Wallets reset by the last monthly reset.")
            wallets.add_metric([], float(last["wallets"]))
            yield duration
            yield wallets


def registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)
        combined.register(DatabaseCollector())
        return combined
    return REGISTRY


REGISTRY.register(DatabaseCollector())


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.is_staff
    from rest_framework_simplejwt.authentication import JWTAuthentication
    from rest_framework_simplejwt.exceptions import InvalidToken, AuthenticationFailed

    try:
        authenticated = JWTAuthentication().authenticate(request)
    except (InvalidToken, AuthenticationFailed):
        return False
    return bool(authenticated and authenticated[0].is_staff)


def metrics_view(request):
    if not _allowed(request):
        return JsonResponse({"detail": "Staff or the metrics token only.", "code": "permission_denied"}, status=403)
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        REQUESTS.labels(request.method if request.method in KNOWN_METHODS else "other", str(response.status_code)).inc()
        if response.status_code == 503 and response.get("Retry-After"):
            DEPENDENCY_ERRORS.labels("database").inc()
        return response


KNOWN_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
