"""JSON bodies for errors raised outside DRF views (unknown URLs, crashes in middleware)."""

import sys

from django.http import JsonResponse

from .unavailable import is_database_unavailable, log_unavailable, retry_after, unavailable_body


def bad_request(request, exception=None):
    """Django's own refusals (a disallowed host, too many fields, a suspicious operation)."""
    return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)


def not_found(request, exception=None):
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


def server_error(request):
    # Django calls this inside its `except` block, so the exception in flight is still visible.
    exc = sys.exc_info()[1]
    if exc is not None and is_database_unavailable(exc):
        log_unavailable(exc, request.path)
        response = JsonResponse(unavailable_body(), status=503)
        response["Retry-After"] = retry_after()
        return response
    return JsonResponse({"detail": "Internal server error.", "code": "server_error"}, status=500)
