"""Bounds on what a client can send, checked before any view, parser or database sees the request.

Each refusal is a JSON error with a stable code:
- 413 `request_too_large`: a body over REQUEST_MAX_BODY_BYTES (by Content-Length, before reading it);
- 400 `query_too_large` / `header_too_large`: a query string over REQUEST_MAX_QUERY_BYTES, or a
  header over REQUEST_MAX_HEADER_BYTES (or all of them over 4 times that);
- 400 `invalid_path` / `invalid_query`: control characters in the decoded path, or a NUL in the
  decoded query. PostgreSQL cannot store a NUL in text, so `pricing/%00` used to reach the
  database and fail there with a 500; no route or resource name contains a control character.
"""

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import JsonResponse

CONTROL = {chr(code) for code in range(32)} | {"\x7f"}


def refusal(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def _content_length(request) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


def check_request(request) -> JsonResponse | None:
    """The refusal for a request outside the bounds, or None."""
    length = _content_length(request)
    if length is None or length < 0:
        return refusal(400, "invalid_content_length", "Content-Length must be a whole number of bytes.")
    if length > settings.REQUEST_MAX_BODY_BYTES:
        return refusal(
            413, "request_too_large", f"The request body is over {settings.REQUEST_MAX_BODY_BYTES} bytes."
        )
    if len(request.META.get("QUERY_STRING", "")) > settings.REQUEST_MAX_QUERY_BYTES:
        return refusal(
            400, "query_too_large", f"The query string is over {settings.REQUEST_MAX_QUERY_BYTES} bytes."
        )
    header_limit, total = settings.REQUEST_MAX_HEADER_BYTES, 0
    for name, value in request.META.items():
        if name.startswith("HTTP_") and isinstance(value, str):
            total += len(name) + len(value)
            if len(value) > header_limit or total > 4 * header_limit:
                return refusal(400, "header_too_large", f"A request header is over {header_limit} bytes.")
    if CONTROL.intersection(request.path_info):
        return refusal(400, "invalid_path", "The path contains control characters.")
    try:
        params = list(request.GET.lists())
    except TooManyFieldsSent:
        return refusal(400, "query_too_large", f"The query string has over {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields.")
    if any("\x00" in key or any("\x00" in value for value in values) for key, values in params):
        return refusal(400, "invalid_query", "The query string contains a NUL character.")
    return None


class RequestLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return check_request(request) or self.get_response(request)
